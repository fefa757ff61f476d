package oauth2provider

import (
	"errors"
	"strings"
)

// Sentinel errors. The callback wraps them in an *auth.Error (whose code
// decides the HTTP status) so that errors.Is finds both the auth code and the
// precise cause; the client sees only the auth code and a fixed description.
var (
	// ErrMalformedCallback: the callback query is not a valid authorization
	// response (RFC 6749 §4.1.2): a parameter repeated, missing, too long or
	// with characters outside the allowed set.
	ErrMalformedCallback = errors.New("oauth2provider: malformed callback")
	// ErrFlowMissing: the callback came without a flow cookie, or with one
	// that was not issued by this provider (bad signature, other IdP).
	ErrFlowMissing = errors.New("oauth2provider: no valid login flow cookie")
	// ErrFlowExpired: the flow cookie is older than Config.FlowTTL.
	ErrFlowExpired = errors.New("oauth2provider: login flow expired")
	// ErrStateMismatch: the state parameter does not match the flow cookie.
	ErrStateMismatch = errors.New("oauth2provider: state mismatch")
	// ErrIssuerMismatch: the authorization response carries an "iss"
	// parameter (RFC 9207) naming another issuer.
	ErrIssuerMismatch = errors.New("oauth2provider: authorization response from another issuer")
	// ErrReplayed: the flow was already used by an earlier callback.
	ErrReplayed = errors.New("oauth2provider: login flow already used")
	// ErrExchange: the token endpoint refused the authorization code.
	ErrExchange = errors.New("oauth2provider: code exchange refused")
	// ErrIDToken: the ID token is missing or fails verification
	// (signature, algorithm, issuer, audience, expiry, azp, at_hash).
	ErrIDToken = errors.New("oauth2provider: invalid ID token")
	// ErrNonce: the ID token's nonce is not the one sent with the flow.
	ErrNonce = errors.New("oauth2provider: ID token nonce mismatch")
	// ErrUserInfo: the userinfo response is unusable, or its subject
	// differs from the ID token's (OpenID Connect Core §5.3.2).
	ErrUserInfo = errors.New("oauth2provider: invalid userinfo response")
	// ErrIdentity: the IdP's answer lacks a subject.
	ErrIdentity = errors.New("oauth2provider: identity without subject")
	// ErrNoRole: none of the user's groups maps to a role and no
	// Config.DefaultRole is set.
	ErrNoRole = errors.New("oauth2provider: no group maps to a role")
	// ErrNotFound is returned by a TokenStore for a missing token.
	ErrNotFound = errors.New("oauth2provider: not found")
	// ErrStoreFull is returned by MemoryReplayStore when it holds its
	// maximum number of live entries; the login fails closed (503).
	ErrStoreFull = errors.New("oauth2provider: replay store full")
)

// IdPError is an error response from the IdP's authorization endpoint
// (RFC 6749 §4.1.2.1), such as access_denied. Code and Description are
// cleaned of characters outside %x20-7E and shortened; they are meant for
// logs and are never written to the client.
type IdPError struct {
	// Code is the "error" parameter, for example "access_denied".
	Code string
	// Description is the "error_description" parameter, possibly empty.
	Description string
}

// Error returns the code and description.
func (e *IdPError) Error() string {
	s := "oauth2provider: identity provider returned error " + e.Code
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// clean keeps at most max bytes of the printable ASCII in s (RFC 6749
// §4.1.2.1 allows %x20-21 / %x23-5B / %x5D-7E in error parameters).
func clean(s string, max int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < max; i++ {
		c := s[i]
		if c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' {
			b.WriteByte(c)
		}
	}
	return b.String()
}
