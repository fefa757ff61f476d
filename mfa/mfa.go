package mfa

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
)

// Defaults of [Config].
const (
	DefaultIssuer           = "Gatehouse"
	DefaultDigits           = 6
	DefaultPeriod           = 30 * time.Second
	DefaultSecretSize       = 20
	DefaultQRSize           = 256
	DefaultBackupCodes      = 10
	DefaultChallengeTTL     = 5 * time.Minute
	DefaultSentCodeTTL      = 5 * time.Minute
	DefaultSentCodeAttempts = 5
	DefaultResendInterval   = time.Minute
)

// SentCodeDigits is the length of codes sent by email or SMS.
const SentCodeDigits = 6

// Config configures a [Manager]. Only Keyring is required; every zero field
// has a secure default.
type Config struct {
	// Keyring seals TOTP secrets at rest (AES-256-GCM, bound to the user ID).
	// Required.
	Keyring *auth.Keyring
	// Store keeps enrolments, backup codes, challenges and sent codes. Nil
	// means a [MemoryStore] private to this Manager.
	Store Store
	// Attempts counts failed second-factor attempts per user (key
	// "mfa:"+user ID), across TOTP, backup and sent codes: each failure
	// delays the next attempt, and too many lock the user's second factor.
	// Nil means a limiter with the ratelimit defaults (delays of 1, 2, 5, 10
	// and 30 seconds; 5 failures in 15 minutes lock for 15 minutes) on a
	// private in-memory store, using Now. Several instances need a limiter
	// on a shared store.
	Attempts *ratelimit.AttemptsLimiter
	// Sender delivers email and SMS codes. Nil means those methods are not
	// available even if the policy lists them.
	Sender Sender
	// Policy says which factors are accepted and who must use one.
	Policy Policy

	// Issuer is the issuer shown by authenticator apps (the otpauth
	// "issuer" parameter and label prefix). Empty means "Gatehouse". It may
	// not contain a colon.
	Issuer string
	// Algorithm is the TOTP HMAC hash of new enrolments: "SHA1", "SHA256" or
	// "SHA512". Empty means SHA1, the only one every authenticator app
	// supports. Existing enrolments keep the algorithm they were made with.
	Algorithm string
	// Digits is the TOTP code length of new enrolments, 6 or 8. Zero means 6.
	Digits int
	// Period is the TOTP time step of new enrolments, whole seconds from 15
	// to 120. Zero means 30 seconds (RFC 6238 §5.2).
	Period time.Duration
	// SecretSize is the TOTP secret length in bytes, at least 16 (RFC 4226
	// §4 R6: 128 bits minimum). Zero means 20 (160 bits, the RFC's advice).
	SecretSize int
	// QRSize is the width and height of the QR code PNG in pixels, 64 to
	// 1024. Zero means 256.
	QRSize int
	// BackupCodes is how many backup codes a set holds. Zero means 10; a
	// negative value turns backup codes off.
	BackupCodes int
	// ChallengeTTL is how long an mfa_token lives. Zero means 5 minutes; at
	// most 15 minutes.
	ChallengeTTL time.Duration
	// SentCodeTTL is how long a sent code lives. Zero means 5 minutes; at
	// most 15 minutes.
	SentCodeTTL time.Duration
	// SentCodeAttempts is how many wrong guesses void a sent code. Zero
	// means 5; at most 10.
	SentCodeAttempts int
	// ResendInterval is the least time between two codes sent to one user.
	// Zero means one minute; at least one second.
	ResendInterval time.Duration
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Events receives mfa_enabled, mfa_disabled, mfa_challenge, mfa_failed,
	// backup_code_used, account_locked and account_unlocked. Nil discards.
	Events auth.Emitter
}

// Manager enrols and verifies second factors and runs the login challenge.
// It is safe for concurrent use.
type Manager struct {
	cfg      Config
	store    Store
	attempts *ratelimit.AttemptsLimiter
	lockout  time.Duration
}

var errNoUserID = errors.New("mfa: user ID is empty")

