package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/mfa"
	"github.com/jackc/pgx/v5"
)

// MFAStore is an [mfa.Store] (TOTP enrolments, backup codes, login
// challenges and sent codes) in the tables gatehouse_mfa_*. Times are kept
// at PostgreSQL's microsecond precision. Expired challenges and sent codes
// stay until [MFAStore.DeleteExpired] removes them; every method treats
// them as missing meanwhile.
//
// It is safe for concurrent use.
type MFAStore struct {
	db *DB
}

var _ mfa.Store = (*MFAStore)(nil)

// MFA returns the store of MFA state.
func (db *DB) MFA() *MFAStore { return &MFAStore{db: db} }

const totpColumns = `user_id, id, secret, algorithm, digits, period, created_at, confirmed_at, last_step, pending_backup_codes`

// PutPendingTOTP implements [mfa.TOTPStore.PutPendingTOTP]: one upsert
// whose update applies only while the stored enrolment is unconfirmed (ON
// CONFLICT ... DO UPDATE ... WHERE, evaluated under the row lock), so a
// confirmed enrolment is never replaced.
func (s *MFAStore) PutPendingTOTP(ctx context.Context, r mfa.TOTPRecord) error {
	tag, err := s.db.pool.Exec(ctx, `INSERT INTO gatehouse_mfa_totp AS t (`+totpColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9)
ON CONFLICT (user_id) DO UPDATE SET id = EXCLUDED.id, secret = EXCLUDED.secret, algorithm = EXCLUDED.algorithm,
	digits = EXCLUDED.digits, period = EXCLUDED.period, created_at = EXCLUDED.created_at, confirmed_at = NULL,
	last_step = EXCLUDED.last_step, pending_backup_codes = EXCLUDED.pending_backup_codes
WHERE t.confirmed_at IS NULL`,
		r.UserID, r.ID, r.Secret, r.Algorithm, r.Digits, r.Period, r.CreatedAt, r.LastStep, list(r.PendingBackupCodes))
	if err != nil {
		return fmt.Errorf("postgres: put pending totp: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return mfa.ErrEnabled
	}
	return nil
}

// GetTOTP implements [mfa.TOTPStore.GetTOTP]: one read by primary key.
func (s *MFAStore) GetTOTP(ctx context.Context, userID string) (mfa.TOTPRecord, error) {
	var r mfa.TOTPRecord
	var confirmed *time.Time
	err := s.db.pool.QueryRow(ctx, `SELECT `+totpColumns+` FROM gatehouse_mfa_totp WHERE user_id = $1`, userID).Scan(
		&r.UserID, &r.ID, &r.Secret, &r.Algorithm, &r.Digits, &r.Period, &r.CreatedAt, &confirmed, &r.LastStep, &r.PendingBackupCodes)
	if errors.Is(err, pgx.ErrNoRows) {
		return mfa.TOTPRecord{}, mfa.ErrNotFound
	}
	if err != nil {
		return mfa.TOTPRecord{}, fmt.Errorf("postgres: get totp: %w", err)
	}
	r.CreatedAt = r.CreatedAt.UTC()
	r.ConfirmedAt = fromNull(confirmed)
	if len(r.PendingBackupCodes) == 0 {
		r.PendingBackupCodes = nil
	}
	return r, nil
}

// ConfirmTOTP implements [mfa.TOTPStore.ConfirmTOTP]: one UPDATE matching
// only the pending enrolment with that ID, so of concurrent confirmations
// the row lock lets exactly one match.
func (s *MFAStore) ConfirmTOTP(ctx context.Context, userID, id string, step int64, at time.Time) error {
	tag, err := s.db.pool.Exec(ctx, `UPDATE gatehouse_mfa_totp SET confirmed_at = $3, last_step = $4, pending_backup_codes = '{}'
WHERE user_id = $1 AND id = $2 AND confirmed_at IS NULL`, userID, id, at, step)
	if err != nil {
		return fmt.Errorf("postgres: confirm totp: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return mfa.ErrNotFound
	}
	return nil
}

// AdvanceTOTPStep implements [mfa.TOTPStore.AdvanceTOTPStep]: one UPDATE
// that matches only when step is greater than the stored one (a
// compare-and-set under the row lock, so one code is accepted once). When
// nothing matched, a read tells a replay (false) from a missing enrolment.
func (s *MFAStore) AdvanceTOTPStep(ctx context.Context, userID string, step int64) (bool, error) {
	tag, err := s.db.pool.Exec(ctx, `UPDATE gatehouse_mfa_totp SET last_step = $2
WHERE user_id = $1 AND confirmed_at IS NOT NULL AND last_step < $2`, userID, step)
	if err != nil {
		return false, fmt.Errorf("postgres: advance totp step: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	var confirmed bool
	err = s.db.pool.QueryRow(ctx, `SELECT confirmed_at IS NOT NULL FROM gatehouse_mfa_totp WHERE user_id = $1`, userID).Scan(&confirmed)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !confirmed) {
		return false, mfa.ErrNotFound
	}
	if err != nil {
		return false, fmt.Errorf("postgres: advance totp step: %w", err)
	}
	return false, nil
}

// DeleteTOTP implements [mfa.TOTPStore.DeleteTOTP]: one DELETE.
func (s *MFAStore) DeleteTOTP(ctx context.Context, userID string) error {
	if _, err := s.db.pool.Exec(ctx, `DELETE FROM gatehouse_mfa_totp WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("postgres: delete totp: %w", err)
	}
	return nil
}

