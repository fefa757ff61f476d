package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

// RefreshStore is a [jwtprovider.RefreshStore] in the table
// gatehouse_refresh_families. Times are kept to the microsecond. Expired
// families stay until [RefreshStore.DeleteExpired] removes them; Rotate
// refuses them meanwhile.
//
// It is safe for concurrent use.
type RefreshStore struct {
	db *DB
}

var _ jwtprovider.RefreshStore = (*RefreshStore)(nil)

// RefreshFamilies returns the store of refresh-token families.
func (db *DB) RefreshFamilies() *RefreshStore { return &RefreshStore{db: db} }

// Create implements [jwtprovider.RefreshStore.Create]: one INSERT ... ON
// CONFLICT DO NOTHING on the writer.
func (s *RefreshStore) Create(ctx context.Context, f jwtprovider.Family) error {
	if f.ID == "" || f.Current == "" {
		return errors.New("sqlite: refresh family needs an ID and a current token ID")
	}
	revoked := 0
	if f.Revoked {
		revoked = 1
	}
	res, err := s.db.w.ExecContext(ctx, `INSERT INTO gatehouse_refresh_families (id, subject, current_jti, created_at, expires_at, revoked)
VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, f.ID, f.Subject, f.Current, f.CreatedAt.UnixMicro(), f.ExpiresAt.UnixMicro(), revoked)
	if err != nil {
		return fmt.Errorf("sqlite: create refresh family: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: create refresh family: %w", err)
	}
	if n == 0 {
		return jwtprovider.ErrExists
	}
	return nil
}

// Rotate implements [jwtprovider.RefreshStore.Rotate].
//
// Isolation: one immediate transaction on the writer, which holds SQLite's
// write lock from BEGIN: the check of the current token, the revocation on
// reuse and the swap to nextID cannot interleave with another rotation. A
// reuse commits the revocation before ErrReused is returned.
func (s *RefreshStore) Rotate(ctx context.Context, id, currentID, nextID string, now time.Time) (jwtprovider.Family, error) {
	if nextID == "" {
		return jwtprovider.Family{}, errors.New("sqlite: rotation needs a next token ID")
	}
	var f jwtprovider.Family
	var outcome error
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		outcome = nil
		var created, expires int64
		var revoked int
		err := tx.QueryRowContext(ctx, `SELECT id, subject, current_jti, created_at, expires_at, revoked
FROM gatehouse_refresh_families WHERE id = ?`, id).Scan(&f.ID, &f.Subject, &f.Current, &created, &expires, &revoked)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			outcome = jwtprovider.ErrNotFound
			return nil
		case err != nil:
			return err
		}
		f.CreatedAt, f.ExpiresAt, f.Revoked = time.UnixMicro(created).UTC(), time.UnixMicro(expires).UTC(), revoked != 0
		switch {
		case !now.Before(f.ExpiresAt):
			outcome = jwtprovider.ErrNotFound
			return nil
		case f.Current != currentID:
			outcome = jwtprovider.ErrReused
			_, err := tx.ExecContext(ctx, `UPDATE gatehouse_refresh_families SET revoked = 1 WHERE id = ?`, id)
			return err
		case f.Revoked:
			outcome = jwtprovider.ErrRevoked
			return nil
		}
		f.Current = nextID
		_, err = tx.ExecContext(ctx, `UPDATE gatehouse_refresh_families SET current_jti = ? WHERE id = ?`, nextID, id)
		return err
	})
	if err != nil {
		return jwtprovider.Family{}, fmt.Errorf("sqlite: rotate refresh token: %w", err)
	}
	if outcome != nil {
		return jwtprovider.Family{}, outcome
	}
	return f, nil
}

// Revoke implements [jwtprovider.RefreshStore.Revoke]: one UPDATE.
func (s *RefreshStore) Revoke(ctx context.Context, id string) error {
	if _, err := s.db.w.ExecContext(ctx, `UPDATE gatehouse_refresh_families SET revoked = 1 WHERE id = ?`, id); err != nil {
		return fmt.Errorf("sqlite: revoke refresh family: %w", err)
	}
	return nil
}

// DeleteExpired deletes the families whose ExpiresAt is at or before now
// and returns how many it deleted. Hosts call it periodically.
func (s *RefreshStore) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.w.ExecContext(ctx, `DELETE FROM gatehouse_refresh_families WHERE expires_at <= ?`, now.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired refresh families: %w", err)
	}
	return res.RowsAffected()
}
