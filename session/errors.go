package session

import "errors"

// Errors of the manager. Rejections a client may see are *auth.Error values
// wrapping these where a caller needs to tell them apart with errors.Is.
var (
	// ErrInvalidConfig is wrapped by [New] when the configuration is invalid.
	ErrInvalidConfig = errors.New("session: invalid configuration")
	// ErrCrossOrigin is wrapped by the *auth.Error (403) returned for an
	// unsafe cross-origin request carrying the session cookie.
	ErrCrossOrigin = errors.New("session: cross-origin request")
	// ErrInvalidPrincipal is returned by [Manager.Create] for a nil principal
	// or one without a Subject, and by [Manager.Renew] for a principal whose
	// Subject is not the session's user.
	ErrInvalidPrincipal = errors.New("session: invalid principal")
	// ErrDataTooLarge is returned when a session's encoded data exceeds
	// Config.MaxDataSize.
	ErrDataTooLarge = errors.New("session: session data too large")
)
