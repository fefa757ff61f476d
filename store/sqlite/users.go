package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/basic"
)

// UserStore is a [basic.UserStore] and [basic.ResetTokenStore] in the tables
// gatehouse_users and gatehouse_reset_tokens. Usernames and emails are
// unique under [basic.Fold], enforced by unique indexes on folded columns
// computed in Go. Times are kept to the microsecond. At most
// [MaxResetTokensPerUser] reset tokens are kept per user ID.
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
// CONFLICT DO NOTHING on the writer; the unique indexes decide.
func (s *UserStore) CreateUser(ctx context.Context, u *basic.User) error {
	if u == nil || u.ID == "" {
		return errors.New("sqlite: user without an ID")
	}
	roles, hist, err := userLists(u)
	if err != nil {
		return fmt.Errorf("sqlite: create user: %w", err)
	}
	res, err := s.db.w.ExecContext(ctx, `INSERT INTO gatehouse_users (`+userColumns+`, username_fold, email_fold)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		u.ID, u.Username, u.Email, roles, u.Disabled, u.CreatedAt.UnixMicro(), u.UpdatedAt.UnixMicro(),
		u.PasswordChangedAt.UnixMicro(), u.PasswordHash, hist, basic.Fold(u.Username), emailFold(u.Email))
	if err != nil {
		return fmt.Errorf("sqlite: create user: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: create user: %w", err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: create user %s: %w", u.ID, basic.ErrDuplicate)
	}
	u.Version = 1
	return nil
}

// GetUser implements [basic.UserStore.GetUser]: one read by primary key or
// by a unique index, on the read pool.
func (s *UserStore) GetUser(ctx context.Context, field basic.UserField, value string) (*basic.User, error) {
	var where string
	switch field {
	case basic.ByID:
		where = "id = ?"
	case basic.ByUsername:
		where, value = "username_fold = ?", basic.Fold(value)
	case basic.ByEmail:
		if value == "" {
			return nil, basic.ErrNotFound
		}
		where, value = "email_fold = ?", basic.Fold(value)
	default:
		return nil, fmt.Errorf("sqlite: unknown user field %d", field)
	}
	u, err := scanUser(s.db.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM gatehouse_users WHERE `+where, value))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, basic.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get user: %w", err)
	}
	return u, nil
}

// UpdateUser implements [basic.UserStore.UpdateUser].
//
// Isolation: one immediate transaction on the writer: the version check,
// the uniqueness checks of the new username and email, and the write see no
// other writer in between.
func (s *UserStore) UpdateUser(ctx context.Context, u *basic.User) error {
	roles, hist, err := userLists(u)
	if err != nil {
		return fmt.Errorf("sqlite: update user: %w", err)
	}
	var outcome error
	err = s.db.writeTx(ctx, func(tx *sql.Tx) error {
		outcome = nil
		var version int64
		err := tx.QueryRowContext(ctx, `SELECT version FROM gatehouse_users WHERE id = ?`, u.ID).Scan(&version)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			outcome = basic.ErrNotFound
			return nil
		case err != nil:
			return err
		case version != u.Version:
			outcome = fmt.Errorf("sqlite: update user %s: %w", u.ID, basic.ErrVersionConflict)
			return nil
		}
		var taken bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM gatehouse_users
WHERE id <> ? AND (username_fold = ? OR email_fold = ?))`, u.ID, basic.Fold(u.Username), emailFold(u.Email)).Scan(&taken); err != nil {
			return err
		}
		if taken {
			outcome = fmt.Errorf("sqlite: update user %s: %w", u.ID, basic.ErrDuplicate)
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE gatehouse_users SET
	username = ?, username_fold = ?, email = ?, email_fold = ?, roles = ?, disabled = ?,
	created_at = ?, updated_at = ?, password_changed_at = ?, password_hash = ?,
	password_history = ?, version = version + 1
WHERE id = ?`, u.Username, basic.Fold(u.Username), u.Email, emailFold(u.Email), roles, u.Disabled,
			u.CreatedAt.UnixMicro(), u.UpdatedAt.UnixMicro(), u.PasswordChangedAt.UnixMicro(), u.PasswordHash, hist, u.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: update user: %w", err)
	}
	if outcome != nil {
		return outcome
	}
	u.Version++
	return nil
}

// DeleteUser implements [basic.UserStore.DeleteUser]: one DELETE.
func (s *UserStore) DeleteUser(ctx context.Context, id string) error {
	if _, err := s.db.w.ExecContext(ctx, `DELETE FROM gatehouse_users WHERE id = ?`, id); err != nil {
		return fmt.Errorf("sqlite: delete user: %w", err)
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
	rows, err := s.db.r.QueryContext(ctx, `SELECT `+userColumns+` FROM gatehouse_users WHERE id > ? ORDER BY id LIMIT ?`, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: list users: %w", err)
	}
	defer rows.Close()
	users := []*basic.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: list users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlite: list users: %w", err)
	}
	next := ""
	if len(users) > limit {
		users = users[:limit]
		next = users[limit-1].ID
	}
	return users, next, nil
}

