package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/jackc/pgx/v5"
)

// RefreshStore is a [jwtprovider.RefreshStore] in the table
// gatehouse_refresh_families. Times are kept at PostgreSQL's microsecond
// precision. Expired families stay until [RefreshStore.DeleteExpired]
// removes them; Rotate refuses them meanwhile.
//
// It is safe for concurrent use.
type RefreshStore struct {
	db *DB
}

var _ jwtprovider.RefreshStore = (*RefreshStore)(nil)

// RefreshFamilies returns the store of refresh-token families.
func (db *DB) RefreshFamilies() *RefreshStore { return &RefreshStore{db: db} }

// Create implements [jwtprovider.RefreshStore.Create]: one INSERT ... ON
// CONFLICT DO NOTHING, so that of concurrent creates of one ID exactly one
// inserts and the others get ErrExists.
func (s *RefreshStore) Create(ctx context.Context, f jwtprovider.Family) error {
	if f.ID == "" || f.Current == "" {
		return errors.New("postgres: refresh family needs an ID and a current token ID")
	}
	tag, err := s.db.pool.Exec(ctx, `INSERT INTO gatehouse_refresh_families (id, subject, current_jti, created_at, expires_at, revoked)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`, f.ID, f.Subject, f.Current, f.CreatedAt, f.ExpiresAt, f.Revoked)
	if err != nil {
		return fmt.Errorf("postgres: create refresh family: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return jwtprovider.ErrExists
	}
	return nil
}

// Rotate implements [jwtprovider.RefreshStore.Rotate].
//
// Isolation: one READ COMMITTED transaction that reads the family with
// SELECT ... FOR UPDATE, so concurrent rotations of one family queue on its
// row lock and each sees the committed result of the one before: of
// concurrent rotations of one token exactly one succeeds and the others find
// it consumed (ErrReused). A reuse commits the family's revocation before
// ErrReused is returned.
func (s *RefreshStore) Rotate(ctx context.Context, id, currentID, nextID string, now time.Time) (jwtprovider.Family, error) {
	if nextID == "" {
		return jwtprovider.Family{}, errors.New("postgres: rotation needs a next token ID")
	}
	var f jwtprovider.Family
	var outcome error
	err := pgx.BeginFunc(ctx, s.db.pool, func(tx pgx.Tx) error {
		outcome = nil
		err := tx.QueryRow(ctx, `SELECT id, subject, current_jti, created_at, expires_at, revoked
FROM gatehouse_refresh_families WHERE id = $1 FOR UPDATE`, id).Scan(&f.ID, &f.Subject, &f.Current, &f.CreatedAt, &f.ExpiresAt, &f.Revoked)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			outcome = jwtprovider.ErrNotFound
			return nil
		case err != nil:
			return err
		case !now.Before(f.ExpiresAt):
			outcome = jwtprovider.ErrNotFound
			return nil
		case f.Current != currentID:
			outcome = jwtprovider.ErrReused
			if f.Revoked {
				return nil
			}
			_, err := tx.Exec(ctx, `UPDATE gatehouse_refresh_families SET revoked = true WHERE id = $1`, id)
			return err
		case f.Revoked:
			outcome = jwtprovider.ErrRevoked
			return nil
		}
		f.Current = nextID
		_, err = tx.Exec(ctx, `UPDATE gatehouse_refresh_families SET current_jti = $2 WHERE id = $1`, id, nextID)
		return err
	})
	if err != nil {
		return jwtprovider.Family{}, fmt.Errorf("postgres: rotate refresh token: %w", err)
	}
	if outcome != nil {
		return jwtprovider.Family{}, outcome
	}
	f.CreatedAt, f.ExpiresAt = f.CreatedAt.UTC(), f.ExpiresAt.UTC()
	return f, nil
}

// Revoke implements [jwtprovider.RefreshStore.Revoke]: one UPDATE.
func (s *RefreshStore) Revoke(ctx context.Context, id string) error {
	if _, err := s.db.pool.Exec(ctx, `UPDATE gatehouse_refresh_families SET revoked = true WHERE id = $1`, id); err != nil {
		return fmt.Errorf("postgres: revoke refresh family: %w", err)
	}
	return nil
}

// DeleteExpired deletes the families whose ExpiresAt is at or before now
// and returns how many it deleted. Hosts call it periodically.
func (s *RefreshStore) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.db.pool.Exec(ctx, `DELETE FROM gatehouse_refresh_families WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired refresh families: %w", err)
	}
	return tag.RowsAffected(), nil
}
