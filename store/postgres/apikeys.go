package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/apikey"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// APIKeyStore is an [apikey.Store] in the table gatehouse_api_keys. It holds
// each key's lookup hash (a unique index) and never the key. Times are kept
// at PostgreSQL's microsecond precision; Permissions always come back
// non-nil.
//
// It is safe for concurrent use.
type APIKeyStore struct {
	db *DB
}

var _ apikey.Store = (*APIKeyStore)(nil)

// APIKeys returns the store of API key records.
func (db *DB) APIKeys() *APIKeyStore { return &APIKeyStore{db: db} }

const keyColumns = `id, hash, owner_id, name, description, prefix, permissions, metadata,
created_at, expires_at, revoked_at, rotated_from, replaced_by, last_used_at, last_used_ip`

// Create implements [apikey.Store.Create].
//
// Isolation: a plain Create is one INSERT ... ON CONFLICT DO NOTHING, which
// reports a taken ID or hash as no row inserted (ErrExists), even against a
// concurrent insert of the same values. A rotation is one READ COMMITTED
// transaction that first locks the old key's row (SELECT ... FOR UPDATE),
// so concurrent rotations of one key queue there, and each one after the
// first sees its successor set and fails with ErrRotated; it then inserts
// the successor and retires the old key, and rolls back everything on any
// failure.
func (s *APIKeyStore) Create(ctx context.Context, k *apikey.Key, rot *apikey.Rotation) error {
	if k == nil || k.ID == "" || k.Hash.IsZero() {
		return errors.New("postgres: api key record needs an ID and a hash")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if rot == nil {
		inserted, err := insertKey(ctx, s.db.pool, k)
		if err != nil {
			return fmt.Errorf("postgres: create api key: %w", err)
		}
		if !inserted {
			return apikey.ErrExists
		}
		return nil
	}
	err := pgx.BeginFunc(ctx, s.db.pool, func(tx pgx.Tx) error {
		var revoked bool
		var replacedBy string
		err := tx.QueryRow(ctx, `SELECT revoked_at IS NOT NULL, replaced_by FROM gatehouse_api_keys WHERE id = $1 FOR UPDATE`,
			rot.OldID).Scan(&revoked, &replacedBy)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return apikey.ErrNotFound
		case err != nil:
			return err
		case revoked:
			return apikey.ErrRevoked
		case replacedBy != "":
			return apikey.ErrRotated
		}
		inserted, err := insertKey(ctx, tx, k)
		if err != nil {
			return err
		}
		if !inserted {
			return apikey.ErrExists
		}
		_, err = tx.Exec(ctx, `UPDATE gatehouse_api_keys SET replaced_by = $2,
	expires_at = CASE WHEN expires_at IS NULL OR $3 < expires_at THEN $3 ELSE expires_at END
WHERE id = $1`, rot.OldID, k.ID, rot.OldExpiresAt)
		return err
	})
	if err != nil {
		if isKeySentinel(err) {
			return err
		}
		return fmt.Errorf("postgres: rotate api key: %w", err)
	}
	return nil
}

func isKeySentinel(err error) bool {
	return errors.Is(err, apikey.ErrNotFound) || errors.Is(err, apikey.ErrRevoked) ||
		errors.Is(err, apikey.ErrRotated) || errors.Is(err, apikey.ErrExists)
}

// querier is a *pgxpool.Pool or a pgx.Tx.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// insertKey inserts k unless its ID or hash is taken, and reports whether
// it did.
func insertKey(ctx context.Context, q querier, k *apikey.Key) (bool, error) {
	perms := k.Permissions
	if perms == nil {
		perms = []string{}
	}
	var meta map[string]string
	if len(k.Metadata) > 0 {
		meta = k.Metadata
	}
	tag, err := q.Exec(ctx, `INSERT INTO gatehouse_api_keys (`+keyColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT DO NOTHING`,
		k.ID, k.Hash[:], k.OwnerID, k.Name, k.Description, k.Prefix, perms, meta,
		k.CreatedAt, nullTime(k.ExpiresAt), nullTime(k.RevokedAt), k.RotatedFrom, k.ReplacedBy,
		nullTime(k.LastUsedAt), k.LastUsedIP)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// Lookup implements [apikey.Store.Lookup]: one read by the unique index on
// hash.
func (s *APIKeyStore) Lookup(ctx context.Context, h apikey.Hash) (*apikey.Key, error) {
	k, err := scanKey(s.db.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM gatehouse_api_keys WHERE hash = $1`, h[:]))
	if err != nil {
		return nil, keyError("look up api key", err)
	}
	return k, nil
}

