package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/session"
)

// SessionStore is a [session.Store] in the table gatehouse_sessions, with
// the per-user index on (user_id, created_at, id). Times are kept to the
// microsecond. Expired rows stay until [SessionStore.DeleteExpired] removes
// them; every method treats them as the interface requires meanwhile.
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
// Isolation: one immediate transaction on the writer: SQLite's write lock is
// held from BEGIN, so the insert, the check of the replaced session, the
// count of live sessions and the evictions see and leave a state no other
// writer, in this process or another, can change in between. Any failure
// rolls back everything.
func (s *SessionStore) Create(ctx context.Context, rec session.Record, opts session.CreateOptions) ([]session.Record, error) {
	if rec.ID == "" || rec.UserID == "" {
		return nil, errors.New("sqlite: session record without ID or UserID")
	}
	args, err := sessionArgs(rec)
	if err != nil {
		return nil, fmt.Errorf("sqlite: create session: %w", err)
	}
	now := opts.Now.UnixMicro()
	var evicted []session.Record
	err = s.db.writeTx(ctx, func(tx *sql.Tx) error {
		evicted = nil
		res, err := tx.ExecContext(ctx, `INSERT INTO gatehouse_sessions (`+sessionColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO NOTHING`, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return session.ErrExists
		}
		if opts.Replace != "" {
			var owner string
			var expires int64
			err := tx.QueryRowContext(ctx, `SELECT user_id, expires_at FROM gatehouse_sessions WHERE id = ?`, opts.Replace).Scan(&owner, &expires)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && (owner != rec.UserID || now >= expires)) {
				return session.ErrNotFound
			}
			if err != nil {
				return err
			}
		}
		if opts.MaxPerUser > 0 {
			live, err := querySessions(ctx, tx, `SELECT `+sessionColumns+` FROM gatehouse_sessions
WHERE user_id = ? AND expires_at > ? AND id <> ? AND id <> ?
ORDER BY created_at, id`, rec.UserID, now, rec.ID, opts.Replace)
			if err != nil {
				return err
			}
			if excess := len(live) - opts.MaxPerUser + 1; excess > 0 {
				if opts.Refuse {
					return session.ErrLimitReached
				}
				evicted = live[:excess]
				for _, r := range evicted {
					if _, err := tx.ExecContext(ctx, `DELETE FROM gatehouse_sessions WHERE id = ?`, r.ID); err != nil {
						return err
					}
				}
			}
		}
		if opts.Replace != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM gatehouse_sessions WHERE id = ?`, opts.Replace); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, session.ErrExists) || errors.Is(err, session.ErrNotFound) || errors.Is(err, session.ErrLimitReached) {
			return nil, err
		}
		return nil, fmt.Errorf("sqlite: create session: %w", err)
	}
	return evicted, nil
}

// Get implements [session.Store.Get]: one read by primary key, on the read
// pool. It may return an expired record that DeleteExpired has not removed
// yet.
func (s *SessionStore) Get(ctx context.Context, id string) (session.Record, error) {
	recs, err := querySessions(ctx, s.db.r, `SELECT `+sessionColumns+` FROM gatehouse_sessions WHERE id = ?`, id)
	if err != nil {
		return session.Record{}, fmt.Errorf("sqlite: get session: %w", err)
	}
	if len(recs) == 0 {
		return session.Record{}, session.ErrNotFound
	}
	return recs[0], nil
}

// Update implements [session.Store.Update] as one UPDATE statement on the
// writer that matches only a live row, so a deleted session is never
// recreated. Deadlines move forward only, capped at absolute_expires_at.
func (s *SessionStore) Update(ctx context.Context, id string, u session.Update) error {
	replace := 0
	if u.ReplaceData {
		replace = 1
	}
	res, err := s.db.w.ExecContext(ctx, `UPDATE gatehouse_sessions SET
	last_seen_at = CASE WHEN ?3 IS NOT NULL AND ?3 > last_seen_at THEN ?3 ELSE last_seen_at END,
	expires_at = CASE WHEN ?4 IS NULL THEN expires_at
		ELSE max(expires_at, CASE WHEN absolute_expires_at IS NOT NULL AND ?4 > absolute_expires_at THEN absolute_expires_at ELSE ?4 END) END,
	data = CASE WHEN ?5 THEN ?6 ELSE data END
WHERE id = ?1 AND expires_at > ?2`, id, u.Now.UnixMicro(), nullMicro(u.LastSeenAt), nullMicro(u.ExpiresAt), replace, u.Data)
	if err != nil {
		return fmt.Errorf("sqlite: update session: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: update session: %w", err)
	}
	if n == 0 {
		return session.ErrNotFound
	}
	return nil
}