// lockUserCodes takes the transaction-level advisory lock of a user's
// backup codes, which every change of the set holds.
func lockUserCodes(ctx context.Context, tx pgx.Tx, userID string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('gatehouse_backup:' || $1, 0))`, userID)
	return err
}

// ReplaceBackupCodes implements [mfa.BackupCodeStore.ReplaceBackupCodes].
//
// Isolation: one READ COMMITTED transaction holding the user's advisory
// lock (shared with ConsumeBackupCode): it deletes the old set and inserts
// the new one, so a code of the old set is either consumed before or
// refused after.
func (s *MFAStore) ReplaceBackupCodes(ctx context.Context, userID string, hashes []string) error {
	err := pgx.BeginFunc(ctx, s.db.pool, func(tx pgx.Tx) error {
		if err := lockUserCodes(ctx, tx, userID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM gatehouse_mfa_backup_codes WHERE user_id = $1`, userID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO gatehouse_mfa_backup_codes (user_id, hash)
SELECT $1, h FROM unnest($2::text[]) AS h ON CONFLICT DO NOTHING`, userID, list(hashes))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: replace backup codes: %w", err)
	}
	return nil
}

// ConsumeBackupCode implements [mfa.BackupCodeStore.ConsumeBackupCode].
//
// Isolation: one READ COMMITTED transaction holding the user's advisory
// lock: DELETE ... RETURNING removes the code (of concurrent uses of one
// code exactly one deletes the row), and the count that follows sees every
// earlier consumption, so the remaining counts are exact.
func (s *MFAStore) ConsumeBackupCode(ctx context.Context, userID, hash string) (int, error) {
	remaining := 0
	var outcome error
	err := pgx.BeginFunc(ctx, s.db.pool, func(tx pgx.Tx) error {
		outcome = nil
		if err := lockUserCodes(ctx, tx, userID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM gatehouse_mfa_backup_codes WHERE user_id = $1 AND hash = $2`, userID, hash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			outcome = mfa.ErrNotFound
			return nil
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM gatehouse_mfa_backup_codes WHERE user_id = $1`, userID).Scan(&remaining)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: consume backup code: %w", err)
	}
	if outcome != nil {
		return 0, outcome
	}
	return remaining, nil
}

// CountBackupCodes implements [mfa.BackupCodeStore.CountBackupCodes].
func (s *MFAStore) CountBackupCodes(ctx context.Context, userID string) (int, error) {
	var n int
	if err := s.db.pool.QueryRow(ctx, `SELECT count(*) FROM gatehouse_mfa_backup_codes WHERE user_id = $1`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count backup codes: %w", err)
	}
	return n, nil
}

// challenged is the JSON form of mfa.User in gatehouse_mfa_challenges.
type challenged struct {
	ID        string    `json:"id"`
	Name      string    `json:"name,omitempty"`
	Email     string    `json:"email,omitempty"`
	Phone     string    `json:"phone,omitempty"`
	Roles     []string  `json:"roles"`
	CreatedAt time.Time `json:"created_at"`
}

// CreateChallenge implements [mfa.ChallengeStore.CreateChallenge]: one
// INSERT ... ON CONFLICT DO NOTHING.
func (s *MFAStore) CreateChallenge(ctx context.Context, c mfa.ChallengeRecord) error {
	u := challenged{ID: c.User.ID, Name: c.User.Name, Email: c.User.Email, Phone: c.User.Phone, Roles: c.User.Roles, CreatedAt: c.User.CreatedAt}
	tag, err := s.db.pool.Exec(ctx, `INSERT INTO gatehouse_mfa_challenges (token_hash, challenged, first_factor, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token_hash) DO NOTHING`, c.TokenHash, u, c.FirstFactor, c.CreatedAt, c.ExpiresAt)
	if err != nil {
		return fmt.Errorf("postgres: create challenge: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return mfa.ErrExists
	}
	return nil
}

// GetChallenge implements [mfa.ChallengeStore.GetChallenge]: one read by
// primary key of a challenge live at now.
func (s *MFAStore) GetChallenge(ctx context.Context, tokenHash string, now time.Time) (mfa.ChallengeRecord, error) {
	c, err := scanChallenge(s.db.pool.QueryRow(ctx, `SELECT token_hash, challenged, first_factor, created_at, expires_at
