package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/basic"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// UserStore is a [basic.UserStore] and [basic.ResetTokenStore] in the tables
// gatehouse_users and gatehouse_reset_tokens. Usernames and emails are
// unique under [basic.Fold], enforced by unique indexes on folded columns
// computed in Go. Times are kept at PostgreSQL's microsecond precision.
// Reset tokens are stored as the hashes basic hands over; at most
// [MaxResetTokensPerUser] are kept per user ID.
//
// It is safe for concurrent use.
type UserStore struct {
	db *DB
}

var (
	_ basic.UserStore       = (*UserStore)(nil)
	_ basic.ResetTokenStore = (*UserStore)(nil)
)

// MaxResetTokensPerUser is how many reset tokens a [UserStore] keeps per
// user ID (the decoys written for unknown addresses share the empty ID):
// saving one more drops the oldest.
const MaxResetTokensPerUser = 5

// Users returns the store of user accounts and password-reset tokens.
func (db *DB) Users() *UserStore { return &UserStore{db: db} }

const userColumns = `id, username, email, roles, disabled, created_at, updated_at, password_changed_at,
version, password_hash, password_history`

// CreateUser implements [basic.UserStore.CreateUser]: one INSERT ... ON
// CONFLICT DO NOTHING. The unique indexes on id, username_fold and
// email_fold decide, so of concurrent creates of one name exactly one
// inserts and the others get ErrDuplicate.
func (s *UserStore) CreateUser(ctx context.Context, u *basic.User) error {
	if u == nil || u.ID == "" {
		return errors.New("postgres: user without an ID")
	}
	tag, err := s.db.pool.Exec(ctx, `INSERT INTO gatehouse_users (`+userColumns+`, username_fold, email_fold)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $11, $12) ON CONFLICT DO NOTHING`,
		u.ID, u.Username, u.Email, list(u.Roles), u.Disabled, u.CreatedAt, u.UpdatedAt, u.PasswordChangedAt,
		u.PasswordHash, list(u.PasswordHistory), basic.Fold(u.Username), emailFold(u.Email))
	if err != nil {
		return fmt.Errorf("postgres: create user: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: create user %s: %w", u.ID, basic.ErrDuplicate)
	}
	u.Version = 1
	return nil
}

// GetUser implements [basic.UserStore.GetUser]: one read by primary key or
// by a unique index.
func (s *UserStore) GetUser(ctx context.Context, field basic.UserField, value string) (*basic.User, error) {
	var where string
	switch field {
	case basic.ByID:
		where = "id = $1"
	case basic.ByUsername:
		where, value = "username_fold = $1", basic.Fold(value)
	case basic.ByEmail:
		if value == "" {
			return nil, basic.ErrNotFound
		}
		where, value = "email_fold = $1", basic.Fold(value)
	default:
		return nil, fmt.Errorf("postgres: unknown user field %d", field)
	}
	rows, err := s.db.pool.Query(ctx, `SELECT `+userColumns+` FROM gatehouse_users WHERE `+where, value)
	if err != nil {
		return nil, fmt.Errorf("postgres: get user: %w", err)
	}
	u, err := pgx.CollectExactlyOneRow(rows, scanUser)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, basic.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get user: %w", err)
	}
	return u, nil
}