// Delete implements [session.Store.Delete]: one DELETE ... RETURNING on the
// writer, on the primary key or on the per-user index.
func (s *SessionStore) Delete(ctx context.Context, q session.Query) ([]session.Record, error) {
	var recs []session.Record
	var err error
	switch {
	case q.ID != "" && q.UserID != "":
		recs, err = querySessions(ctx, s.db.w, `DELETE FROM gatehouse_sessions WHERE id = ? AND user_id = ? RETURNING `+sessionColumns, q.ID, q.UserID)
	case q.ID != "":
		recs, err = querySessions(ctx, s.db.w, `DELETE FROM gatehouse_sessions WHERE id = ? RETURNING `+sessionColumns, q.ID)
	case q.UserID != "":
		recs, err = querySessions(ctx, s.db.w, `DELETE FROM gatehouse_sessions WHERE user_id = ? AND id <> ? RETURNING `+sessionColumns, q.UserID, q.Except)
	default:
		return nil, errors.New("sqlite: session delete query without ID or UserID")
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: delete sessions: %w", err)
	}
	return recs, nil
}

// List implements [session.Store.List]: one read on the per-user index.
func (s *SessionStore) List(ctx context.Context, userID string, now time.Time) ([]session.Record, error) {
	recs, err := querySessions(ctx, s.db.r, `SELECT `+sessionColumns+` FROM gatehouse_sessions WHERE user_id = ? AND expires_at > ?`, userID, now.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("sqlite: list sessions: %w", err)
	}
	if recs == nil {
		recs = []session.Record{}
	}
	return recs, nil
}

// DeleteExpired deletes the sessions expired at now and returns them, for
// example to emit session_expired events. Hosts call it periodically. It is
// one DELETE on the expires_at index.
func (s *SessionStore) DeleteExpired(ctx context.Context, now time.Time) ([]session.Record, error) {
	recs, err := querySessions(ctx, s.db.w, `DELETE FROM gatehouse_sessions WHERE expires_at <= ? RETURNING `+sessionColumns, now.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("sqlite: delete expired sessions: %w", err)
	}
	return recs, nil
}

// rowsQueryer is a *sql.DB or a *sql.Tx.
type rowsQueryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// querySessions runs a statement returning sessionColumns and reads every
// row.
func querySessions(ctx context.Context, q rowsQueryer, query string, args ...any) ([]session.Record, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []session.Record
	for rows.Next() {
		rec, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}

// sessionArgs returns rec's values in the order of sessionColumns.
func sessionArgs(rec session.Record) ([]any, error) {
	roles, err := jsonList(rec.Roles)
	if err != nil {
		return nil, err
	}
	methods, err := jsonList(rec.MFA.Methods)
	if err != nil {
		return nil, err
	}
	var scopes sql.NullString // NULL: not narrowed
	if rec.Scopes != nil {
		if scopes.String, err = jsonList(rec.Scopes); err != nil {
			return nil, err
		}
		scopes.Valid = true
	}
	verified := 0
	if rec.MFA.Verified {
		verified = 1
	}
	return []any{rec.ID, rec.UserID, rec.Username, rec.Email, roles, scopes, verified,
		nullMicro(rec.MFA.VerifiedAt), methods, string(rec.AuthMethod), rec.ClientIP, rec.UserAgent,
		rec.CreatedAt.UnixMicro(), rec.LastSeenAt.UnixMicro(), rec.ExpiresAt.UnixMicro(),
		nullMicro(rec.AbsoluteExpiresAt), rec.Data}, nil
}

// jsonList encodes a list as a JSON array, nil as [].
func jsonList(l []string) (string, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal(l)
	return string(b), err
}

// scanSession reads one row of sessionColumns.
func scanSession(row scanner) (session.Record, error) {
	var rec session.Record
	var roles, methods, method string
	var scopes sql.NullString
	var verified int
	var created, lastSeen, expires int64
	var verifiedAt, absolute sql.NullInt64
	err := row.Scan(&rec.ID, &rec.UserID, &rec.Username, &rec.Email, &roles, &scopes, &verified,
		&verifiedAt, &methods, &method, &rec.ClientIP, &rec.UserAgent,
		&created, &lastSeen, &expires, &absolute, &rec.Data)
	if err != nil {
		return session.Record{}, err
	}
	if err := errors.Join(
		json.NewDecoder(strings.NewReader(roles)).Decode(&rec.Roles),
		json.NewDecoder(strings.NewReader(methods)).Decode(&rec.MFA.Methods),
	); err != nil {
		return session.Record{}, fmt.Errorf("session %s: %w", rec.ID, err)
	}
	if scopes.Valid {
		rec.Scopes = []string{}
		if err := json.Unmarshal([]byte(scopes.String), &rec.Scopes); err != nil {
			return session.Record{}, fmt.Errorf("session %s: %w", rec.ID, err)
		}
	}
	rec.MFA.Verified = verified != 0
	rec.MFA.VerifiedAt = fromMicro(verifiedAt)
	rec.AuthMethod = auth.Method(method)
	rec.CreatedAt = time.UnixMicro(created).UTC()
	rec.LastSeenAt = time.UnixMicro(lastSeen).UTC()
	rec.ExpiresAt = time.UnixMicro(expires).UTC()
	rec.AbsoluteExpiresAt = fromMicro(absolute)
	return rec, nil
}
