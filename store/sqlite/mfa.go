package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/mfa"
)

// MFAStore is an [mfa.Store] (TOTP enrolments, backup codes, login
// challenges and sent codes) in the tables gatehouse_mfa_*. Times are kept
// to the microsecond. Expired challenges and sent codes stay until
// [MFAStore.DeleteExpired] removes them; every method treats them as
// missing meanwhile.
//
// Every write runs on the writer: a single statement, or one immediate
// transaction, which holds SQLite's write lock from BEGIN, so a read that
// decides a write cannot interleave with another writer in this process or
// another one using the same file. Each method's comment says which.
//
// It is safe for concurrent use.
type MFAStore struct {
	db *DB
}

var _ mfa.Store = (*MFAStore)(nil)

// MFA returns the store of MFA state.
func (db *DB) MFA() *MFAStore { return &MFAStore{db: db} }

const totpColumns = `user_id, id, secret, algorithm, digits, period, created_at, confirmed_at, last_step, pending_backup_codes`

// PutPendingTOTP implements [mfa.TOTPStore.PutPendingTOTP]: one INSERT ...
// ON CONFLICT DO UPDATE ... WHERE on the writer, whose update applies only
// while the stored enrolment is unconfirmed, so a confirmed enrolment is
// never replaced.
func (s *MFAStore) PutPendingTOTP(ctx context.Context, r mfa.TOTPRecord) error {
	pending, err := jsonList(r.PendingBackupCodes)
	if err != nil {
		return fmt.Errorf("sqlite: put pending totp: %w", err)
	}
	res, err := s.db.w.ExecContext(ctx, `INSERT INTO gatehouse_mfa_totp (`+totpColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)
ON CONFLICT (user_id) DO UPDATE SET id = excluded.id, secret = excluded.secret, algorithm = excluded.algorithm,
	digits = excluded.digits, period = excluded.period, created_at = excluded.created_at, confirmed_at = NULL,
	last_step = excluded.last_step, pending_backup_codes = excluded.pending_backup_codes
WHERE gatehouse_mfa_totp.confirmed_at IS NULL`,
		r.UserID, r.ID, r.Secret, r.Algorithm, r.Digits, r.Period, r.CreatedAt.UnixMicro(), r.LastStep, pending)
	if err != nil {
		return fmt.Errorf("sqlite: put pending totp: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: put pending totp: %w", err)
	}
	if n == 0 {
		return mfa.ErrEnabled
	}
	return nil
}

// GetTOTP implements [mfa.TOTPStore.GetTOTP]: one read by primary key, on
// the read pool.
func (s *MFAStore) GetTOTP(ctx context.Context, userID string) (mfa.TOTPRecord, error) {
	var r mfa.TOTPRecord
	var created int64
	var confirmed sql.NullInt64
	var pending string
	err := s.db.r.QueryRowContext(ctx, `SELECT `+totpColumns+` FROM gatehouse_mfa_totp WHERE user_id = ?`, userID).Scan(
		&r.UserID, &r.ID, &r.Secret, &r.Algorithm, &r.Digits, &r.Period, &created, &confirmed, &r.LastStep, &pending)
	if errors.Is(err, sql.ErrNoRows) {
		return mfa.TOTPRecord{}, mfa.ErrNotFound
	}
	if err != nil {
		return mfa.TOTPRecord{}, fmt.Errorf("sqlite: get totp: %w", err)
	}
	if err := json.Unmarshal([]byte(pending), &r.PendingBackupCodes); err != nil {
		return mfa.TOTPRecord{}, fmt.Errorf("sqlite: get totp of %s: %w", userID, err)
	}
	if len(r.PendingBackupCodes) == 0 {
		r.PendingBackupCodes = nil
	}
	r.CreatedAt = time.UnixMicro(created).UTC()
	r.ConfirmedAt = fromMicro(confirmed)
	return r, nil
}

// ConfirmTOTP implements [mfa.TOTPStore.ConfirmTOTP]: one UPDATE on the
// writer matching only the pending enrolment with that ID, so of
// concurrent confirmations exactly one matches.
func (s *MFAStore) ConfirmTOTP(ctx context.Context, userID, id string, step int64, at time.Time) error {
	res, err := s.db.w.ExecContext(ctx, `UPDATE gatehouse_mfa_totp SET confirmed_at = ?, last_step = ?, pending_backup_codes = '[]'
WHERE user_id = ? AND id = ? AND confirmed_at IS NULL`, at.UnixMicro(), step, userID, id)
	if err != nil {
		return fmt.Errorf("sqlite: confirm totp: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: confirm totp: %w", err)
	}
	if n == 0 {
		return mfa.ErrNotFound
	}
	return nil
}

// AdvanceTOTPStep implements [mfa.TOTPStore.AdvanceTOTPStep].
//
// Isolation: one immediate transaction on the writer: an UPDATE that
// matches only when step is greater than the stored one (a compare-and-set,
// so one code is accepted once), and, when nothing matched, a read in the
// same transaction that tells a replay (false) from a missing or pending
// enrolment.
func (s *MFAStore) AdvanceTOTPStep(ctx context.Context, userID string, step int64) (bool, error) {
	var advanced bool
	var outcome error
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		advanced, outcome = false, nil
		res, err := tx.ExecContext(ctx, `UPDATE gatehouse_mfa_totp SET last_step = ?
WHERE user_id = ? AND confirmed_at IS NOT NULL AND last_step < ?`, step, userID, step)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 1 {
			advanced = true
			return nil
		}
		var confirmed bool
		err = tx.QueryRowContext(ctx, `SELECT confirmed_at IS NOT NULL FROM gatehouse_mfa_totp WHERE user_id = ?`, userID).Scan(&confirmed)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !confirmed) {
			outcome = mfa.ErrNotFound
			return nil
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: advance totp step: %w", err)
	}
	return advanced, outcome
}

// DeleteTOTP implements [mfa.TOTPStore.DeleteTOTP]: one DELETE.
func (s *MFAStore) DeleteTOTP(ctx context.Context, userID string) error {
	if _, err := s.db.w.ExecContext(ctx, `DELETE FROM gatehouse_mfa_totp WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("sqlite: delete totp: %w", err)
	}
	return nil
}

