package mfa

import "errors"

// Errors. A rejected second factor reaches callers as an *auth.Error
// (invalid_credentials, invalid_token, account_locked, rate_limited,
// mfa_required) whose internal cause wraps one of the sentinels below, so that
// errors.Is(err, mfa.ErrReplayedCode) holds while a client only sees the
// auth code. Store failures are plain wrapped errors (503).
var (
	// ErrNotFound is returned by the stores when the record asked for does
	// not exist (or, for challenges and sent codes, has expired).
	ErrNotFound = errors.New("mfa: not found")
	// ErrExists is returned by [ChallengeStore.CreateChallenge] when a
	// challenge with the same token hash is stored.
	ErrExists = errors.New("mfa: already exists")
	// ErrEnabled is returned by [TOTPStore.PutPendingTOTP] and
	// [Manager.Setup] when the user already has TOTP turned on: disable it
	// first.
	ErrEnabled = errors.New("mfa: TOTP already enabled")
	// ErrThrottled is returned by [ChallengeStore.PutSentCode] when the
	// previous code was sent too recently; [Manager.SendCode] reports it as
	// rate_limited.
	ErrThrottled = errors.New("mfa: code sent too recently")
	// ErrCodeMismatch is returned by [ChallengeStore.UseSentCode] when a
	// live code exists but the hash does not match; one attempt is used up.
	ErrCodeMismatch = errors.New("mfa: code mismatch")
	// ErrMalformedCode is the cause of invalid_credentials when the input
	// is neither a one-time code (6 to 8 digits) nor a backup code.
	ErrMalformedCode = errors.New("mfa: malformed code")
	// ErrInvalidCode is the cause of invalid_credentials when the code is
	// well formed but matches nothing.
	ErrInvalidCode = errors.New("mfa: invalid code")
	// ErrReplayedCode is the cause of invalid_credentials when a TOTP code
	// matches a time step at or before the last one accepted (RFC 6238
	// §5.2): the code was used already, or a newer one was.
	ErrReplayedCode = errors.New("mfa: TOTP code already used")
	// ErrLocked is the cause of account_locked when the user's second
	// factor is locked after too many failures, and of rate_limited when
	// the next attempt must wait after recent failures.
	ErrLocked = errors.New("mfa: too many failed attempts")
	// ErrInvalidToken is the cause of invalid_token when an mfa_token is
	// unknown, expired or already used.
	ErrInvalidToken = errors.New("mfa: invalid or expired mfa_token")
	// ErrNoMethod is the cause of mfa_required when the user has no second
	// factor that the policy allows (nothing enrolled).
	ErrNoMethod = errors.New("mfa: no second factor available")
	// ErrMethodNotAllowed is returned when a method is not allowed by the
	// policy or not available for the user (no Sender, no address).
	ErrMethodNotAllowed = errors.New("mfa: method not available")
	// ErrNoPendingEnrollment is the cause of conflict when Confirm finds no
	// pending TOTP enrolment (none started, replaced by a newer Setup, or
	// already confirmed).
	ErrNoPendingEnrollment = errors.New("mfa: no pending TOTP enrolment")
	// ErrNotEnabled is returned by [Manager.RegenerateBackupCodes] when the
	// user has no TOTP enrolment the backup codes would stand in for.
	ErrNotEnabled = errors.New("mfa: TOTP not enabled")
	// ErrInvalidConfig wraps every configuration error of [New].
	ErrInvalidConfig = errors.New("mfa: invalid configuration")
)
