package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/session"
	"github.com/jackc/pgx/v5"
)

// SessionStore is a [session.Store] in the table gatehouse_sessions, with
// the per-user index on (user_id, created_at, id). Times are kept at
// PostgreSQL's microsecond precision. Expired rows stay until
// [SessionStore.DeleteExpired] removes them; every method treats them as
// the interface requires meanwhile.
//
// It is safe for concurrent use.
type SessionStore struct {
	db *DB
}

var _ session.Store = (*SessionStore)(nil)

// Sessions returns the session store.
func (db *DB) Sessions() *SessionStore { return &SessionStore{db: db} }

const sessionColumns = `id, user_id, username, email, roles, scopes, mfa_verified, mfa_verified_at, mfa_methods,
auth_method, client_ip, user_agent, created_at, last_seen_at, expires_at, absolute_expires_at, data`

// Create implements [session.Store.Create].
//
// Isolation: one READ COMMITTED transaction that first takes a
// transaction-level advisory lock on the user
// (pg_advisory_xact_lock(hashtextextended(user_id))). Every Create for one
// user therefore runs alone, from any number of instances, even for a user
// with no rows yet (where SELECT ... FOR UPDATE would lock nothing): the
// count of live sessions it reads cannot change before it commits. It then
// inserts the record (ON CONFLICT DO NOTHING: a held ID is ErrExists), checks
// and locks the replaced session (SELECT ... FOR UPDATE, so a concurrent
// Delete or renewal of it waits or is seen), evicts or refuses at the cap,
// and deletes the replaced session; any failure rolls back everything. Two
// users whose 64-bit lock keys collide merely queue behind each other.
func (s *SessionStore) Create(ctx context.Context, rec session.Record, opts session.CreateOptions) ([]session.Record, error) {
	if rec.ID == "" || rec.UserID == "" {
		return nil, errors.New("postgres: session record without ID or UserID")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var evicted []session.Record
	err := pgx.BeginFunc(ctx, s.db.pool, func(tx pgx.Tx) error {
		evicted = nil
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('gatehouse_session:' || $1, 0))`, rec.UserID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO gatehouse_sessions (`+sessionColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
ON CONFLICT (id) DO NOTHING`, sessionArgs(rec)...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return session.ErrExists
		}
		if opts.Replace != "" {
			var owner string
			var expires time.Time
			err := tx.QueryRow(ctx, `SELECT user_id, expires_at FROM gatehouse_sessions WHERE id = $1 FOR UPDATE`, opts.Replace).Scan(&owner, &expires)
			if errors.Is(err, pgx.ErrNoRows) || (err == nil && (owner != rec.UserID || !opts.Now.Before(expires))) {
				return session.ErrNotFound
			}
			if err != nil {
				return err
			}
		}
		if opts.MaxPerUser > 0 {
			rows, err := tx.Query(ctx, `SELECT id FROM gatehouse_sessions
WHERE user_id = $1 AND expires_at > $2 AND id <> $3 AND id <> $4
ORDER BY created_at, id`, rec.UserID, opts.Now, rec.ID, opts.Replace)
			if err != nil {
				return err
			}
			live, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			if excess := len(live) - opts.MaxPerUser + 1; excess > 0 {
				if opts.Refuse {
					return session.ErrLimitReached
				}
				rows, err := tx.Query(ctx, `DELETE FROM gatehouse_sessions WHERE id = ANY($1) RETURNING `+sessionColumns, live[:excess])
				if err != nil {
					return err
				}
				evicted, err = pgx.CollectRows(rows, scanSession)
				if err != nil {
					return err
				}
				slices.SortFunc(evicted, func(a, b session.Record) int {
					return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
				})
			}
		}
		if opts.Replace != "" {
			if _, err := tx.Exec(ctx, `DELETE FROM gatehouse_sessions WHERE id = $1`, opts.Replace); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, session.ErrExists) || errors.Is(err, session.ErrNotFound) || errors.Is(err, session.ErrLimitReached) {
			return nil, err
		}
		return nil, fmt.Errorf("postgres: create session: %w", err)
	}
	return evicted, nil
}

// Get implements [session.Store.Get]: one read by primary key. It may
// return an expired record that DeleteExpired has not removed yet.
func (s *SessionStore) Get(ctx context.Context, id string) (session.Record, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT `+sessionColumns+` FROM gatehouse_sessions WHERE id = $1`, id)
	if err != nil {
		return session.Record{}, fmt.Errorf("postgres: get session: %w", err)
	}
	rec, err := pgx.CollectExactlyOneRow(rows, scanSession)
	if errors.Is(err, pgx.ErrNoRows) {
		return session.Record{}, session.ErrNotFound
	}
	if err != nil {
		return session.Record{}, fmt.Errorf("postgres: get session: %w", err)
	}
	return rec, nil
}

// Update implements [session.Store.Update] as one UPDATE statement that
// matches only a live row. It locks the row it changes, so a concurrent
// Delete either runs after it or leaves nothing for it to match: a deleted
// session is never recreated. Deadlines move forward only (GREATEST), capped
// at absolute_expires_at.
func (s *SessionStore) Update(ctx context.Context, id string, u session.Update) error {
	tag, err := s.db.pool.Exec(ctx, `UPDATE gatehouse_sessions SET
	last_seen_at = GREATEST(last_seen_at, $3),
	expires_at = CASE WHEN $4::timestamptz IS NULL THEN expires_at
		ELSE GREATEST(expires_at, LEAST($4, absolute_expires_at)) END,
	data = CASE WHEN $5 THEN $6 ELSE data END
WHERE id = $1 AND expires_at > $2`, id, u.Now, nullTime(u.LastSeenAt), nullTime(u.ExpiresAt), u.ReplaceData, u.Data)
	if err != nil {
		return fmt.Errorf("postgres: update session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return session.ErrNotFound
	}
	return nil
}

// Delete implements [session.Store.Delete]: one DELETE ... RETURNING, on the
// primary key or on the per-user index.
func (s *SessionStore) Delete(ctx context.Context, q session.Query) ([]session.Record, error) {
	var rows pgx.Rows
	var err error
	switch {
	case q.ID != "" && q.UserID != "":
		rows, err = s.db.pool.Query(ctx, `DELETE FROM gatehouse_sessions WHERE id = $1 AND user_id = $2 RETURNING `+sessionColumns, q.ID, q.UserID)
	case q.ID != "":
		rows, err = s.db.pool.Query(ctx, `DELETE FROM gatehouse_sessions WHERE id = $1 RETURNING `+sessionColumns, q.ID)
	case q.UserID != "":
		rows, err = s.db.pool.Query(ctx, `DELETE FROM gatehouse_sessions WHERE user_id = $1 AND id <> $2 RETURNING `+sessionColumns, q.UserID, q.Except)
	default:
		return nil, errors.New("postgres: session delete query without ID or UserID")
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: delete sessions: %w", err)
	}
	recs, err := pgx.CollectRows(rows, scanSession)
	if err != nil {
		return nil, fmt.Errorf("postgres: delete sessions: %w", err)
	}
	return recs, nil
}

// List implements [session.Store.List]: one read on the per-user index.
func (s *SessionStore) List(ctx context.Context, userID string, now time.Time) ([]session.Record, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT `+sessionColumns+` FROM gatehouse_sessions WHERE user_id = $1 AND expires_at > $2`, userID, now)
	if err != nil {
		return nil, fmt.Errorf("postgres: list sessions: %w", err)
	}
	recs, err := pgx.CollectRows(rows, scanSession)
	if err != nil {
		return nil, fmt.Errorf("postgres: list sessions: %w", err)
	}
	if recs == nil {
		recs = []session.Record{}
	}
	return recs, nil
}

// DeleteExpired deletes the sessions expired at now and returns them, for
// example to emit session_expired events. Hosts call it periodically. It is
// one DELETE on the expires_at index; a session that a concurrent Update
// extends is re-checked after that Update commits, and kept.
func (s *SessionStore) DeleteExpired(ctx context.Context, now time.Time) ([]session.Record, error) {
	rows, err := s.db.pool.Query(ctx, `DELETE FROM gatehouse_sessions WHERE expires_at <= $1 RETURNING `+sessionColumns, now)
	if err != nil {
		return nil, fmt.Errorf("postgres: delete expired sessions: %w", err)
	}
	recs, err := pgx.CollectRows(rows, scanSession)
	if err != nil {
		return nil, fmt.Errorf("postgres: delete expired sessions: %w", err)
	}
	return recs, nil
}

// sessionArgs returns rec's values in the order of sessionColumns.
func sessionArgs(rec session.Record) []any {
	roles, methods := rec.Roles, rec.MFA.Methods
	if roles == nil {
		roles = []string{}
	}
	if methods == nil {
		methods = []string{}
	}
	var scopes *[]string // nil: SQL NULL, not narrowed
	if rec.Scopes != nil {
		scopes = &rec.Scopes
	}
	return []any{rec.ID, rec.UserID, rec.Username, rec.Email, roles, scopes, rec.MFA.Verified,
		nullTime(rec.MFA.VerifiedAt), methods, string(rec.AuthMethod), rec.ClientIP, rec.UserAgent,
		rec.CreatedAt, rec.LastSeenAt, rec.ExpiresAt, nullTime(rec.AbsoluteExpiresAt), rec.Data}
}

// scanSession reads one row of sessionColumns.
func scanSession(row pgx.CollectableRow) (session.Record, error) {
	var rec session.Record
	var scopes *[]string
	var method string
	var verifiedAt, absolute *time.Time
	err := row.Scan(&rec.ID, &rec.UserID, &rec.Username, &rec.Email, &rec.Roles, &scopes, &rec.MFA.Verified,
		&verifiedAt, &rec.MFA.Methods, &method, &rec.ClientIP, &rec.UserAgent,
		&rec.CreatedAt, &rec.LastSeenAt, &rec.ExpiresAt, &absolute, &rec.Data)
	if err != nil {
		return session.Record{}, err
	}
	if scopes != nil {
		rec.Scopes = *scopes
		if rec.Scopes == nil {
			rec.Scopes = []string{}
		}
	}
	rec.AuthMethod = auth.Method(method)
	rec.MFA.VerifiedAt = fromNull(verifiedAt)
	rec.AbsoluteExpiresAt = fromNull(absolute)
	rec.CreatedAt, rec.LastSeenAt, rec.ExpiresAt = rec.CreatedAt.UTC(), rec.LastSeenAt.UTC(), rec.ExpiresAt.UTC()
	return rec, nil
}