// ReplaceBackupCodes implements [mfa.BackupCodeStore.ReplaceBackupCodes].
//
// Isolation: one immediate transaction on the writer that deletes the old
// set and inserts the new one (duplicates once), so a code of the old set
// is either consumed before or refused after.
func (s *MFAStore) ReplaceBackupCodes(ctx context.Context, userID string, hashes []string) error {
	set, err := jsonList(hashes)
	if err != nil {
		return fmt.Errorf("sqlite: replace backup codes: %w", err)
	}
	err = s.db.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM gatehouse_mfa_backup_codes WHERE user_id = ?`, userID); err != nil {
			return err
		}
		// "WHERE true" lets SQLite parse the upsert after a SELECT.
		_, err := tx.ExecContext(ctx, `INSERT INTO gatehouse_mfa_backup_codes (user_id, hash)
SELECT ?, value FROM json_each(?) WHERE true ON CONFLICT DO NOTHING`, userID, set)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: replace backup codes: %w", err)
	}
	return nil
}

// ConsumeBackupCode implements [mfa.BackupCodeStore.ConsumeBackupCode].
//
// Isolation: one immediate transaction on the writer: the DELETE removes
// the code (of concurrent uses of one code exactly one deletes the row),
// and the count that follows sees every earlier consumption and no later
// one, so the remaining counts are exact.
func (s *MFAStore) ConsumeBackupCode(ctx context.Context, userID, hash string) (int, error) {
	remaining := 0
	var outcome error
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		outcome = nil
		res, err := tx.ExecContext(ctx, `DELETE FROM gatehouse_mfa_backup_codes WHERE user_id = ? AND hash = ?`, userID, hash)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			outcome = mfa.ErrNotFound
			return nil
		}
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM gatehouse_mfa_backup_codes WHERE user_id = ?`, userID).Scan(&remaining)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: consume backup code: %w", err)
	}
	if outcome != nil {
		return 0, outcome
	}
	return remaining, nil
}

