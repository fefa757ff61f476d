package apikey

import "errors"

// Errors. A rejected key is reported to callers as an *auth.Error with code
// invalid_token whose internal cause wraps one of the key sentinels below, so
// that errors.Is(err, apikey.ErrRevoked) holds while a client only ever sees
// invalid_token. Store and network failures are plain wrapped errors (503).
var (
	// ErrNotFound is returned by a [Store] when no key has the given ID or
	// hash. At verification it means the key is unknown.
	ErrNotFound = errors.New("apikey: not found")
	// ErrExists is returned by [Store.Create] when a key with the same ID or
	// hash is already stored.
	ErrExists = errors.New("apikey: key already exists")
	// ErrRotated is returned when rotating a key that already has a
	// successor: rotate the successor instead.
	ErrRotated = errors.New("apikey: key already rotated")
	// ErrRevoked means the key was revoked.
	ErrRevoked = errors.New("apikey: key revoked")
	// ErrExpired means the key is past its expiry (or past the end of its
	// rotation grace period).
	ErrExpired = errors.New("apikey: key expired")
	// ErrMalformed means the value does not have the key syntax: wrong
	// prefix, wrong length, or a character outside base62.
	ErrMalformed = errors.New("apikey: malformed key")
	// ErrChecksum means the value has the key syntax but its checksum does
	// not match: a mistyped, truncated or invented key. It is detected
	// without any store call.
	ErrChecksum = errors.New("apikey: checksum mismatch")
	// ErrOwnerDisabled is returned (wrapped) by an [OwnerLookup] when the
	// owner exists but may not authenticate (disabled, locked, suspended).
	// Keys of such owners are rejected.
	ErrOwnerDisabled = errors.New("apikey: owner disabled")
	// ErrEscalation is the internal cause of an insufficient_permissions
	// error from [Manager.Create]: the creator asked for a permission it does
	// not hold. The error text names the permission; the client description
	// does not.
	ErrEscalation = errors.New("apikey: permission not held by the creator")
	// ErrRemoteUnavailable wraps every failure to reach or understand the
	// remote validator; the middleware answers it with 503 unavailable.
	ErrRemoteUnavailable = errors.New("apikey: remote validator unavailable")
)