FROM gatehouse_mfa_challenges WHERE token_hash = $1 AND expires_at > $2`, tokenHash, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return mfa.ChallengeRecord{}, mfa.ErrNotFound
	}
	if err != nil {
		return mfa.ChallengeRecord{}, fmt.Errorf("postgres: get challenge: %w", err)
	}
	return c, nil
}

// ConsumeChallenge implements [mfa.ChallengeStore.ConsumeChallenge]: one
// DELETE ... RETURNING, so of concurrent consumptions exactly one gets the
// row. An expired challenge is deleted too, and reported as not found.
func (s *MFAStore) ConsumeChallenge(ctx context.Context, tokenHash string, now time.Time) (mfa.ChallengeRecord, error) {
	c, err := scanChallenge(s.db.pool.QueryRow(ctx, `DELETE FROM gatehouse_mfa_challenges WHERE token_hash = $1
RETURNING token_hash, challenged, first_factor, created_at, expires_at`, tokenHash))
	if errors.Is(err, pgx.ErrNoRows) {
		return mfa.ChallengeRecord{}, mfa.ErrNotFound
	}
	if err != nil {
		return mfa.ChallengeRecord{}, fmt.Errorf("postgres: consume challenge: %w", err)
	}
	if !now.Before(c.ExpiresAt) {
		return mfa.ChallengeRecord{}, mfa.ErrNotFound
	}
	return c, nil
}

func scanChallenge(row pgx.Row) (mfa.ChallengeRecord, error) {
	var c mfa.ChallengeRecord
	var raw []byte
	if err := row.Scan(&c.TokenHash, &raw, &c.FirstFactor, &c.CreatedAt, &c.ExpiresAt); err != nil {
		return mfa.ChallengeRecord{}, err
	}
	var u challenged
	if err := json.Unmarshal(raw, &u); err != nil {
		return mfa.ChallengeRecord{}, fmt.Errorf("challenge user: %w", err)
	}
	c.User = mfa.User{ID: u.ID, Name: u.Name, Email: u.Email, Phone: u.Phone, Roles: u.Roles, CreatedAt: u.CreatedAt}
	c.CreatedAt, c.ExpiresAt = c.CreatedAt.UTC(), c.ExpiresAt.UTC()
	return c, nil
}

// PutSentCode implements [mfa.ChallengeStore.PutSentCode]: one upsert whose
// update applies only when the stored code's resend_at is not after the new
// SentAt (evaluated under the row lock, also against a concurrent first
// insert), so the throttle check and the write are one step. When it is
// throttled, a read returns the stored resend_at.
func (s *MFAStore) PutSentCode(ctx context.Context, c mfa.SentCode) (time.Time, error) {
	tag, err := s.db.pool.Exec(ctx, `INSERT INTO gatehouse_mfa_sent_codes AS s (user_id, hash, channel, sent_at, expires_at, resend_at, attempts_left)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (user_id) DO UPDATE SET hash = EXCLUDED.hash, channel = EXCLUDED.channel, sent_at = EXCLUDED.sent_at,
	expires_at = EXCLUDED.expires_at, resend_at = EXCLUDED.resend_at, attempts_left = EXCLUDED.attempts_left
