package mfa

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"log/slog"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/internal/secure"
)

// Enrollment is what [Manager.Setup] returns: the new TOTP secret in the
// forms an authenticator app reads, and the backup codes, all to be shown to
// the user once and never stored in the clear.
//
// String, GoString and LogValue leave the secrets out.
type Enrollment struct {
	// Secret is the shared secret in unpadded base32 (RFC 4648), for manual
	// entry.
	Secret string
	// URL is the otpauth://totp/ key URI holding the secret, issuer, account
	// name, algorithm, digits and period.
	URL string
	// QRCodePNG is a PNG image of a QR code of URL.
	QRCodePNG []byte
	// QRCodeDataURL is QRCodePNG as a "data:image/png;base64,..." URL, for
	// an <img src>.
	QRCodeDataURL string
	// BackupCodes are the backup codes ("XXXX-XXXX-XXXX"). They start
	// working when [Manager.Confirm] succeeds. Empty when backup codes are
	// turned off.
	BackupCodes []string
}

// String describes e without its secrets.
func (e Enrollment) String() string {
	return fmt.Sprintf("mfa enrollment ([redacted] secret, %d backup codes)", len(e.BackupCodes))
}

// GoString describes e without its secrets.
func (e Enrollment) GoString() string { return "mfa.Enrollment{" + e.String() + "}" }

// LogValue implements slog.LogValuer, leaving the secrets out.
func (e Enrollment) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("backup_codes", len(e.BackupCodes)))
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Setup starts a TOTP enrolment for u: it makes a random secret of
// SecretSize bytes, stores it sealed by the keyring as the user's pending
// enrolment (replacing an earlier pending one), and returns it with its
// otpauth URL, a QR code and a new set of backup codes. Nothing changes for
// the user's logins until [Manager.Confirm] proves the app holds the secret.
//
// It fails with conflict wrapping [ErrEnabled] when TOTP is already on
// ([Manager.Disable] it first), and with invalid_request wrapping
// [ErrMethodNotAllowed] when the policy does not accept TOTP.
func (m *Manager) Setup(ctx context.Context, u User) (*Enrollment, error) {
	if u.ID == "" {
		return nil, errNoUserID
	}
	if !m.cfg.Policy.allowed(MethodTOTP) {
		return nil, auth.WrapError(auth.CodeInvalidRequest, "this method is not available", ErrMethodNotAllowed)
	}
	if rec, err := m.store.GetTOTP(ctx, u.ID); err == nil && rec.Confirmed() {
		return nil, auth.WrapError(auth.CodeConflict, "a second factor is already turned on", ErrEnabled)
	} else if err != nil && !isNotFound(err) {
		return nil, fmt.Errorf("mfa: reading TOTP enrolment: %w", err)
	}
	secret := secure.RandomBytes(m.cfg.SecretSize)
	defer clear(secret)
	alg := otp.AlgorithmSHA1
	switch m.cfg.Algorithm {
	case "SHA256":
		alg = otp.AlgorithmSHA256
	case "SHA512":
		alg = otp.AlgorithmSHA512
	}
	digits := otp.DigitsSix
	if m.cfg.Digits == 8 {
		digits = otp.DigitsEight
	}
	period := int(m.cfg.Period.Seconds())
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      m.cfg.Issuer,
		AccountName: u.accountName(),
		Period:      uint(period),
		Secret:      secret,
		Digits:      digits,
		Algorithm:   alg,
	})
	if err != nil {
		return nil, fmt.Errorf("mfa: making the key URI: %w", err)
	}
	img, err := key.Image(m.cfg.QRSize, m.cfg.QRSize)
	if err != nil {
		return nil, fmt.Errorf("mfa: drawing the QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("mfa: encoding the QR code: %w", err)
	}
	sealed, err := m.cfg.Keyring.Encrypt(secret, []byte(u.ID))
	if err != nil {
		return nil, fmt.Errorf("mfa: sealing the secret: %w", err)
	}
	codes, hashes := newBackupCodes(u.ID, m.cfg.BackupCodes)
	rec := TOTPRecord{
		UserID:             u.ID,
		ID:                 secure.Token(16),
		Secret:             sealed,
		Algorithm:          m.cfg.Algorithm,
		Digits:             m.cfg.Digits,
		Period:             period,
		CreatedAt:          m.cfg.Now(),
		PendingBackupCodes: hashes,
	}
	if err := m.store.PutPendingTOTP(ctx, rec); err != nil {
		if errors.Is(err, ErrEnabled) {
			return nil, auth.WrapError(auth.CodeConflict, "a second factor is already turned on", ErrEnabled)
		}
		return nil, fmt.Errorf("mfa: storing TOTP enrolment: %w", err)
	}
	pngBytes := buf.Bytes()
	return &Enrollment{
		Secret:        b32.EncodeToString(secret),
		URL:           key.URL(),
		QRCodePNG:     pngBytes,
		QRCodeDataURL: "data:image/png;base64," + base64.StdEncoding.EncodeToString(pngBytes),
		BackupCodes:   codes,
	}, nil
}