// UpdateUser implements [basic.UserStore.UpdateUser] as one UPDATE that
// matches the row only at the expected version (a compare-and-set: of
// concurrent updates from one version, the row lock lets one match and the
// others find the new version). A taken username or email makes the
// unique index refuse the statement (ErrDuplicate). When nothing matched, a
// second read tells a missing user from a version conflict.
func (s *UserStore) UpdateUser(ctx context.Context, u *basic.User) error {
	var version int64
	err := s.db.pool.QueryRow(ctx, `UPDATE gatehouse_users SET
	username = $3, username_fold = $4, email = $5, email_fold = $6, roles = $7, disabled = $8,
	created_at = $9, updated_at = $10, password_changed_at = $11, password_hash = $12,
	password_history = $13, version = version + 1
WHERE id = $1 AND version = $2 RETURNING version`,
		u.ID, u.Version, u.Username, basic.Fold(u.Username), u.Email, emailFold(u.Email), list(u.Roles), u.Disabled,
		u.CreatedAt, u.UpdatedAt, u.PasswordChangedAt, u.PasswordHash, list(u.PasswordHistory)).Scan(&version)
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		u.Version = version
		return nil
	case errors.As(err, &pgErr) && pgErr.Code == "23505": // unique_violation
		return fmt.Errorf("postgres: update user %s: %w", u.ID, basic.ErrDuplicate)
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("postgres: update user: %w", err)
	}
	var exists bool
	if err := s.db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM gatehouse_users WHERE id = $1)`, u.ID).Scan(&exists); err != nil {
		return fmt.Errorf("postgres: update user: %w", err)
	}
	if !exists {
		return basic.ErrNotFound
	}
	return fmt.Errorf("postgres: update user %s: %w", u.ID, basic.ErrVersionConflict)
}

// DeleteUser implements [basic.UserStore.DeleteUser]: one DELETE.
func (s *UserStore) DeleteUser(ctx context.Context, id string) error {
	if _, err := s.db.pool.Exec(ctx, `DELETE FROM gatehouse_users WHERE id = $1`, id); err != nil {
		return fmt.Errorf("postgres: delete user: %w", err)
	}
	return nil
}

// ListUsers implements [basic.UserStore.ListUsers]: one read of the
// primary key in byte order, fetching one row more than the page to know
// whether another page follows.
func (s *UserStore) ListUsers(ctx context.Context, after string, limit int) ([]*basic.User, string, error) {
	if limit <= 0 {
		limit = basic.DefaultPageSize
	}
	limit = min(limit, basic.MaxPageSize)
	rows, err := s.db.pool.Query(ctx, `SELECT `+userColumns+` FROM gatehouse_users WHERE id > $1 ORDER BY id LIMIT $2`, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: list users: %w", err)
	}
	users, err := pgx.CollectRows(rows, scanUser)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: list users: %w", err)
	}
	if users == nil {
		users = []*basic.User{}
	}
	next := ""
	if len(users) > limit {
		users = users[:limit]
		next = users[limit-1].ID
	}
	return users, next, nil
}

func scanUser(row pgx.CollectableRow) (*basic.User, error) {
	var u basic.User
	err := row.Scan(&u.ID, &u.Username, &u.Email, &u.Roles, &u.Disabled, &u.CreatedAt, &u.UpdatedAt,
		&u.PasswordChangedAt, &u.Version, &u.PasswordHash, &u.PasswordHistory)
	if err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt, u.PasswordChangedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC(), u.PasswordChangedAt.UTC()
	return &u, nil
}

// list maps nil to an empty list for NOT NULL array columns.
func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// emailFold is the folded email, or NULL for none.
func emailFold(email string) *string {
	if email == "" {
		return nil
	}
	f := basic.Fold(email)
	return &f
}

// SaveResetToken implements [basic.ResetTokenStore.SaveResetToken]: one
// transaction that upserts the token and drops the user's tokens beyond
// the newest MaxResetTokensPerUser, so decoys written for unknown addresses
// cannot fill the table.
func (s *UserStore) SaveResetToken(ctx context.Context, t basic.ResetToken) error {
	err := pgx.BeginFunc(ctx, s.db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO gatehouse_reset_tokens (hash, user_id, stamp, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT (hash) DO UPDATE SET
	user_id = EXCLUDED.user_id, stamp = EXCLUDED.stamp, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at`,
			t.Hash, t.UserID, t.Stamp, t.CreatedAt, t.ExpiresAt); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM gatehouse_reset_tokens WHERE user_id = $1 AND hash NOT IN (
	SELECT hash FROM gatehouse_reset_tokens WHERE user_id = $1 ORDER BY created_at DESC, hash DESC LIMIT $2)`,
			t.UserID, MaxResetTokensPerUser)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: save reset token: %w", err)
	}
	return nil
}

// GetResetToken implements [basic.ResetTokenStore.GetResetToken]: one read
// by primary key.
func (s *UserStore) GetResetToken(ctx context.Context, hash string, now time.Time) (basic.ResetToken, error) {
	var t basic.ResetToken
	err := s.db.pool.QueryRow(ctx, `SELECT hash, user_id, stamp, created_at, expires_at FROM gatehouse_reset_tokens
WHERE hash = $1 AND expires_at > $2`, hash, now).Scan(&t.Hash, &t.UserID, &t.Stamp, &t.CreatedAt, &t.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return basic.ResetToken{}, basic.ErrNotFound
	}
	if err != nil {
		return basic.ResetToken{}, fmt.Errorf("postgres: get reset token: %w", err)
	}
	t.CreatedAt, t.ExpiresAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC()
	return t, nil
}

// ConsumeResetToken implements [basic.ResetTokenStore.ConsumeResetToken]:
// one DELETE ... RETURNING, so of concurrent consumers exactly one gets the
// row. An expired token is deleted too, and reported as not found.
func (s *UserStore) ConsumeResetToken(ctx context.Context, hash string, now time.Time) (basic.ResetToken, error) {
	var t basic.ResetToken
	err := s.db.pool.QueryRow(ctx, `DELETE FROM gatehouse_reset_tokens WHERE hash = $1
RETURNING hash, user_id, stamp, created_at, expires_at`, hash).Scan(&t.Hash, &t.UserID, &t.Stamp, &t.CreatedAt, &t.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return basic.ResetToken{}, basic.ErrNotFound
	}
	if err != nil {
		return basic.ResetToken{}, fmt.Errorf("postgres: consume reset token: %w", err)
	}
	if !now.Before(t.ExpiresAt) {
		return basic.ResetToken{}, basic.ErrNotFound
	}
	t.CreatedAt, t.ExpiresAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC()
	return t, nil
}

// DeleteResetTokens implements [basic.ResetTokenStore.DeleteResetTokens]:
// one DELETE on the per-user index.
func (s *UserStore) DeleteResetTokens(ctx context.Context, userID string) error {
	if _, err := s.db.pool.Exec(ctx, `DELETE FROM gatehouse_reset_tokens WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("postgres: delete reset tokens: %w", err)
	}
	return nil
}

// DeleteExpiredResetTokens deletes the reset tokens expired at now and
// returns how many it deleted. Hosts call it periodically.
func (s *UserStore) DeleteExpiredResetTokens(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.db.pool.Exec(ctx, `DELETE FROM gatehouse_reset_tokens WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired reset tokens: %w", err)
	}
	return tag.RowsAffected(), nil
}