// Get implements [apikey.Store.Get]: one read by primary key.
func (s *APIKeyStore) Get(ctx context.Context, id string) (*apikey.Key, error) {
	k, err := scanKey(s.db.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM gatehouse_api_keys WHERE id = $1`, id))
	if err != nil {
		return nil, keyError("get api key", err)
	}
	return k, nil
}

// List implements [apikey.Store.List]: one read on the (owner_id,
// created_at, id) index, in that order.
func (s *APIKeyStore) List(ctx context.Context, ownerID string) ([]*apikey.Key, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT `+keyColumns+` FROM gatehouse_api_keys WHERE owner_id = $1 ORDER BY created_at, id`, ownerID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list api keys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*apikey.Key, error) { return scanKey(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: list api keys: %w", err)
	}
	if keys == nil {
		keys = []*apikey.Key{}
	}
	return keys, nil
}

// Update implements [apikey.Store.Update] as one UPDATE statement whose
// conditions (first revocation kept, only a later last use stored) are
// evaluated on the row it locks: in READ COMMITTED a concurrent update of
// the same row makes PostgreSQL re-evaluate them on the newer version, so
// no update is lost.
func (s *APIKeyStore) Update(ctx context.Context, id string, u apikey.Update) error {
	tag, err := s.db.pool.Exec(ctx, `UPDATE gatehouse_api_keys SET
	revoked_at = COALESCE(revoked_at, $2),
	last_used_at = CASE WHEN $3::timestamptz > last_used_at OR (last_used_at IS NULL AND $3::timestamptz IS NOT NULL) THEN $3 ELSE last_used_at END,
	last_used_ip = CASE WHEN $3::timestamptz > last_used_at OR (last_used_at IS NULL AND $3::timestamptz IS NOT NULL) THEN $4 ELSE last_used_ip END
WHERE id = $1`, id, nullTime(u.RevokedAt), nullTime(u.LastUsedAt), u.LastUsedIP)
	if err != nil {
		return fmt.Errorf("postgres: update api key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return apikey.ErrNotFound
	}
	return nil
}

// scanKey reads one row of keyColumns.
func scanKey(row pgx.Row) (*apikey.Key, error) {
	var k apikey.Key
	var hash []byte
	var meta map[string]string
	var expires, revoked, lastUsed *time.Time
	err := row.Scan(&k.ID, &hash, &k.OwnerID, &k.Name, &k.Description, &k.Prefix, &k.Permissions, &meta,
		&k.CreatedAt, &expires, &revoked, &k.RotatedFrom, &k.ReplacedBy, &lastUsed, &k.LastUsedIP)
	if err != nil {
		return nil, err
	}
	if len(hash) != len(k.Hash) {
		return nil, fmt.Errorf("stored hash of key %s has %d bytes", k.ID, len(hash))
	}
	copy(k.Hash[:], hash)
	if k.Permissions == nil {
		k.Permissions = []string{}
	}
	if len(meta) > 0 {
		k.Metadata = meta
	}
	k.CreatedAt = k.CreatedAt.UTC()
	k.ExpiresAt = fromNull(expires)
	k.RevokedAt = fromNull(revoked)
	k.LastUsedAt = fromNull(lastUsed)
	return &k, nil
}

// keyError maps no row to apikey.ErrNotFound and wraps anything else.
func keyError(op string, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return apikey.ErrNotFound
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// nullTime maps the zero time to NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
