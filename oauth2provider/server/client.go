package server

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/secure"
)

// AuthMethod is how a client authenticates at the token, revocation and
// introspection endpoints (the "token_endpoint_auth_method" of RFC 7591
// §2).
type AuthMethod string

// Client authentication methods.
const (
	// AuthSecretBasic sends client_id and client_secret in an HTTP Basic
	// Authorization header (RFC 6749 §2.3.1). It is the default.
	AuthSecretBasic AuthMethod = "client_secret_basic"
	// AuthSecretPost sends client_id and client_secret in the request body
	// (RFC 6749 §2.3.1).
	AuthSecretPost AuthMethod = "client_secret_post"
	// AuthNone is a public client (a native or browser app) that cannot keep
	// a secret: it sends only its client_id (RFC 6749 §2.1) and must use
	// PKCE.
	AuthNone AuthMethod = "none"
)

// GrantType is an OAuth grant a client may use (RFC 6749 §4).
type GrantType string

// Grant types this server implements. The implicit and resource owner
// password grants are not implemented (RFC 9700 §2.1.2, §2.4).
const (
	GrantAuthorizationCode GrantType = "authorization_code"
	GrantRefreshToken      GrantType = "refresh_token"
	GrantClientCredentials GrantType = "client_credentials"
)

// Scopes that OpenID Connect defines. They select identity claims, not
// permissions: a principal's scope restriction does not remove them.
const (
	ScopeOpenID  = "openid"
	ScopeProfile = "profile"
	ScopeEmail   = "email"
)

// maxClientIDLen caps client IDs.
const maxClientIDLen = 128

// Client is a registered OAuth client. It is a plain value; stores hand out
// copies.
type Client struct {
	// ID is the client_id: 1 to 128 characters of letters, digits and
	// "-._~:". It is the subject of client-credentials tokens, so it must not
	// collide with a user ID (a prefix such as "svc-" avoids that).
	ID string
	// Name is shown to users on the consent page.
	Name string
	// AuthMethod is how the client authenticates; "" means
	// AuthSecretBasic. A client may use only its registered method.
	AuthMethod AuthMethod
	// SecretHash is the hex SHA-256 of the client secret ([HashClientSecret]),
	// required for confidential clients and empty for public ones. The
	// secret itself is never stored.
	SecretHash string
	// RedirectURIs are the exact redirect URIs the client may use with the
	// authorization code grant (RFC 9700 §4.1.3): https URIs, http URIs on
	// a loopback host (127.0.0.1, [::1], localhost) whose port may vary per
	// request (RFC 8252 §7.3), or private-use schemes of native apps (RFC
	// 8252 §7.1). No fragment, no user information.
	RedirectURIs []string
	// GrantTypes lists the grants the client may use. Required. A public
	// client may not use client credentials.
	GrantTypes []GrantType
	// Scopes lists the scopes the client may request; a request without a
	// scope parameter gets all of them. Scopes are Gatehouse permission
	// strings ("predictions:read") and the OpenID Connect scopes.
	Scopes []string
	// ServiceRoles are the RBAC roles of the tokens the client gets with the
	// client-credentials grant, for itself. Empty means none: its tokens then
	// grant nothing.
	ServiceRoles []string
	// RequirePKCE makes PKCE mandatory for a confidential client too (it
	// always is for public clients).
	RequirePKCE bool
	// Introspect lets the client introspect tokens issued to other clients
	// (a resource server). Without it, introspection answers "active":
	// false for any token not issued to the client itself.
	Introspect bool
}

// Public reports whether c is a public client (no secret).
func (c *Client) Public() bool { return c.AuthMethod == AuthNone }

// method returns the registered authentication method with its default.
func (c *Client) method() AuthMethod {
	if c.AuthMethod == "" {
		return AuthSecretBasic
	}
	return c.AuthMethod
}

// allows reports whether c may use grant g.
func (c *Client) allows(g GrantType) bool { return slices.Contains(c.GrantTypes, g) }

// clone returns a deep copy of c.
func (c Client) clone() Client {
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	c.GrantTypes = slices.Clone(c.GrantTypes)
	c.Scopes = slices.Clone(c.Scopes)
	c.ServiceRoles = slices.Clone(c.ServiceRoles)
	return c
}

// Validate checks a registration: the ID's syntax, an authentication method
// this server knows with a secret hash exactly when the client is
// confidential, known grant types (no client credentials for public
// clients), redirect URIs for the authorization code grant, each one
// absolute with a scheme that RFC 8252 or RFC 9700 allows and neither
// fragment nor user information, and scopes that are RFC 6749 §3.3
// scope-tokens. Errors wrap [ErrInvalidClient].
func (c *Client) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: client %q: %s", ErrInvalidClient, c.ID, fmt.Sprintf(format, args...))
	}
	if !validClientID(c.ID) {
		return bad("client ID must be 1 to %d characters of letters, digits and -._~:", maxClientIDLen)
	}
	switch c.method() {
	case AuthSecretBasic, AuthSecretPost:
		if len(c.SecretHash) != 64 || strings.Trim(c.SecretHash, "0123456789abcdef") != "" {
			return bad("a confidential client needs SecretHash, the lower-case hex SHA-256 of its secret")
		}
	case AuthNone:
		if c.SecretHash != "" {
			return bad("a public client has no secret")
		}
	default:
		return bad("unknown authentication method %q", c.AuthMethod)
	}
	if len(c.GrantTypes) == 0 {
		return bad("no grant type")
	}
	for _, g := range c.GrantTypes {
		switch g {
		case GrantAuthorizationCode, GrantRefreshToken:
		case GrantClientCredentials:
			if c.Public() {
				return bad("a public client cannot use client_credentials")
			}
		default:
			return bad("unsupported grant type %q", g)
		}
	}
	if c.allows(GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
		return bad("the authorization_code grant needs at least one redirect URI")
	}
	for _, u := range c.RedirectURIs {
		if err := validRedirectURI(u); err != nil {
			return bad("redirect URI %q: %v", u, err)
		}
	}
	for _, s := range c.Scopes {
		if !validScopeToken(s) {
			return bad("invalid scope %q", s)
		}
	}
	if len(c.ServiceRoles) > 0 && !c.allows(GrantClientCredentials) {
		return bad("service roles without the client_credentials grant")
	}
	return nil
}