// Confirm turns on the user's pending TOTP enrolment when code is a current
// code of its secret (one step of skew either side), and activates the
// backup codes shown at Setup. The code's time step becomes the last one
// accepted, so the same code cannot then be used to log in. It emits
// mfa_enabled.
//
// A wrong code counts as a failed attempt (see [Config.Attempts]) and fails
// with invalid_credentials; no pending enrolment (none, replaced by a newer
// Setup, or already confirmed) fails with conflict wrapping
// [ErrNoPendingEnrollment].
func (m *Manager) Confirm(ctx context.Context, u User, code string) error {
	if u.ID == "" {
		return errNoUserID
	}
	rec, err := m.store.GetTOTP(ctx, u.ID)
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("mfa: reading TOTP enrolment: %w", err)
	}
	if err != nil || rec.Confirmed() {
		return errNoPending()
	}
	g, err := m.begin(ctx, u.ID, u.Name)
	if err != nil {
		return err
	}
	step, err := m.checkTOTP(rec, code)
	if err != nil {
		return m.fail(ctx, g, MethodTOTP, err)
	}
	now := m.cfg.Now()
	if err := m.store.ConfirmTOTP(ctx, u.ID, rec.ID, step, now); err != nil {
		if isNotFound(err) {
			return errNoPending()
		}
		return fmt.Errorf("mfa: confirming TOTP enrolment: %w", err)
	}
	if len(rec.PendingBackupCodes) > 0 {
		if err := m.store.ReplaceBackupCodes(ctx, u.ID, rec.PendingBackupCodes); err != nil {
			return fmt.Errorf("mfa: storing backup codes: %w", err)
		}
	}
	if err := m.succeed(ctx, g); err != nil {
		return err
	}
	e := m.event(ctx, auth.EventMFAEnabled, u.ID, u.Name, "")
	e.Attrs = map[string]string{"factor": string(MethodTOTP)}
	auth.Emit(m.cfg.Events, e)
	return nil
}

// errNoPending is the answer to a confirmation without a pending enrolment.
func errNoPending() error {
	return auth.WrapError(auth.CodeConflict, "no second factor is awaiting confirmation", ErrNoPendingEnrollment)
}

// checkTOTP opens rec's secret and returns the time step whose code is code,
// at the Manager's clock. It returns ErrMalformedCode, ErrInvalidCode, or
// ErrReplayedCode when the code matches a step at or before rec.LastStep;
// any other error is an internal failure.
func (m *Manager) checkTOTP(rec TOTPRecord, code string) (int64, error) {
	kind, canon, err := parseCode(code)
	if err != nil {
		return 0, err
	}
	if kind != kindOTP || len(canon) != rec.Digits {
		return 0, ErrInvalidCode
	}
	return m.matchTOTP(rec, canon)
}

// matchTOTP is checkTOTP for a canonical digit string.
func (m *Manager) matchTOTP(rec TOTPRecord, canon string) (int64, error) {
	secret, err := m.cfg.Keyring.Decrypt(rec.Secret, []byte(rec.UserID))
	if err != nil {
		return 0, internalError{fmt.Errorf("mfa: opening the TOTP secret: %w", err)}
	}
	tm, ok := newTOTPMatcher(secret, rec.Algorithm, rec.Digits, rec.Period)
	clear(secret)
	if !ok {
		return 0, internalError{fmt.Errorf("mfa: stored TOTP enrolment of %q has bad parameters", rec.UserID)}
	}
	step, ok := tm.match(canon, m.cfg.Now().Unix())
	if !ok {
		return 0, ErrInvalidCode
	}
	if step <= rec.LastStep {
		return 0, ErrReplayedCode
	}
	return step, nil
}
