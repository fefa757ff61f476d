package auth

import (
	"errors"
	"net/http"
	"time"
)

// ErrNoCredentials is returned by an [Authenticator] when the request carries
// no credential of its kind, so that the chain tries the next authenticator.
var ErrNoCredentials = errors.New("auth: no credentials")

// Code is an error code of the JSON API. Its string is what clients see in the
// "error" member of an error response.
type Code string

// Error codes and, in their docs, the HTTP status each one is answered with.
const (
	CodeInvalidRequest          Code = "invalid_request"          // 400
	CodeInvalidCredentials      Code = "invalid_credentials"      // 401
	CodeInvalidToken            Code = "invalid_token"            // 401
	CodeTokenExpired            Code = "token_expired"            // 401
	CodeTokenRevoked            Code = "token_revoked"            // 401
	CodeMFARequired             Code = "mfa_required"             // 401
	CodeInsufficientPermissions Code = "insufficient_permissions" // 403
	CodeNotFound                Code = "not_found"                // 404
	CodeConflict                Code = "conflict"                 // 409
	CodePasswordPolicy          Code = "password_policy"          // 422
	CodeAccountLocked           Code = "account_locked"           // 429
	CodeRateLimited             Code = "rate_limited"             // 429
	CodeUnavailable             Code = "unavailable"              // 503
)

// Codes lists every code, in the order of the table above.
var Codes = []Code{
	CodeInvalidRequest, CodeInvalidCredentials, CodeInvalidToken, CodeTokenExpired,
	CodeTokenRevoked, CodeMFARequired, CodeInsufficientPermissions, CodeNotFound,
	CodeConflict, CodePasswordPolicy, CodeAccountLocked, CodeRateLimited, CodeUnavailable,
}

// Status returns the HTTP status for c; unknown codes map to 500.
func (c Code) Status() int {
	switch c {
	case CodeInvalidRequest:
		return http.StatusBadRequest
	case CodeInvalidCredentials, CodeInvalidToken, CodeTokenExpired, CodeTokenRevoked, CodeMFARequired:
		return http.StatusUnauthorized
	case CodeInsufficientPermissions:
		return http.StatusForbidden
	case CodeNotFound:
		return http.StatusNotFound
	case CodeConflict:
		return http.StatusConflict
	case CodePasswordPolicy:
		return http.StatusUnprocessableEntity
	case CodeAccountLocked, CodeRateLimited:
		return http.StatusTooManyRequests
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// defaultDescriptions are the client-safe texts used when an Error has none.
var defaultDescriptions = map[Code]string{
	CodeInvalidRequest:          "the request is malformed",
	CodeInvalidCredentials:      "authentication failed",
	CodeInvalidToken:            "the token is invalid",
	CodeTokenExpired:            "the token has expired",
	CodeTokenRevoked:            "the token has been revoked",
	CodeMFARequired:             "a second factor is required",
	CodeInsufficientPermissions: "insufficient permissions",
	CodeNotFound:                "not found",
	CodeConflict:                "the resource already exists or was changed concurrently",
	CodePasswordPolicy:          "the password does not meet the policy",
	CodeAccountLocked:           "the account is temporarily locked",
	CodeRateLimited:             "too many requests",
	CodeUnavailable:             "the service is temporarily unavailable",
}

// Error is an authentication or authorization failure that may be shown to a
// client. Code and Description are client-safe; Err is the internal cause,
// for logs only, and never reaches a client.
//
// errors.Is(err, target) holds when target is an *Error with the same Code,
// so callers and tests can write errors.Is(err, auth.ErrTokenExpired).
type Error struct {
	// Code is the machine-readable code.
	Code Code
	// Description is a human-readable text safe to show to clients.
	Description string
	// RetryAfter, when positive, is sent as the Retry-After header
	// (account_locked, rate_limited, unavailable).
	RetryAfter time.Duration
	// Details holds optional client-safe structured data added to the JSON
	// body (for example the list of password policy violations, or an
	// mfa_token). Keys must not collide with "error" or "error_description".
	Details map[string]any
	// Err is the internal cause. It is unwrapped by errors.Is/As and logged,
	// never sent to a client.
	Err error
}

// NewError returns an *Error with code and a client-safe description; an
// empty description is replaced by the code's default text when written.
func NewError(code Code, description string) *Error {
	return &Error{Code: code, Description: description}
}

// WrapError returns an *Error with code and description that wraps cause.
func WrapError(code Code, description string, cause error) *Error {
	return &Error{Code: code, Description: description, Err: cause}
}

// Error implements error. It includes the internal cause: use
// [Error.ClientDescription] for anything a client sees.
func (e *Error) Error() string {
	s := "auth: " + string(e.Code)
	if e.Description != "" {
		s += ": " + e.Description
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Status returns the HTTP status of e's code.
func (e *Error) Status() int { return e.Code.Status() }

// ClientDescription returns the description to show a client: Description,
// or the code's default text when it is empty.
func (e *Error) ClientDescription() string {
	if e.Description != "" {
		return e.Description
	}
	if d, ok := defaultDescriptions[e.Code]; ok {
		return d
	}
	return "error"
}

// Sentinels for errors.Is comparisons. They match any *Error with the same
// code. Do not modify them; return fresh values with [NewError].
var (
	ErrInvalidRequest          = &Error{Code: CodeInvalidRequest}
	ErrInvalidCredentials      = &Error{Code: CodeInvalidCredentials}
	ErrInvalidToken            = &Error{Code: CodeInvalidToken}
	ErrTokenExpired            = &Error{Code: CodeTokenExpired}
	ErrTokenRevoked            = &Error{Code: CodeTokenRevoked}
	ErrMFARequired             = &Error{Code: CodeMFARequired}
	ErrInsufficientPermissions = &Error{Code: CodeInsufficientPermissions}
	ErrNotFound                = &Error{Code: CodeNotFound}
	ErrConflict                = &Error{Code: CodeConflict}
	ErrPasswordPolicy          = &Error{Code: CodePasswordPolicy}
	ErrAccountLocked           = &Error{Code: CodeAccountLocked}
	ErrRateLimited             = &Error{Code: CodeRateLimited}
	ErrUnavailable             = &Error{Code: CodeUnavailable}
)

// AsError classifies err for a client. An *Error anywhere in err's chain is
// returned as is. [ErrNoCredentials] becomes invalid_credentials
// ("authentication required"). Anything else is a failure to check the
// credential and becomes unavailable, wrapping err so that logs keep the
// detail. A nil err returns nil.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	if errors.Is(err, ErrNoCredentials) {
		return &Error{Code: CodeInvalidCredentials, Description: "authentication required", Err: err}
	}
	return &Error{Code: CodeUnavailable, Err: err}
}