WHERE s.resend_at <= EXCLUDED.sent_at`,
		c.UserID, c.Hash, string(c.Channel), c.SentAt, c.ExpiresAt, c.ResendAt, c.AttemptsLeft)
	if err != nil {
		return time.Time{}, fmt.Errorf("postgres: put sent code: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return time.Time{}, nil
	}
	var resendAt time.Time
	if err := s.db.pool.QueryRow(ctx, `SELECT resend_at FROM gatehouse_mfa_sent_codes WHERE user_id = $1`, c.UserID).Scan(&resendAt); err != nil {
		return time.Time{}, fmt.Errorf("postgres: put sent code: %w", err)
	}
	return resendAt.UTC(), mfa.ErrThrottled
}

// UseSentCode implements [mfa.ChallengeStore.UseSentCode].
//
// Isolation: one READ COMMITTED transaction that reads the user's code with
// SELECT ... FOR UPDATE, so concurrent guesses queue on the row: exactly one
// right guess wins, and wrong guesses never use more attempts than there
// are.
func (s *MFAStore) UseSentCode(ctx context.Context, userID, hash string, now time.Time) (mfa.Method, error) {
	var channel mfa.Method
	var outcome error
	err := pgx.BeginFunc(ctx, s.db.pool, func(tx pgx.Tx) error {
		channel, outcome = "", nil
		var stored, ch string
		var expires time.Time
		var left int
		err := tx.QueryRow(ctx, `SELECT hash, channel, expires_at, attempts_left FROM gatehouse_mfa_sent_codes
WHERE user_id = $1 FOR UPDATE`, userID).Scan(&stored, &ch, &expires, &left)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			outcome = mfa.ErrNotFound
			return nil
		case err != nil:
			return err
		case stored == "" || left <= 0 || !now.Before(expires):
			outcome = mfa.ErrNotFound
			return nil
		case stored == hash:
			channel = mfa.Method(ch)
			_, err := tx.Exec(ctx, `UPDATE gatehouse_mfa_sent_codes SET hash = '', attempts_left = 0 WHERE user_id = $1`, userID)
			return err
		}
		outcome = mfa.ErrCodeMismatch
		if left-1 <= 0 {
			_, err = tx.Exec(ctx, `UPDATE gatehouse_mfa_sent_codes SET hash = '', attempts_left = 0 WHERE user_id = $1`, userID)
		} else {
			_, err = tx.Exec(ctx, `UPDATE gatehouse_mfa_sent_codes SET attempts_left = attempts_left - 1 WHERE user_id = $1`, userID)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("postgres: use sent code: %w", err)
	}
	if outcome != nil {
		return "", outcome
	}
	return channel, nil
}

// DeleteExpired deletes the challenges expired at now, and the sent codes
// that are both expired and past their resend time (they no longer decide
// or throttle anything), and returns how many rows it deleted. Hosts call
// it periodically.
func (s *MFAStore) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, s.db.pool, func(tx pgx.Tx) error {
		a, err := tx.Exec(ctx, `DELETE FROM gatehouse_mfa_challenges WHERE expires_at <= $1`, now)
		if err != nil {
			return err
		}
		b, err := tx.Exec(ctx, `DELETE FROM gatehouse_mfa_sent_codes WHERE expires_at <= $1 AND resend_at <= $1`, now)
		if err != nil {
			return err
		}
		n = a.RowsAffected() + b.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired mfa records: %w", err)
	}
	return n, nil
}
