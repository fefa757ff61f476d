package authtest

import (
	"testing"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/basic"
	"github.com/gatehouse-auth/gatehouse/mfa"
)

// TOTPDevice plays a user's authenticator app in a test: it holds the TOTP
// secret of an enrolment and computes codes at the stack's clock time.
// It is safe for concurrent use.
type TOTPDevice struct {
	// Secret is the base32 TOTP secret.
	Secret string
	// BackupCodes are the single-use backup codes of the enrolment.
	BackupCodes []string

	opts  totp.ValidateOpts
	clock *Clock
}

// Code returns the TOTP code (RFC 6238) for the stack's current time. The
// server accepts each time step once: after a code was used, including by
// EnrollTOTP, advance the clock by the period (30 seconds by default)
// before the next code.
func (d *TOTPDevice) Code() string {
	// The secret and options were checked when the device was made, so
	// generating a code cannot fail.
	c, _ := totp.GenerateCodeCustom(d.Secret, d.clock.Now(), d.opts)
	return c
}

// EnrollTOTP turns TOTP on for u through the MFA manager (Setup, then
// Confirm with a current code) and returns the device holding its secret.
// The confirming code's time step is spent: advance the clock by the
// period before logging in with TOTPDevice.Code. It fails the test on any
// error.
func (s *Stack) EnrollTOTP(t testing.TB, u *basic.User) *TOTPDevice {
	t.Helper()
	mu := mfa.User{ID: u.ID, Name: u.Username, Email: u.Email, Roles: u.Roles, CreatedAt: u.CreatedAt}
	en, err := s.MFA.Setup(t.Context(), mu)
	if err != nil {
		t.Fatalf("authtest: TOTP setup for %q: %v", u.Username, err)
	}
	key, err := otp.NewKeyFromURL(en.URL)
	if err != nil {
		t.Fatalf("authtest: TOTP setup for %q: reading the otpauth URL: %v", u.Username, err)
	}
	d := &TOTPDevice{
		Secret:      en.Secret,
		BackupCodes: en.BackupCodes,
		opts:        totp.ValidateOpts{Period: uint(key.Period()), Digits: key.Digits(), Algorithm: key.Algorithm()},
		clock:       s.Clock,
	}
	if _, err := totp.GenerateCodeCustom(d.Secret, d.clock.Now(), d.opts); err != nil {
		t.Fatalf("authtest: TOTP setup for %q: %v", u.Username, err)
	}
	if err := s.MFA.Confirm(t.Context(), mu, d.Code()); err != nil {
		t.Fatalf("authtest: TOTP confirmation for %q: %v", u.Username, err)
	}
	return d
}
