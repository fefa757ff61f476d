package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/ratelimit"
	"github.com/jackc/pgx/v5"
)

// AttemptStore is a [ratelimit.AttemptStore] in the table
// gatehouse_attempts: one row per key, failure times as Unix nanoseconds
// (exact), computed with [ratelimit.AttemptPolicy.Apply].
//
// It is safe for concurrent use.
type AttemptStore struct {
	db *DB
}

var _ ratelimit.AttemptStore = (*AttemptStore)(nil)

// Attempts returns the store of authentication attempt records.
func (db *DB) Attempts() *AttemptStore { return &AttemptStore{db: db} }

// Attempt implements [ratelimit.AttemptStore].
//
// Isolation: one READ COMMITTED transaction. Its first statement is an
// upsert that inserts an empty row for a new key or, for an existing one,
// takes its row lock (ON CONFLICT DO UPDATE locks the conflicting row even
// when a concurrent transaction inserted it), and returns the record. The
// transition is computed in Go with Apply and written back before the
// commit releases the lock, so concurrent attempts on one key, from any
// number of instances, are applied one after the other. A new key needs no
// SELECT ... FOR UPDATE on a missing row, which would lock nothing. Four
// round trips: BEGIN, upsert, update, COMMIT.
func (s *AttemptStore) Attempt(ctx context.Context, key string, now time.Time, p ratelimit.AttemptPolicy) (ratelimit.AttemptDecision, error) {
	if err := validatePolicy(p); err != nil {
		return ratelimit.AttemptDecision{}, err
	}
	if err := ctx.Err(); err != nil {
		return ratelimit.AttemptDecision{}, err
	}
	var dec ratelimit.AttemptDecision
	err := pgx.BeginFunc(ctx, s.db.pool, func(tx pgx.Tx) error {
		var fails []int64
		var locked *int64
		err := tx.QueryRow(ctx, `INSERT INTO gatehouse_attempts AS a (key) VALUES ($1)
ON CONFLICT (key) DO UPDATE SET locked_until = a.locked_until
RETURNING a.failures, a.locked_until`, []byte(key)).Scan(&fails, &locked)
		if err != nil {
			return err
		}
		var rec ratelimit.AttemptRecord
		rec, dec = p.Apply(decodeRecord(fails, locked), now, true)
		if rec.Empty() {
			_, err = tx.Exec(ctx, `DELETE FROM gatehouse_attempts WHERE key = $1`, []byte(key))
			return err
		}
		fails, locked = encodeRecord(rec)
		_, err = tx.Exec(ctx, `UPDATE gatehouse_attempts SET failures = $2, locked_until = $3, expires_at = $4 WHERE key = $1`,
			[]byte(key), fails, locked, ceilMicro(rec.ExpiresAt(p)))
		return err
	})
	if err != nil {
		return ratelimit.AttemptDecision{}, fmt.Errorf("postgres: attempt: %w", err)
	}
	return dec, nil
}

// Status implements [ratelimit.AttemptStore]: one SELECT, no lock, no write.
// It sees the last committed record, which is all a status can promise.
func (s *AttemptStore) Status(ctx context.Context, key string, now time.Time, p ratelimit.AttemptPolicy) (ratelimit.AttemptDecision, error) {
	if err := validatePolicy(p); err != nil {
		return ratelimit.AttemptDecision{}, err
	}
	if err := ctx.Err(); err != nil {
		return ratelimit.AttemptDecision{}, err
	}
	var fails []int64
	var locked *int64
	err := s.db.pool.QueryRow(ctx, `SELECT failures, locked_until FROM gatehouse_attempts WHERE key = $1`, []byte(key)).Scan(&fails, &locked)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return ratelimit.AttemptDecision{}, fmt.Errorf("postgres: attempt status: %w", err)
	}
	_, dec := p.Apply(decodeRecord(fails, locked), now, false)
	return dec, nil
}

// Reset implements [ratelimit.AttemptStore]: one DELETE. An Attempt holding
// the row lock finishes first; the DELETE then removes what it wrote.
func (s *AttemptStore) Reset(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := s.db.pool.Exec(ctx, `DELETE FROM gatehouse_attempts WHERE key = $1`, []byte(key)); err != nil {
		return fmt.Errorf("postgres: reset attempts: %w", err)
	}
	return nil
}

// DeleteExpired deletes the records that stopped affecting decisions at or
// before now and returns how many it deleted. Records are otherwise kept
// forever, so hosts call it periodically (say every few minutes). It is one
// DELETE on an index; a record that a concurrent Attempt renews is re-checked
// after the Attempt commits (READ COMMITTED re-evaluates the condition on the
// new row version) and kept.
func (s *AttemptStore) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.db.pool.Exec(ctx, `DELETE FROM gatehouse_attempts WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired attempts: %w", err)
	}
	return tag.RowsAffected(), nil
}

func decodeRecord(fails []int64, locked *int64) ratelimit.AttemptRecord {
	var rec ratelimit.AttemptRecord
	if len(fails) > 0 {
		rec.Failures = make([]time.Time, len(fails))
		for i, ns := range fails {
			rec.Failures[i] = time.Unix(0, ns)
		}
	}
	if locked != nil {
		rec.LockedUntil = time.Unix(0, *locked)
	}
	return rec
}

func encodeRecord(rec ratelimit.AttemptRecord) ([]int64, *int64) {
	fails := make([]int64, len(rec.Failures))
	for i, t := range rec.Failures {
		fails[i] = t.UnixNano()
	}
	var locked *int64
	if !rec.LockedUntil.IsZero() {
		ns := rec.LockedUntil.UnixNano()
		locked = &ns
	}
	return fails, locked
}

// ceilMicro rounds t up to PostgreSQL's microsecond precision, so that a
// record is never swept before it expires.
func ceilMicro(t time.Time) time.Time {
	if r := t.Truncate(time.Microsecond); !r.Equal(t) {
		return r.Add(time.Microsecond)
	}
	return t
}

// validatePolicy rejects policies no store can apply, like the in-memory
// store does.
func validatePolicy(p ratelimit.AttemptPolicy) error {
	if p.Window <= 0 {
		return fmt.Errorf("%w: attempts window must be positive", ratelimit.ErrInvalidConfig)
	}
	for _, d := range p.Delays {
		if d < 0 || d > p.Window {
			return fmt.Errorf("%w: attempt delay %v outside [0, window %v]", ratelimit.ErrInvalidConfig, d, p.Window)
		}
	}
	if p.MaxFailures > 0 && p.LockoutDuration <= 0 {
		return fmt.Errorf("%w: lockout duration must be positive", ratelimit.ErrInvalidConfig)
	}
	return nil
}
