package mfa

import (
	"slices"
	"time"
)

// Method is a second factor.
type Method string

// Second factors. The strings are what the JSON API shows clients.
const (
	// MethodTOTP is a time-based one-time password from an authenticator
	// app (RFC 6238).
	MethodTOTP Method = "totp"
	// MethodBackupCode is a single-use backup code.
	MethodBackupCode Method = "backup_code"
	// MethodEmail is a one-time code sent by email through the [Sender].
	MethodEmail Method = "email"
	// MethodSMS is a one-time code sent by SMS through the [Sender].
	MethodSMS Method = "sms"
)

// AMR returns the RFC 8176 "amr" value of m: "otp" for TOTP, backup and
// email codes, "sms" for SMS codes.
func (m Method) AMR() string {
	if m == MethodSMS {
		return "sms"
	}
	return "otp"
}

// User is the account a second factor belongs to, as the host's user store
// describes it. The mfa package reads it; it never stores users itself.
type User struct {
	// ID is the stable user ID. Required.
	ID string
	// Name is the account name shown in authenticator apps (the otpauth
	// label), usually the username or email address. Empty means Email,
	// then ID.
	Name string
	// Email is the address codes are sent to by [MethodEmail]. Set it only
	// when the address is verified: a code sent to it proves possession.
	Email string
	// Phone is the number codes are sent to by [MethodSMS]. Set it only when
	// the number is verified.
	Phone string
	// Roles are the user's roles, matched against [Policy.RequiredForRoles].
	Roles []string
	// CreatedAt is when the account was created; the grace period runs from
	// it.
	CreatedAt time.Time
}

func (u User) accountName() string {
	switch {
	case u.Name != "":
		return u.Name
	case u.Email != "":
		return u.Email
	}
	return u.ID
}

// Policy says which second factors are accepted and who must have one.
type Policy struct {
	// Methods lists the factors accepted. Nil means TOTP and backup codes.
	// Email and SMS codes are off unless listed (SMS is a restricted
	// authenticator in NIST SP 800-63B §5.1.3.3), and need a Sender.
	Methods []Method
	// RequiredForRoles lists the roles whose holders must use a second
	// factor. Empty means none: the factor is then due only for users who
	// turned it on.
	RequiredForRoles []string
	// RequiredForAll makes a second factor required for every user.
	RequiredForAll bool
	// GracePeriod is how long after [User.CreatedAt] a user whom the policy
	// requires to use a second factor, and who has none, may still log in
	// (and is told to enrol). Zero means no grace.
	GracePeriod time.Duration
}

// Decision is the policy's answer for one user at login, from
// [Manager.Decide].
type Decision struct {
	// Challenge reports that a second factor is due: answer the first step
	// with mfa_required and a [Manager.Challenge]. It holds when the user
	// turned TOTP on, and when the policy requires a factor and the user
	// has one available.
	Challenge bool
	// Methods lists the factors the user can use now.
	Methods []Method
	// Required reports that the policy requires a second factor for the
	// user (by role, or for everyone).
	Required bool
	// Enabled reports that the user has TOTP turned on.
	Enabled bool
	// MustEnroll reports that the policy requires a second factor (or the
	// user turned TOTP on, but the policy no longer accepts it) and the user
	// has none available: tell the user to enrol.
	MustEnroll bool
	// EnrollBy is, when MustEnroll, the end of the grace period.
	EnrollBy time.Time
	// GraceExpired reports that MustEnroll holds and the grace period is
	// over: the login must not yield a full session. Refuse it, or issue a
	// credential limited to enrolling a factor.
	GraceExpired bool
}

// allowed reports whether p accepts m.
func (p Policy) allowed(m Method) bool {
	if p.Methods == nil {
		return m == MethodTOTP || m == MethodBackupCode
	}
	return slices.Contains(p.Methods, m)
}

// requires reports whether p requires a second factor for u.
func (p Policy) requires(u User) bool {
	if p.RequiredForAll {
		return true
	}
	for _, r := range u.Roles {
		if slices.Contains(p.RequiredForRoles, r) {
			return true
		}
	}
	return false
}
