package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/ratelimit"
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
// Isolation: one immediate transaction on the writer. It holds SQLite's
// write lock from BEGIN, so reading the record, applying the policy and
// writing the result back cannot interleave with another Attempt, in this
// process or any other.
func (s *AttemptStore) Attempt(ctx context.Context, key string, now time.Time, p ratelimit.AttemptPolicy) (ratelimit.AttemptDecision, error) {
	if err := validatePolicy(p); err != nil {
		return ratelimit.AttemptDecision{}, err
	}
	var dec ratelimit.AttemptDecision
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		old, err := readRecord(ctx, tx, key)
		if err != nil {
			return err
		}
		var rec ratelimit.AttemptRecord
		rec, dec = p.Apply(old, now, true)
		if rec.Empty() {
			_, err = tx.ExecContext(ctx, `DELETE FROM gatehouse_attempts WHERE key = ?`, []byte(key))
			return err
		}
		fails, locked := encodeRecord(rec)
		_, err = tx.ExecContext(ctx, `INSERT INTO gatehouse_attempts (key, failures, locked_until, expires_at) VALUES (?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until, expires_at = excluded.expires_at`,
			[]byte(key), fails, locked, rec.ExpiresAt(p).UnixNano())
		return err
	})
	if err != nil {
		return ratelimit.AttemptDecision{}, fmt.Errorf("sqlite: attempt: %w", err)
	}
	return dec, nil
}

// Status implements [ratelimit.AttemptStore]: one read on the read pool, no
// write.
func (s *AttemptStore) Status(ctx context.Context, key string, now time.Time, p ratelimit.AttemptPolicy) (ratelimit.AttemptDecision, error) {
	if err := validatePolicy(p); err != nil {
		return ratelimit.AttemptDecision{}, err
	}
	rec, err := readRecord(ctx, s.db.r, key)
	if err != nil {
		return ratelimit.AttemptDecision{}, fmt.Errorf("sqlite: attempt status: %w", err)
	}
	_, dec := p.Apply(rec, now, false)
	return dec, nil
}

// Reset implements [ratelimit.AttemptStore]: one DELETE.
func (s *AttemptStore) Reset(ctx context.Context, key string) error {
	if _, err := s.db.w.ExecContext(ctx, `DELETE FROM gatehouse_attempts WHERE key = ?`, []byte(key)); err != nil {
		return fmt.Errorf("sqlite: reset attempts: %w", err)
	}
	return nil
}

// DeleteExpired deletes the records that stopped affecting decisions at or
// before now and returns how many it deleted. Records are otherwise kept
// forever, so hosts call it periodically (say every few minutes). It is one
// DELETE on an index.
func (s *AttemptStore) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.w.ExecContext(ctx, `DELETE FROM gatehouse_attempts WHERE expires_at <= ?`, now.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired attempts: %w", err)
	}
	return res.RowsAffected()
}

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func readRecord(ctx context.Context, q queryer, key string) (ratelimit.AttemptRecord, error) {
	var fails string
	var locked sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT failures, locked_until FROM gatehouse_attempts WHERE key = ?`, []byte(key)).Scan(&fails, &locked)
	if errors.Is(err, sql.ErrNoRows) {
		return ratelimit.AttemptRecord{}, nil
	}
	if err != nil {
		return ratelimit.AttemptRecord{}, err
	}
	var rec ratelimit.AttemptRecord
	for f := range strings.FieldsSeq(fails) {
		ns, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return ratelimit.AttemptRecord{}, fmt.Errorf("corrupt failure time %q", f)
		}
		rec.Failures = append(rec.Failures, time.Unix(0, ns))
	}
	if locked.Valid {
		rec.LockedUntil = time.Unix(0, locked.Int64)
	}
	return rec, nil
}

func encodeRecord(rec ratelimit.AttemptRecord) (string, sql.NullInt64) {
	var b strings.Builder
	for i, t := range rec.Failures {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatInt(t.UnixNano(), 10))
	}
	var locked sql.NullInt64
	if !rec.LockedUntil.IsZero() {
		locked = sql.NullInt64{Int64: rec.LockedUntil.UnixNano(), Valid: true}
	}
	return b.String(), locked
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