func userLists(u *basic.User) (roles, history string, err error) {
	if roles, err = jsonList(u.Roles); err != nil {
		return "", "", err
	}
	history, err = jsonList(u.PasswordHistory)
	return roles, history, err
}

func scanUser(row scanner) (*basic.User, error) {
	var u basic.User
	var roles, hist string
	var created, updated, changed int64
	err := row.Scan(&u.ID, &u.Username, &u.Email, &roles, &u.Disabled, &created, &updated,
		&changed, &u.Version, &u.PasswordHash, &hist)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(json.Unmarshal([]byte(roles), &u.Roles), json.Unmarshal([]byte(hist), &u.PasswordHistory)); err != nil {
		return nil, fmt.Errorf("user %s: %w", u.ID, err)
	}
	u.CreatedAt = time.UnixMicro(created).UTC()
	u.UpdatedAt = time.UnixMicro(updated).UTC()
	u.PasswordChangedAt = time.UnixMicro(changed).UTC()
	return &u, nil
}

// emailFold is the folded email, or NULL for none.
func emailFold(email string) sql.NullString {
	if email == "" {
		return sql.NullString{}
	}
	return sql.NullString{String: basic.Fold(email), Valid: true}
}

// SaveResetToken implements [basic.ResetTokenStore.SaveResetToken]: one
// immediate transaction that upserts the token and drops the user's tokens
// beyond the newest MaxResetTokensPerUser.
func (s *UserStore) SaveResetToken(ctx context.Context, t basic.ResetToken) error {
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO gatehouse_reset_tokens (hash, user_id, stamp, created_at, expires_at)
VALUES (?, ?, ?, ?, ?) ON CONFLICT (hash) DO UPDATE SET
	user_id = excluded.user_id, stamp = excluded.stamp, created_at = excluded.created_at, expires_at = excluded.expires_at`,
			t.Hash, t.UserID, t.Stamp, t.CreatedAt.UnixMicro(), t.ExpiresAt.UnixMicro()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM gatehouse_reset_tokens WHERE user_id = ?1 AND hash NOT IN (
	SELECT hash FROM gatehouse_reset_tokens WHERE user_id = ?1 ORDER BY created_at DESC, hash DESC LIMIT ?2)`,
			t.UserID, MaxResetTokensPerUser)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: save reset token: %w", err)
	}
	return nil
}

// GetResetToken implements [basic.ResetTokenStore.GetResetToken]: one read
// by primary key.
func (s *UserStore) GetResetToken(ctx context.Context, hash string, now time.Time) (basic.ResetToken, error) {
	t, err := scanToken(s.db.r.QueryRowContext(ctx, `SELECT hash, user_id, stamp, created_at, expires_at
FROM gatehouse_reset_tokens WHERE hash = ? AND expires_at > ?`, hash, now.UnixMicro()))
	if errors.Is(err, sql.ErrNoRows) {
		return basic.ResetToken{}, basic.ErrNotFound
	}
	if err != nil {
		return basic.ResetToken{}, fmt.Errorf("sqlite: get reset token: %w", err)
	}
	return t, nil
}

// ConsumeResetToken implements [basic.ResetTokenStore.ConsumeResetToken]:
// one DELETE ... RETURNING on the writer, so of concurrent consumers
// exactly one gets the row. An expired token is deleted too, and reported
// as not found.
func (s *UserStore) ConsumeResetToken(ctx context.Context, hash string, now time.Time) (basic.ResetToken, error) {
	t, err := scanToken(s.db.w.QueryRowContext(ctx, `DELETE FROM gatehouse_reset_tokens WHERE hash = ?
RETURNING hash, user_id, stamp, created_at, expires_at`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return basic.ResetToken{}, basic.ErrNotFound
	}
	if err != nil {
		return basic.ResetToken{}, fmt.Errorf("sqlite: consume reset token: %w", err)
	}
	if !now.Before(t.ExpiresAt) {
		return basic.ResetToken{}, basic.ErrNotFound
	}
	return t, nil
}

// DeleteResetTokens implements [basic.ResetTokenStore.DeleteResetTokens].
func (s *UserStore) DeleteResetTokens(ctx context.Context, userID string) error {
	if _, err := s.db.w.ExecContext(ctx, `DELETE FROM gatehouse_reset_tokens WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("sqlite: delete reset tokens: %w", err)
	}
	return nil
}

// DeleteExpiredResetTokens deletes the reset tokens expired at now and
// returns how many it deleted. Hosts call it periodically.
func (s *UserStore) DeleteExpiredResetTokens(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.w.ExecContext(ctx, `DELETE FROM gatehouse_reset_tokens WHERE expires_at <= ?`, now.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired reset tokens: %w", err)
	}
	return res.RowsAffected()
}

func scanToken(row scanner) (basic.ResetToken, error) {
	var t basic.ResetToken
	var created, expires int64
	if err := row.Scan(&t.Hash, &t.UserID, &t.Stamp, &created, &expires); err != nil {
		return basic.ResetToken{}, err
	}
	t.CreatedAt, t.ExpiresAt = time.UnixMicro(created).UTC(), time.UnixMicro(expires).UTC()
	return t, nil
}
