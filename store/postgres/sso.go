package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth2provider"
	"github.com/jackc/pgx/v5"
)

// SSOStore is the [oauth2provider.ReplayStore] and
// [oauth2provider.TokenStore] of the OIDC client, in the tables
// gatehouse_sso_replay (used login flows, by the SHA-256-derived key the
// provider passes) and gatehouse_sso_tokens (the sealed IdP tokens of each
// user; only ciphertexts, never clear tokens).
//
// Replay expiries are stored rounded up to PostgreSQL's microsecond
// precision and compared with now rounded down, so a key is never taken as
// expired before its expiry; it may be refused for up to a microsecond
// longer than in the in-memory store. Expired keys stay until
// [SSOStore.DeleteExpired] removes them; MarkUsed treats them as unused
// meanwhile. There is no limit on the number of keys: MarkUsed never returns
// [oauth2provider.ErrStoreFull].
//
// Keys, IdP names and subjects are PostgreSQL text: a string that is not
// valid UTF-8 or holds a NUL byte is refused with an error, never stored
// under another value.
//
// It is safe for concurrent use.
type SSOStore struct {
	db *DB
}

var (
	_ oauth2provider.ReplayStore = (*SSOStore)(nil)
	_ oauth2provider.TokenStore  = (*SSOStore)(nil)
)

// SSO returns the store of the OIDC client ([oauth2provider]): its replay
// store and its token store.
func (db *DB) SSO() *SSOStore { return &SSOStore{db: db} }

// MarkUsed implements [oauth2provider.ReplayStore.MarkUsed]: one INSERT ...
// ON CONFLICT (key) DO UPDATE whose update applies only when the stored key
// has expired at now (the WHERE is evaluated under the row lock, on the
// latest committed version of the row, also against a concurrent first
// insert or renewal). Of concurrent calls with one key exactly one inserts
// or renews the row; the others affect no row and get
// [oauth2provider.ErrReplayed]. A database error is returned wrapped, never
// as ErrReplayed.
func (s *SSOStore) MarkUsed(ctx context.Context, key string, now, expiresAt time.Time) error {
	tag, err := s.db.pool.Exec(ctx, `INSERT INTO gatehouse_sso_replay AS r (key, expires_at) VALUES ($1, $2)
ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at
WHERE r.expires_at <= $3`, key, ceilMicro(expiresAt), floorMicro(now))
	if err != nil {
		return fmt.Errorf("postgres: mark sso flow used: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return oauth2provider.ErrReplayed
	}
	return nil
}

// DeleteExpired deletes the replay keys expired at now, those MarkUsed at
// now would accept again, and returns how many it deleted. Keys are
// otherwise kept forever, so hosts call it periodically. It is one DELETE on
// an index; a key that a concurrent MarkUsed renews is re-checked after the
// renewal commits (READ COMMITTED re-evaluates the condition on the new row
// version) and kept. Tokens have no expiry and are never deleted by it.
func (s *SSOStore) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.db.pool.Exec(ctx, `DELETE FROM gatehouse_sso_replay WHERE expires_at <= $1`, floorMicro(now))
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired sso flows: %w", err)
	}
	return tag.RowsAffected(), nil
}

// SaveToken implements [oauth2provider.TokenStore.SaveToken]: one upsert
// (INSERT ... ON CONFLICT (idp, subject) DO UPDATE), so of concurrent saves
// for one user the last to commit is kept, whole. An empty sealed is
// refused with an error (a sealed ciphertext is never empty), so that
// LoadToken never returns "", nil.
func (s *SSOStore) SaveToken(ctx context.Context, idp, subject, sealed string) error {
	if sealed == "" {
		return errors.New("postgres: save sso token: empty sealed token")
	}
	_, err := s.db.pool.Exec(ctx, `INSERT INTO gatehouse_sso_tokens (idp, subject, sealed) VALUES ($1, $2, $3)
ON CONFLICT (idp, subject) DO UPDATE SET sealed = EXCLUDED.sealed`, idp, subject, sealed)
	if err != nil {
		return fmt.Errorf("postgres: save sso token: %w", err)
	}
	return nil
}

// LoadToken implements [oauth2provider.TokenStore.LoadToken]: one read by
// primary key. A missing token is [oauth2provider.ErrNotFound]; a database
// error is returned wrapped, never as ErrNotFound.
func (s *SSOStore) LoadToken(ctx context.Context, idp, subject string) (string, error) {
	var sealed string
	err := s.db.pool.QueryRow(ctx, `SELECT sealed FROM gatehouse_sso_tokens WHERE idp = $1 AND subject = $2`, idp, subject).Scan(&sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", oauth2provider.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("postgres: load sso token: %w", err)
	}
	return sealed, nil
}

// DeleteToken implements [oauth2provider.TokenStore.DeleteToken]: one
// DELETE; deleting a missing token is not an error.
func (s *SSOStore) DeleteToken(ctx context.Context, idp, subject string) error {
	if _, err := s.db.pool.Exec(ctx, `DELETE FROM gatehouse_sso_tokens WHERE idp = $1 AND subject = $2`, idp, subject); err != nil {
		return fmt.Errorf("postgres: delete sso token: %w", err)
	}
	return nil
}

// floorMicro rounds t down to PostgreSQL's microsecond precision. Compared
// with an expiry rounded up by ceilMicro, a key is never taken as expired
// before it is.
func floorMicro(t time.Time) time.Time { return t.Truncate(time.Microsecond) }
