package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth2provider"
)

// SSOStore is the [oauth2provider.ReplayStore] and
// [oauth2provider.TokenStore] of the single sign-on provider, in the tables
// gatehouse_sso_replay and gatehouse_sso_tokens. Replay keys stay after
// their expiry until [SSOStore.DeleteExpired] removes them; MarkUsed treats
// them as free meanwhile. Tokens do not expire: they stay until DeleteToken.
//
// Every write is one statement on the writer, which SQLite runs under its
// write lock, so a check and the write it decides cannot interleave with
// another writer in this process or another one using the same file.
//
// It is safe for concurrent use.
type SSOStore struct {
	db *DB
}

var (
	_ oauth2provider.ReplayStore = (*SSOStore)(nil)
	_ oauth2provider.TokenStore  = (*SSOStore)(nil)
)

// SSO returns the store of login-flow replay keys and IdP tokens.
func (db *DB) SSO() *SSOStore { return &SSOStore{db: db} }

// MarkUsed implements [oauth2provider.ReplayStore.MarkUsed]: one INSERT ...
// ON CONFLICT DO UPDATE ... WHERE on the writer, whose update applies only
// when the stored key expired at or before now. The statement holds
// SQLite's write lock from its start, so of concurrent calls with one key,
// from this process or another, exactly one inserts or takes over the row
// and every other one affects no row and gets [oauth2provider.ErrReplayed].
//
// expiresAt is stored rounded up to the microsecond, so a key is never
// forgotten early; it may be remembered up to a microsecond longer than the
// in-memory store would.
func (s *SSOStore) MarkUsed(ctx context.Context, key string, now, expiresAt time.Time) error {
	res, err := s.db.w.ExecContext(ctx, `INSERT INTO gatehouse_sso_replay (key, expires_at) VALUES (?1, ?2)
ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at
WHERE gatehouse_sso_replay.expires_at <= ?3`, key, ceilMicro(expiresAt), now.UnixMicro())
	if err != nil {
		return fmt.Errorf("sqlite: mark sso flow used: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: mark sso flow used: %w", err)
	}
	if n == 0 {
		return oauth2provider.ErrReplayed
	}
	return nil
}

// SaveToken implements [oauth2provider.TokenStore.SaveToken]: one INSERT
// ... ON CONFLICT DO UPDATE on the writer, so concurrent saves for one
// (idp, subject) leave exactly one of them. An empty sealed is refused,
// since LoadToken could not tell it from a missing token.
func (s *SSOStore) SaveToken(ctx context.Context, idp, subject, sealed string) error {
	if sealed == "" {
		return errors.New("sqlite: save sso token: empty sealed token")
	}
	if _, err := s.db.w.ExecContext(ctx, `INSERT INTO gatehouse_sso_tokens (idp, subject, sealed) VALUES (?, ?, ?)
ON CONFLICT (idp, subject) DO UPDATE SET sealed = excluded.sealed`, idp, subject, sealed); err != nil {
		return fmt.Errorf("sqlite: save sso token: %w", err)
	}
	return nil
}

// LoadToken implements [oauth2provider.TokenStore.LoadToken]: one read by
// primary key on the read pool, which sees every save committed before it
// started. A missing token is [oauth2provider.ErrNotFound].
func (s *SSOStore) LoadToken(ctx context.Context, idp, subject string) (string, error) {
	var sealed string
	err := s.db.r.QueryRowContext(ctx, `SELECT sealed FROM gatehouse_sso_tokens WHERE idp = ? AND subject = ?`, idp, subject).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", oauth2provider.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: load sso token: %w", err)
	}
	return sealed, nil
}

// DeleteToken implements [oauth2provider.TokenStore.DeleteToken]: one
// DELETE by primary key on the writer. Deleting a missing token is not an
// error.
func (s *SSOStore) DeleteToken(ctx context.Context, idp, subject string) error {
	if _, err := s.db.w.ExecContext(ctx, `DELETE FROM gatehouse_sso_tokens WHERE idp = ? AND subject = ?`, idp, subject); err != nil {
		return fmt.Errorf("sqlite: delete sso token: %w", err)
	}
	return nil
}

// DeleteExpired deletes the replay keys expired at now (whose expiry is at
// or before now; MarkUsed would accept them again) and returns how many it
// deleted. It is one DELETE on the expires_at index, on the writer. Hosts
// call it periodically; tokens are not touched.
func (s *SSOStore) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.w.ExecContext(ctx, `DELETE FROM gatehouse_sso_replay WHERE expires_at <= ?`, now.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired sso replay keys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired sso replay keys: %w", err)
	}
	return n, nil
}

// ceilMicro returns t in Unix microseconds, rounded up.
func ceilMicro(t time.Time) int64 {
	us := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		us++
	}
	return us
}
