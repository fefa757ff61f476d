package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/apikey"
)

// APIKeyStore is an [apikey.Store] in the table gatehouse_api_keys. It holds
// each key's lookup hash (a unique index) and never the key. Times are kept
// to the microsecond; Permissions always come back non-nil.
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
// Isolation: one immediate transaction on the writer (SQLite's write lock
// held from BEGIN). A rotation reads the old key, checks it, inserts the
// successor (ON CONFLICT DO NOTHING: a taken ID or hash inserts nothing and
// gives ErrExists) and retires the old key before anyone else can write, so
// of concurrent rotations of one key the first wins and the others find it
// rotated; any failure rolls back everything.
func (s *APIKeyStore) Create(ctx context.Context, k *apikey.Key, rot *apikey.Rotation) error {
	if k == nil || k.ID == "" || k.Hash.IsZero() {
		return errors.New("sqlite: api key record needs an ID and a hash")
	}
	perms := k.Permissions
	if perms == nil {
		perms = []string{}
	}
	permsJSON, err := json.Marshal(perms)
	if err != nil {
		return fmt.Errorf("sqlite: create api key: %w", err)
	}
	var meta sql.NullString
	if len(k.Metadata) > 0 {
		b, err := json.Marshal(k.Metadata)
		if err != nil {
			return fmt.Errorf("sqlite: create api key: %w", err)
		}
		meta = sql.NullString{String: string(b), Valid: true}
	}
	err = s.db.writeTx(ctx, func(tx *sql.Tx) error {
		if rot != nil {
			var revoked sql.NullInt64
			var replacedBy string
			err := tx.QueryRowContext(ctx, `SELECT revoked_at, replaced_by FROM gatehouse_api_keys WHERE id = ?`, rot.OldID).Scan(&revoked, &replacedBy)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return apikey.ErrNotFound
			case err != nil:
				return err
			case revoked.Valid:
				return apikey.ErrRevoked
			case replacedBy != "":
				return apikey.ErrRotated
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO gatehouse_api_keys (`+keyColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING`,
			k.ID, k.Hash[:], k.OwnerID, k.Name, k.Description, k.Prefix, string(permsJSON), meta,
			k.CreatedAt.UnixMicro(), nullMicro(k.ExpiresAt), nullMicro(k.RevokedAt), k.RotatedFrom, k.ReplacedBy,
			nullMicro(k.LastUsedAt), k.LastUsedIP)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return apikey.ErrExists
		}
		if rot == nil {
			return nil
		}
		until := rot.OldExpiresAt.UnixMicro()
		_, err = tx.ExecContext(ctx, `UPDATE gatehouse_api_keys SET replaced_by = ?,
	expires_at = CASE WHEN expires_at IS NULL OR ? < expires_at THEN ? ELSE expires_at END
WHERE id = ?`, k.ID, until, until, rot.OldID)
		return err
	})
	if err != nil {
		if errors.Is(err, apikey.ErrNotFound) || errors.Is(err, apikey.ErrRevoked) ||
			errors.Is(err, apikey.ErrRotated) || errors.Is(err, apikey.ErrExists) {
			return err
		}
		return fmt.Errorf("sqlite: create api key: %w", err)
	}
	return nil
}

// Lookup implements [apikey.Store.Lookup]: one read by the unique index on
// hash, on the read pool.
func (s *APIKeyStore) Lookup(ctx context.Context, h apikey.Hash) (*apikey.Key, error) {
	k, err := scanKey(s.db.r.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM gatehouse_api_keys WHERE hash = ?`, h[:]))
	if err != nil {
		return nil, keyError("look up api key", err)
	}
	return k, nil
}

// Get implements [apikey.Store.Get]: one read by primary key.
func (s *APIKeyStore) Get(ctx context.Context, id string) (*apikey.Key, error) {
	k, err := scanKey(s.db.r.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM gatehouse_api_keys WHERE id = ?`, id))
	if err != nil {
		return nil, keyError("get api key", err)
	}
	return k, nil
}

// List implements [apikey.Store.List]: one read on the (owner_id,
// created_at, id) index, in that order.
func (s *APIKeyStore) List(ctx context.Context, ownerID string) ([]*apikey.Key, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT `+keyColumns+` FROM gatehouse_api_keys WHERE owner_id = ? ORDER BY created_at, id`, ownerID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list api keys: %w", err)
	}
	defer rows.Close()
	keys := []*apikey.Key{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list api keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list api keys: %w", err)
	}
	return keys, nil
}

// Update implements [apikey.Store.Update] as one UPDATE statement on the
// writer, whose conditions (first revocation kept, only a later last use
// stored) read the row it writes.
func (s *APIKeyStore) Update(ctx context.Context, id string, u apikey.Update) error {
	used := nullMicro(u.LastUsedAt)
	res, err := s.db.w.ExecContext(ctx, `UPDATE gatehouse_api_keys SET
	revoked_at = COALESCE(revoked_at, ?1),
	last_used_at = CASE WHEN ?2 IS NOT NULL AND (last_used_at IS NULL OR ?2 > last_used_at) THEN ?2 ELSE last_used_at END,
	last_used_ip = CASE WHEN ?2 IS NOT NULL AND (last_used_at IS NULL OR ?2 > last_used_at) THEN ?3 ELSE last_used_ip END
WHERE id = ?4`, nullMicro(u.RevokedAt), used, u.LastUsedIP, id)
	if err != nil {
		return fmt.Errorf("sqlite: update api key: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: update api key: %w", err)
	}
	if n == 0 {
		return apikey.ErrNotFound
	}
	return nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// scanKey reads one row of keyColumns.
func scanKey(row scanner) (*apikey.Key, error) {
	var k apikey.Key
	var hash []byte
	var perms string
	var meta sql.NullString
	var created int64
	var expires, revoked, lastUsed sql.NullInt64
	err := row.Scan(&k.ID, &hash, &k.OwnerID, &k.Name, &k.Description, &k.Prefix, &perms, &meta,
		&created, &expires, &revoked, &k.RotatedFrom, &k.ReplacedBy, &lastUsed, &k.LastUsedIP)
	if err != nil {
		return nil, err
	}
	if len(hash) != len(k.Hash) {
		return nil, fmt.Errorf("stored hash of key %s has %d bytes", k.ID, len(hash))
	}
	copy(k.Hash[:], hash)
	if err := json.Unmarshal([]byte(perms), &k.Permissions); err != nil {
		return nil, fmt.Errorf("permissions of key %s: %w", k.ID, err)
	}
	if k.Permissions == nil {
		k.Permissions = []string{}
	}
	if meta.Valid {
		if err := json.Unmarshal([]byte(meta.String), &k.Metadata); err != nil {
			return nil, fmt.Errorf("metadata of key %s: %w", k.ID, err)
		}
	}
	k.CreatedAt = time.UnixMicro(created).UTC()
	k.ExpiresAt = fromMicro(expires)
	k.RevokedAt = fromMicro(revoked)
	k.LastUsedAt = fromMicro(lastUsed)
	return &k, nil
}

// keyError maps no row to apikey.ErrNotFound and wraps anything else.
func keyError(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return apikey.ErrNotFound
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// nullMicro maps the zero time to NULL and others to Unix microseconds.
func nullMicro(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromMicro(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}
