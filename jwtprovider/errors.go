package jwtprovider

import (
	"errors"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// Store errors. Adapters return them (wrapped or not) so that the provider
// can tell the outcomes apart with errors.Is.
var (
	// ErrNotFound reports a refresh family that does not exist or has
	// expired.
	ErrNotFound = errors.New("jwtprovider: not found")
	// ErrExists reports a refresh family whose ID is already stored.
	ErrExists = errors.New("jwtprovider: already exists")
	// ErrReused reports that a refresh token which is no longer the current
	// token of its family was presented; the store revoked the family in the
	// same operation.
	ErrReused = errors.New("jwtprovider: refresh token reused")
	// ErrRevoked reports a revoked refresh family, or (from a
	// [RevocationMirror]) a revoked token.
	ErrRevoked = errors.New("jwtprovider: revoked")
	// ErrMirrorStale is what a [RevocationMirror] returns, wrapped, when it
	// cannot vouch that it is within its staleness bound. The provider then
	// refuses the token as a store failure (503), never as valid.
	ErrMirrorStale = errors.New("jwtprovider: revocation mirror is stale")
)

// Causes of a rejected token. They are wrapped in the *auth.Error the
// provider returns (its Err field), so that logs and tests can tell attacks
// apart with errors.Is; clients only see the error code.
var (
	// ErrTooLarge: the token is longer than Config.MaxTokenSize. Nothing of
	// it was decoded.
	ErrTooLarge = errors.New("jwtprovider: token too large")
	// ErrMalformed: not a compact JWS of three base64url segments with a
	// JSON object header and payload.
	ErrMalformed = errors.New("jwtprovider: malformed token")
	// ErrUnknownKey: the "kid" header names no key of the key set.
	ErrUnknownKey = errors.New("jwtprovider: unknown key id")
	// ErrAlgorithm: the "alg" header is not the one algorithm bound to the
	// key that "kid" names (this covers "none" and algorithm confusion).
	ErrAlgorithm = errors.New("jwtprovider: algorithm not allowed for key")
	// ErrCritical: the header has a "crit" parameter (RFC 7515 §4.1.11);
	// this provider understands no extension.
	ErrCritical = errors.New("jwtprovider: critical header extension not understood")
	// ErrEmbeddedKey: the header carries key material or a key location
	// ("jwk", "jku", "x5u", "x5c"). Keys come from the key set only.
	ErrEmbeddedKey = errors.New("jwtprovider: header carries a key or key URL")
	// ErrSignature: the signature does not verify.
	ErrSignature = errors.New("jwtprovider: signature invalid")
	// ErrTokenType: the "typ" header is not the one the operation expects
	// (an access token where a refresh token is due, or the reverse).
	ErrTokenType = errors.New("jwtprovider: wrong token type")
	// ErrIssuer: "iss" is not the configured issuer.
	ErrIssuer = errors.New("jwtprovider: wrong issuer")
	// ErrAudience: "aud" names none of the accepted audiences.
	ErrAudience = errors.New("jwtprovider: wrong audience")
	// ErrMissingClaim: a required claim is absent.
	ErrMissingClaim = errors.New("jwtprovider: required claim missing")
	// ErrExpired: "exp" (plus leeway) has passed. Only reported for tokens
	// whose signature verified.
	ErrExpired = errors.New("jwtprovider: token expired")
	// ErrNotYetValid: "nbf" (minus leeway) is in the future.
	ErrNotYetValid = errors.New("jwtprovider: token not yet valid")
	// ErrIssuedInFuture: "iat" (minus leeway) is in the future.
	ErrIssuedInFuture = errors.New("jwtprovider: token issued in the future")
	// ErrClaimRejected: a Config.Validators function rejected the claims.
	ErrClaimRejected = errors.New("jwtprovider: claims rejected by validator")
)

// invalid returns the invalid_token error a client sees for cause.
func invalid(cause error) *auth.Error {
	return auth.WrapError(auth.CodeInvalidToken, "", cause)
}
