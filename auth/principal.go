package auth

import (
	"context"
	"net/http"
	"slices"
	"time"
)

// Method names the way a principal authenticated.
type Method string

// Authentication methods.
const (
	MethodJWT     Method = "jwt"
	MethodAPIKey  Method = "api_key"
	MethodSession Method = "session"
	MethodBasic   Method = "basic"
	MethodOAuth2  Method = "oauth2"
)

// MFAState records whether, when and how a second factor was verified for the
// credential that produced a principal.
type MFAState struct {
	// Verified reports whether a second factor was verified.
	Verified bool
	// VerifiedAt is when it was verified (the "auth_time" of the second factor).
	VerifiedAt time.Time
	// Methods lists the factors used, in the style of the "amr" claim
	// (RFC 8176): "pwd", "otp", "mfa", ...
	Methods []string
}

// Principal is who a request acts as. Authenticators create it; handlers read
// it with [FromContext]. A Principal must be treated as immutable once it is
// in a context; it is then safe for concurrent reads.
type Principal struct {
	// Subject is the stable ID of the user, or the client ID for a client
	// acting on its own behalf.
	Subject string
	// Username is the user's login name, empty for clients.
	Username string
	// Email is the user's email address, if known.
	Email string
	// Roles are the RBAC roles the principal holds.
	Roles []string
	// Scopes, when non-nil, narrow the principal's grant: the effective
	// permissions are those of Roles intersected with Scopes. API keys and
	// OAuth access tokens carry scopes. Nil means "not narrowed"; a non-nil
	// empty slice grants nothing.
	Scopes []string
	// Method is how the principal authenticated.
	Method Method
	// CredentialID identifies the credential: a JWT "jti", an API key ID, a
	// session ID (never the session secret).
	CredentialID string
	// ExpiresAt is when the credential expires; zero if it does not.
	ExpiresAt time.Time
	// MFA is the second-factor state of the credential.
	MFA MFAState
	// Claims holds verified claims of the credential (JWT claims, IdP
	// claims); nil when there are none. Values are read-only.
	Claims map[string]any
}

// HasRole reports whether p holds role exactly (no inheritance; use the rbac
// package for inherited roles). A nil p holds no role.
func (p *Principal) HasRole(role string) bool {
	return p != nil && slices.Contains(p.Roles, role)
}

// Authenticator authenticates an HTTP request.
//
// Authenticate returns [ErrNoCredentials] when r carries no credential of the
// authenticator's kind; an *[Error] when it carries one that is bad; any other
// error when the credential could not be checked (store or network failure).
// It never returns (nil, nil). Implementations must be safe for concurrent use.
type Authenticator interface {
	Authenticate(r *http.Request) (*Principal, error)
}

// AuthenticatorFunc adapts a function to [Authenticator].
type AuthenticatorFunc func(r *http.Request) (*Principal, error)

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) (*Principal, error) { return f(r) }

// MethodAuthenticator is implemented by authenticators that produce a single
// [Method], so that a chain restricted to some methods can skip the others
// without calling them.
type MethodAuthenticator interface {
	Authenticator
	Method() Method
}

type principalKey struct{}

// NewContext returns a copy of ctx carrying p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal stored in ctx by [NewContext], if any.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}