// New validates cfg, fills its defaults and returns the Manager. Errors wrap
// [ErrInvalidConfig].
func New(cfg Config) (*Manager, error) {
	bad := func(msg string) (*Manager, error) { return nil, fmt.Errorf("%w: %s", ErrInvalidConfig, msg) }
	if cfg.Keyring == nil {
		return bad("Keyring is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Issuer == "" {
		cfg.Issuer = DefaultIssuer
	}
	for i := 0; i < len(cfg.Issuer); i++ {
		if c := cfg.Issuer[i]; c == ':' || c < 0x20 || c == 0x7f {
			return bad("Issuer may not contain a colon or control characters")
		}
	}
	if cfg.Algorithm == "" {
		cfg.Algorithm = "SHA1"
	}
	if hashFunc(cfg.Algorithm) == nil {
		return bad("Algorithm must be SHA1, SHA256 or SHA512")
	}
	switch cfg.Digits {
	case 0:
		cfg.Digits = DefaultDigits
	case 6, 8:
	default:
		return bad("Digits must be 6 or 8")
	}
	if cfg.Period == 0 {
		cfg.Period = DefaultPeriod
	}
	if cfg.Period%time.Second != 0 || cfg.Period < 15*time.Second || cfg.Period > 120*time.Second {
		return bad("Period must be whole seconds from 15s to 120s")
	}
	if cfg.SecretSize == 0 {
		cfg.SecretSize = DefaultSecretSize
	}
	if cfg.SecretSize < 16 || cfg.SecretSize > 64 {
		return bad("SecretSize must be 16 to 64 bytes")
	}
	if cfg.QRSize == 0 {
		cfg.QRSize = DefaultQRSize
	}
	if cfg.QRSize < 64 || cfg.QRSize > 1024 {
		return bad("QRSize must be 64 to 1024 pixels")
	}
	switch {
	case cfg.BackupCodes == 0:
		cfg.BackupCodes = DefaultBackupCodes
	case cfg.BackupCodes < 0:
		cfg.BackupCodes = 0
	case cfg.BackupCodes > 100:
		return bad("BackupCodes may not exceed 100")
	}
	var err error
	if cfg.ChallengeTTL, err = ttl(cfg.ChallengeTTL, DefaultChallengeTTL, "ChallengeTTL"); err != nil {
		return nil, err
	}
	if cfg.SentCodeTTL, err = ttl(cfg.SentCodeTTL, DefaultSentCodeTTL, "SentCodeTTL"); err != nil {
		return nil, err
	}
	if cfg.SentCodeAttempts == 0 {
		cfg.SentCodeAttempts = DefaultSentCodeAttempts
	}
	if cfg.SentCodeAttempts < 1 || cfg.SentCodeAttempts > 10 {
		return bad("SentCodeAttempts must be 1 to 10")
	}
	if cfg.ResendInterval == 0 {
		cfg.ResendInterval = DefaultResendInterval
	}
	if cfg.ResendInterval < time.Second {
		return bad("ResendInterval must be at least one second")
	}
	if cfg.Policy.GracePeriod < 0 {
		return bad("Policy.GracePeriod is negative")
	}
	for _, meth := range cfg.Policy.Methods {
		switch meth {
		case MethodTOTP, MethodBackupCode, MethodEmail, MethodSMS:
		default:
			return bad("unknown method " + strconv.Quote(string(meth)))
		}
	}
	if cfg.Store == nil {
		cfg.Store = NewMemoryStore()
	}
	if cfg.Attempts == nil {
		cfg.Attempts, err = ratelimit.NewAttemptsLimiter(ratelimit.AttemptsConfig{Now: cfg.Now})
		if err != nil {
			return nil, fmt.Errorf("%w: attempts limiter: %w", ErrInvalidConfig, err)
		}
	}
	return &Manager{
		cfg:      cfg,
		store:    cfg.Store,
		attempts: cfg.Attempts,
		lockout:  cfg.Attempts.Policy().LockoutDuration,
	}, nil
}

func ttl(d, def time.Duration, name string) (time.Duration, error) {
	if d == 0 {
		return def, nil
	}
	if d < time.Second || d > 15*time.Minute {
		return 0, fmt.Errorf("%w: %s must be 1s to 15m", ErrInvalidConfig, name)
	}
	return d, nil
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// event returns an event of type t for the user, with the request metadata
// of ctx.
func (m *Manager) event(ctx context.Context, t auth.EventType, userID, username, reason string) auth.Event {
	e := auth.NewEvent(ctx, t, m.cfg.Now())
	e.Subject = userID
	e.Username = username
	e.Reason = reason
	return e
}

// limiterKey is the attempts-limiter key of a user's second factor.
func limiterKey(userID string) string { return "mfa:" + userID }

// Status is a user's second-factor state, for an account page or GET /me.
type Status struct {
	// Enabled reports that TOTP is turned on.
	Enabled bool
	// EnabledAt is when it was turned on.
	EnabledAt time.Time
	// Pending reports that a Setup awaits confirmation.
	Pending bool
	// BackupCodesRemaining is the number of unused backup codes.
	BackupCodesRemaining int
	// Locked reports that too many failures locked the second factor.
	Locked bool
	// RetryAfter is, when Locked, how long the lock still runs.
	RetryAfter time.Duration
}

// Status returns the user's second-factor state.
func (m *Manager) Status(ctx context.Context, userID string) (Status, error) {
	if userID == "" {
		return Status{}, errNoUserID
	}
	var st Status
	rec, err := m.store.GetTOTP(ctx, userID)
	switch {
	case err == nil:
		st.Enabled, st.EnabledAt, st.Pending = rec.Confirmed(), rec.ConfirmedAt, !rec.Confirmed()
	case !isNotFound(err):
		return Status{}, fmt.Errorf("mfa: reading TOTP enrolment: %w", err)
	}
	if st.BackupCodesRemaining, err = m.store.CountBackupCodes(ctx, userID); err != nil {
		return Status{}, fmt.Errorf("mfa: counting backup codes: %w", err)
	}
	d, err := m.attempts.Status(ctx, limiterKey(userID))
	if err != nil {
		return Status{}, fmt.Errorf("mfa: %w", err)
	}
	st.Locked = d.Locked
	if d.Locked {
		st.RetryAfter = d.RetryAfter
	}
	return st, nil
}

// methods returns the factors u can use now and whether TOTP is on.
func (m *Manager) methods(ctx context.Context, u User) ([]Method, bool, error) {
	var out []Method
	p := m.cfg.Policy
	rec, err := m.store.GetTOTP(ctx, u.ID)
	if err != nil && !isNotFound(err) {
		return nil, false, fmt.Errorf("mfa: reading TOTP enrolment: %w", err)
	}
	enabled := err == nil && rec.Confirmed()
	if enabled && p.allowed(MethodTOTP) {
		out = append(out, MethodTOTP)
	}
	if enabled && p.allowed(MethodBackupCode) {
		n, err := m.store.CountBackupCodes(ctx, u.ID)
		if err != nil {
			return nil, false, fmt.Errorf("mfa: counting backup codes: %w", err)
		}
		if n > 0 {
			out = append(out, MethodBackupCode)
		}
	}
	if m.cfg.Sender != nil {
		if u.Email != "" && p.allowed(MethodEmail) {
			out = append(out, MethodEmail)
		}
		if u.Phone != "" && p.allowed(MethodSMS) {
			out = append(out, MethodSMS)
		}
	}
	return out, enabled, nil
}

// Decide applies the policy to u after the first step of a login (see
// [Decision]). It reads the store; it changes nothing and emits nothing.
func (m *Manager) Decide(ctx context.Context, u User) (Decision, error) {
	if u.ID == "" {
		return Decision{}, errNoUserID
	}
	methods, enabled, err := m.methods(ctx, u)
	if err != nil {
		return Decision{}, err
	}
	d := Decision{Methods: methods, Enabled: enabled, Required: m.cfg.Policy.requires(u)}
	switch {
	case len(methods) > 0:
		d.Challenge = enabled || d.Required
	case d.Required || enabled:
		// Required, or turned on by the user but no longer accepted by the
		// policy: never fall back to the password alone.
		d.MustEnroll = true
		d.GraceExpired = true
		if !u.CreatedAt.IsZero() {
			d.EnrollBy = u.CreatedAt.Add(m.cfg.Policy.GracePeriod)
			d.GraceExpired = !m.cfg.Now().Before(d.EnrollBy)
		}
	}
	return d, nil
}

// Disable turns the user's second factor off: it deletes the TOTP enrolment
// (pending or confirmed) and the backup codes. Disabling a user without a
// factor is not an error. Whether the caller must prove a factor or a
// password first is the host's decision; [Manager.Verify] checks a code.
func (m *Manager) Disable(ctx context.Context, u User) error {
	if u.ID == "" {
		return errNoUserID
	}
	rec, err := m.store.GetTOTP(ctx, u.ID)
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("mfa: reading TOTP enrolment: %w", err)
	}
	wasOn := err == nil && rec.Confirmed()
	if err := m.store.DeleteTOTP(ctx, u.ID); err != nil {
		return fmt.Errorf("mfa: deleting TOTP enrolment: %w", err)
	}
	if err := m.store.ReplaceBackupCodes(ctx, u.ID, nil); err != nil {
		return fmt.Errorf("mfa: deleting backup codes: %w", err)
	}
	if wasOn {
		e := m.event(ctx, auth.EventMFADisabled, u.ID, u.Name, "")
		e.Attrs = map[string]string{"factor": string(MethodTOTP)}
		auth.Emit(m.cfg.Events, e)
	}
	return nil
}

// Unlock lifts a lock of the user's second factor and forgets its failures:
// an administrator's action. It emits account_unlocked.
func (m *Manager) Unlock(ctx context.Context, userID string) error {
	if userID == "" {
		return errNoUserID
	}
	if err := m.attempts.Reset(ctx, limiterKey(userID)); err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	auth.Emit(m.cfg.Events, m.event(ctx, auth.EventAccountUnlocked, userID, "", "mfa_unlocked"))
	return nil
}