// CountBackupCodes implements [mfa.BackupCodeStore.CountBackupCodes]: one
// read on the read pool.
func (s *MFAStore) CountBackupCodes(ctx context.Context, userID string) (int, error) {
	var n int
	if err := s.db.r.QueryRowContext(ctx, `SELECT count(*) FROM gatehouse_mfa_backup_codes WHERE user_id = ?`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count backup codes: %w", err)
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
// INSERT ... ON CONFLICT DO NOTHING on the writer.
func (s *MFAStore) CreateChallenge(ctx context.Context, c mfa.ChallengeRecord) error {
	u, err := json.Marshal(challenged{ID: c.User.ID, Name: c.User.Name, Email: c.User.Email, Phone: c.User.Phone, Roles: c.User.Roles, CreatedAt: c.User.CreatedAt})
	if err != nil {
		return fmt.Errorf("sqlite: create challenge: %w", err)
	}
	res, err := s.db.w.ExecContext(ctx, `INSERT INTO gatehouse_mfa_challenges (token_hash, challenged, first_factor, created_at, expires_at)
VALUES (?, ?, ?, ?, ?) ON CONFLICT (token_hash) DO NOTHING`, c.TokenHash, string(u), c.FirstFactor, c.CreatedAt.UnixMicro(), c.ExpiresAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("sqlite: create challenge: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: create challenge: %w", err)
	}
	if n == 0 {
		return mfa.ErrExists
	}
	return nil
}

const challengeColumns = `token_hash, challenged, first_factor, created_at, expires_at`

// GetChallenge implements [mfa.ChallengeStore.GetChallenge]: one read by
// primary key, on the read pool, of a challenge live at now.
func (s *MFAStore) GetChallenge(ctx context.Context, tokenHash string, now time.Time) (mfa.ChallengeRecord, error) {
	c, err := scanChallenge(s.db.r.QueryRowContext(ctx, `SELECT `+challengeColumns+`
FROM gatehouse_mfa_challenges WHERE token_hash = ? AND expires_at > ?`, tokenHash, now.UnixMicro()))
	if errors.Is(err, sql.ErrNoRows) {
		return mfa.ChallengeRecord{}, mfa.ErrNotFound
	}
	if err != nil {
		return mfa.ChallengeRecord{}, fmt.Errorf("sqlite: get challenge: %w", err)
	}
	return c, nil
}

// ConsumeChallenge implements [mfa.ChallengeStore.ConsumeChallenge]: one
// DELETE ... RETURNING on the writer, so of concurrent consumptions exactly
// one gets the row. An expired challenge is deleted too, and reported as
// not found.
func (s *MFAStore) ConsumeChallenge(ctx context.Context, tokenHash string, now time.Time) (mfa.ChallengeRecord, error) {
	c, err := scanChallenge(s.db.w.QueryRowContext(ctx, `DELETE FROM gatehouse_mfa_challenges WHERE token_hash = ?
RETURNING `+challengeColumns, tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return mfa.ChallengeRecord{}, mfa.ErrNotFound
	}
	if err != nil {
		return mfa.ChallengeRecord{}, fmt.Errorf("sqlite: consume challenge: %w", err)
	}
	if !now.Before(c.ExpiresAt) {
		return mfa.ChallengeRecord{}, mfa.ErrNotFound
	}
	return c, nil
}

// scanChallenge reads one row of challengeColumns.
func scanChallenge(row scanner) (mfa.ChallengeRecord, error) {
	var c mfa.ChallengeRecord
	var raw string
	var created, expires int64
	if err := row.Scan(&c.TokenHash, &raw, &c.FirstFactor, &created, &expires); err != nil {
		return mfa.ChallengeRecord{}, err
	}
	var u challenged
	if err := json.Unmarshal([]byte(raw), &u); err != nil {
		return mfa.ChallengeRecord{}, fmt.Errorf("challenge user: %w", err)
	}
	c.User = mfa.User{ID: u.ID, Name: u.Name, Email: u.Email, Phone: u.Phone, Roles: u.Roles, CreatedAt: u.CreatedAt.UTC()}
	c.CreatedAt, c.ExpiresAt = time.UnixMicro(created).UTC(), time.UnixMicro(expires).UTC()
	return c, nil
}

// PutSentCode implements [mfa.ChallengeStore.PutSentCode].
//
// Isolation: one immediate transaction on the writer: an upsert whose
// update applies only when the stored code's resend_at is not after the
// new SentAt, so the throttle check and the write are one step; when it is
// throttled, a read in the same transaction returns the resend_at that
// refused it.
func (s *MFAStore) PutSentCode(ctx context.Context, c mfa.SentCode) (time.Time, error) {
	var resendAt int64
	var outcome error
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		outcome = nil
		res, err := tx.ExecContext(ctx, `INSERT INTO gatehouse_mfa_sent_codes (user_id, hash, channel, sent_at, expires_at, resend_at, attempts_left)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, channel = excluded.channel, sent_at = excluded.sent_at,
	expires_at = excluded.expires_at, resend_at = excluded.resend_at, attempts_left = excluded.attempts_left
WHERE gatehouse_mfa_sent_codes.resend_at <= excluded.sent_at`,
			c.UserID, c.Hash, string(c.Channel), c.SentAt.UnixMicro(), c.ExpiresAt.UnixMicro(), c.ResendAt.UnixMicro(), c.AttemptsLeft)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 1 {
			return err
		}
		outcome = mfa.ErrThrottled
		return tx.QueryRowContext(ctx, `SELECT resend_at FROM gatehouse_mfa_sent_codes WHERE user_id = ?`, c.UserID).Scan(&resendAt)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: put sent code: %w", err)
	}
	if outcome != nil {
		return time.UnixMicro(resendAt).UTC(), outcome
	}
	return time.Time{}, nil
}

// UseSentCode implements [mfa.ChallengeStore.UseSentCode].
//
// Isolation: one immediate transaction on the writer that reads the user's
// code and writes the outcome back, so concurrent guesses take turns:
// exactly one right guess wins, and wrong guesses never use more attempts
// than there are.
func (s *MFAStore) UseSentCode(ctx context.Context, userID, hash string, now time.Time) (mfa.Method, error) {
	var channel mfa.Method
	var outcome error
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		channel, outcome = "", nil
		var stored, ch string
		var expires int64
		var left int
		err := tx.QueryRowContext(ctx, `SELECT hash, channel, expires_at, attempts_left FROM gatehouse_mfa_sent_codes
WHERE user_id = ?`, userID).Scan(&stored, &ch, &expires, &left)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			outcome = mfa.ErrNotFound
			return nil
		case err != nil:
			return err
		case stored == "" || left <= 0 || !now.Before(time.UnixMicro(expires)):
			outcome = mfa.ErrNotFound
			return nil
		case stored == hash:
			channel = mfa.Method(ch)
			_, err := tx.ExecContext(ctx, `UPDATE gatehouse_mfa_sent_codes SET hash = '', attempts_left = 0 WHERE user_id = ?`, userID)
			return err
		}
		outcome = mfa.ErrCodeMismatch
		if left-1 <= 0 {
			_, err = tx.ExecContext(ctx, `UPDATE gatehouse_mfa_sent_codes SET hash = '', attempts_left = 0 WHERE user_id = ?`, userID)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE gatehouse_mfa_sent_codes SET attempts_left = attempts_left - 1 WHERE user_id = ?`, userID)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("sqlite: use sent code: %w", err)
	}
	if outcome != nil {
		return "", outcome
	}
	return channel, nil
}

// DeleteExpired deletes the challenges expired at now, and the sent codes
// that are both expired and past their resend time (they no longer decide
// or throttle anything), in one immediate transaction, and returns how
// many rows it deleted. Hosts call it periodically.
func (s *MFAStore) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	us := now.UnixMicro()
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, q := range []string{
			`DELETE FROM gatehouse_mfa_challenges WHERE expires_at <= ?1`,
			`DELETE FROM gatehouse_mfa_sent_codes WHERE expires_at <= ?1 AND resend_at <= ?1`,
		} {
			res, err := tx.ExecContext(ctx, q, us)
			if err != nil {
				return err
			}
			m, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += m
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired mfa records: %w", err)
	}
	return n, nil
}