func validClientID(id string) bool {
	if id == "" || len(id) > maxClientIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !isAlnum(c) && !strings.ContainsRune("-._~:", rune(c)) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// validRedirectURI checks a redirect URI at registration.
func validRedirectURI(s string) error {
	if len(s) > 2048 {
		return fmt.Errorf("longer than 2048 bytes")
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7f {
			return fmt.Errorf("contains a space, control or non-ASCII character")
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if strings.Contains(s, "#") {
		return fmt.Errorf("has a fragment (RFC 6749 §3.1.2)")
	}
	if u.User != nil {
		return fmt.Errorf("has user information")
	}
	switch {
	case u.Scheme == "https":
		if u.Host == "" {
			return fmt.Errorf("https URI without host")
		}
	case u.Scheme == "http":
		if _, _, ok := splitLoopback(s); !ok {
			return fmt.Errorf("http is only allowed for loopback hosts 127.0.0.1, [::1] and localhost (RFC 8252 §7.3)")
		}
	case u.Scheme == "":
		return fmt.Errorf("not absolute")
	case strings.Contains(u.Scheme, "."):
		// Private-use URI scheme of a native app, in reverse domain
		// name form (RFC 8252 §7.1).
		if u.Host != "" {
			return fmt.Errorf("private-use scheme URIs take a single slash after the scheme (RFC 8252 §7.1)")
		}
	default:
		return fmt.Errorf("scheme %q is neither https, loopback http nor a reverse-domain private-use scheme", u.Scheme)
	}
	if s != strings.ToLower(u.Scheme)+s[len(u.Scheme):] {
		return fmt.Errorf("scheme must be lower case")
	}
	return nil
}

// matchRedirectURI reports whether requested is one of the registered
// redirect URIs: byte for byte (RFC 9700 §4.1.3), except that for an http
// URI on a loopback host the port of the request may differ from the
// registered one (RFC 8252 §7.3). Nothing is normalised: case, percent
// encoding, default ports and trailing slashes all count.
func matchRedirectURI(registered []string, requested string) bool {
	if requested == "" {
		return false
	}
	for _, r := range registered {
		if r == requested {
			return true
		}
	}
	qHost, qRest, ok := splitLoopback(requested)
	if !ok {
		return false
	}
	for _, r := range registered {
		if rHost, rRest, ok := splitLoopback(r); ok && rHost == qHost && rRest == qRest {
			return true
		}
	}
	return false
}

// splitLoopback splits an "http://" URI on a loopback host into the host
// and everything after the authority, dropping the port. ok is false unless
// the authority is exactly 127.0.0.1, [::1] or localhost (lower case, no
// user information) with an optional port of 1 to 65535.
func splitLoopback(s string) (host, rest string, ok bool) {
	const scheme = "http://"
	if !strings.HasPrefix(s, scheme) {
		return "", "", false
	}
	s = s[len(scheme):]
	end := strings.IndexAny(s, "/?#")
	if end < 0 {
		end = len(s)
	}
	authority, rest := s[:end], s[end:]
	var port string
	switch {
	case strings.HasPrefix(authority, "[::1]"):
		host, port = "[::1]", authority[len("[::1]"):]
	case strings.HasPrefix(authority, "127.0.0.1"):
		host, port = "127.0.0.1", authority[len("127.0.0.1"):]
	case strings.HasPrefix(authority, "localhost"):
		host, port = "localhost", authority[len("localhost"):]
	default:
		return "", "", false
	}
	if port != "" {
		if !validPort(port) {
			return "", "", false
		}
	}
	return host, rest, true
}

// validPort checks ":N" with N a decimal port 1-65535 without leading zero.
func validPort(p string) bool {
	if len(p) < 2 || len(p) > 6 || p[0] != ':' || p[1] == '0' {
		return false
	}
	n := 0
	for i := 1; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}

// validScopeToken reports whether s is an RFC 6749 §3.3 scope-token:
// 1*( %x21 / %x23-5B / %x5D-7E ), at most 128 bytes here.
func validScopeToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// NewClientSecret returns a new client secret (256 random bits, base64url)
// and its storage form for Client.SecretHash. Show the secret to the
// client's owner once; keep only the hash.
func NewClientSecret() (secret, hash string) {
	secret = secure.Token(32)
	return secret, HashClientSecret(secret)
}

// HashClientSecret returns the storage form of a client secret: its hex
// SHA-256. It suits only high-entropy secrets such as those of
// [NewClientSecret], never passwords.
func HashClientSecret(secret string) string { return secure.HashHex(secret) }
