package server

import (
	"errors"
	"net/http"
)

// Store errors. Stores return them, wrapped or not, so that the server can
// tell the outcomes apart with errors.Is.
var (
	// ErrNotFound reports a client, code or refresh token that does not
	// exist, or a grant or code that has expired.
	ErrNotFound = errors.New("server: not found")
	// ErrExists reports a grant whose ID or token hash is already stored.
	ErrExists = errors.New("server: already exists")
	// ErrCodeReused reports an authorization code that was already
	// redeemed; the store revoked its grant in the same operation.
	ErrCodeReused = errors.New("server: authorization code reused")
	// ErrReused reports a refresh token that is no longer the current token
	// of its grant; the store revoked the grant in the same operation.
	ErrReused = errors.New("server: refresh token reused")
	// ErrRevoked reports a revoked grant.
	ErrRevoked = errors.New("server: grant revoked")
	// ErrStoreFull reports that the in-memory store reached its limit of
	// live grants.
	ErrStoreFull = errors.New("server: store full")
)

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("server: invalid config")

// ErrInvalidClient reports a client registration that cannot be used (see
// [Client.Validate]).
var ErrInvalidClient = errors.New("server: invalid client registration")

// OAuth error codes (RFC 6749 §4.1.2.1 and §5.2, RFC 7009 §2.2.1, OpenID
// Connect Core §3.1.2.6). They are what clients see in the "error" member
// or parameter.
const (
	CodeInvalidRequest          = "invalid_request"
	CodeInvalidClient           = "invalid_client"
	CodeInvalidGrant            = "invalid_grant"
	CodeUnauthorizedClient      = "unauthorized_client"
	CodeUnsupportedGrantType    = "unsupported_grant_type"
	CodeInvalidScope            = "invalid_scope"
	CodeAccessDenied            = "access_denied"
	CodeUnsupportedResponseType = "unsupported_response_type"
	CodeServerError             = "server_error"
	CodeTemporarilyUnavailable  = "temporarily_unavailable"
	CodeRequestNotSupported     = "request_not_supported"
	CodeRequestURINotSupported  = "request_uri_not_supported"
	CodeInvalidToken            = "invalid_token"
	CodeInsufficientScope       = "insufficient_scope"
)

// oauthError is a protocol error: what the client sees (code, description,
// status) and the internal cause for logs.
type oauthError struct {
	code        string
	description string
	status      int
	err         error
}

func (e *oauthError) Error() string {
	if e.err != nil {
		return e.code + ": " + e.description + ": " + e.err.Error()
	}
	return e.code + ": " + e.description
}

func (e *oauthError) Unwrap() error { return e.err }

func newErr(code, description string) *oauthError {
	status := http.StatusBadRequest
	switch code {
	case CodeInvalidClient, CodeInvalidToken:
		status = http.StatusUnauthorized
	case CodeInsufficientScope:
		status = http.StatusForbidden
	case CodeServerError:
		status = http.StatusInternalServerError
	case CodeTemporarilyUnavailable:
		status = http.StatusServiceUnavailable
	}
	return &oauthError{code: code, description: description, status: status}
}

func (e *oauthError) wrap(err error) *oauthError {
	e.err = err
	return e
}

// unavailable is the answer to a store failure: 503, nothing of the cause
// shown.
func unavailable(err error) *oauthError {
	return newErr(CodeTemporarilyUnavailable, "the server cannot complete the request now").wrap(err)
}
