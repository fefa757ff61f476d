package basic

import (
	"errors"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// Sentinel errors. Store methods return them wrapped with %w; compare with
// errors.Is.
var (
	// ErrNotFound is returned by stores and by [Users] lookups when the user
	// or the reset token does not exist (or, for a token, has expired).
	ErrNotFound = errors.New("basic: not found")
	// ErrDuplicate is returned when a username or email address is already
	// taken by another user (compared case-insensitively).
	ErrDuplicate = errors.New("basic: username or email already in use")
	// ErrVersionConflict is returned by UserStore.UpdateUser when the stored
	// user's Version differs from the one the caller read: someone else
	// changed the user in between.
	ErrVersionConflict = errors.New("basic: user changed concurrently")
	// ErrMismatch is returned by [Hasher.Verify] when the password does not
	// match the hash.
	ErrMismatch = errors.New("basic: password does not match")
	// ErrMalformedHash is returned for an encoded hash that cannot be parsed.
	ErrMalformedHash = errors.New("basic: malformed password hash")
	// ErrUnsupportedHash is returned for a well-formed hash of an unknown
	// algorithm or with parameters outside the limits Gatehouse verifies.
	ErrUnsupportedHash = errors.New("basic: unsupported password hash")
	// ErrBusy is the cause wrapped in the unavailable *auth.Error returned
	// when no hashing slot frees up within the configured wait.
	ErrBusy = errors.New("basic: too many password hashes in progress")
	// ErrInvalidConfig is wrapped by constructors given an invalid
	// configuration.
	ErrInvalidConfig = errors.New("basic: invalid configuration")
	// ErrBreachCheck is wrapped when a [BreachChecker] could not answer. The
	// password is then neither accepted nor rejected: the operation fails.
	ErrBreachCheck = errors.New("basic: breached-password check failed")
	// ErrRevocationIncomplete is wrapped when a password was changed (or a
	// user disabled or deleted) but Config.OnCredentialsChanged failed. The
	// change itself is stored; call [Users.RevokeCredentials] until it
	// succeeds.
	ErrRevocationIncomplete = errors.New("basic: credentials changed but revoking existing tokens and sessions failed")
)

// errInvalidCredentials is the one answer for a wrong username, a wrong
// password, a disabled user and a user without a password.
func errInvalidCredentials() *auth.Error {
	return auth.NewError(auth.CodeInvalidCredentials, "invalid username or password")
}

// errLocked is the answer while an account is locked.
func errLocked(retry time.Duration) *auth.Error {
	return &auth.Error{
		Code:        auth.CodeAccountLocked,
		Description: "too many failed attempts; the account is temporarily locked",
		RetryAfter:  retry,
	}
}

// errThrottled is the answer inside a progressive delay, before a lock.
func errThrottled(retry time.Duration) *auth.Error {
	return &auth.Error{
		Code:        auth.CodeRateLimited,
		Description: "too many failed attempts; retry later",
		RetryAfter:  retry,
	}
}

// errBusy is the answer when the hashing slots stay full for the whole wait.
func errBusy() *auth.Error {
	return &auth.Error{
		Code:        auth.CodeUnavailable,
		Description: "too many sign-ins in progress; retry shortly",
		RetryAfter:  time.Second,
		Err:         ErrBusy,
	}
}

// errInvalidRequest reports a malformed field of a request.
func errInvalidRequest(field, description string) *auth.Error {
	return &auth.Error{
		Code:        auth.CodeInvalidRequest,
		Description: description,
		Details:     map[string]any{"field": field},
	}
}

// errUserNotFound is the not_found answer of the management methods.
func errUserNotFound(cause error) *auth.Error {
	return auth.WrapError(auth.CodeNotFound, "user not found", cause)
}

// errConflict is the conflict answer of the management methods.
func errConflict(description string, cause error) *auth.Error {
	return auth.WrapError(auth.CodeConflict, description, cause)
}
