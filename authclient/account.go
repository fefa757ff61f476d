package authclient

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// Principal is the caller as the API sees it (GET /me).
type Principal struct {
	// ID is the subject: the user's ID.
	ID string `json:"id"`
	// Username is the login name.
	Username string `json:"username"`
	// Email is the user's address, if any.
	Email string `json:"email"`
	// Roles are the roles the user holds. A server that answers a single
	// "role" member fills this with that one role.
	Roles []string `json:"roles"`
	// Permissions are the effective permissions of the credential used.
	Permissions []string `json:"permissions"`
	// AuthMethod is how the request authenticated: "jwt", "api_key",
	// "session", "basic" or "oauth2".
	AuthMethod string `json:"auth_method"`
	// MFA is the second-factor state of the user and of this credential.
	MFA MFAState `json:"mfa"`
}

// UnmarshalJSON decodes a principal, accepting "role" (a string) when
// "roles" is absent.
func (p *Principal) UnmarshalJSON(b []byte) error {
	type plain Principal
	var v struct {
		plain
		Role string `json:"role"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Principal(v.plain)
	if len(p.Roles) == 0 && v.Role != "" {
		p.Roles = []string{v.Role}
	}
	return nil
}

// MFAState is the second-factor state reported by GET /me.
type MFAState struct {
	// Enabled reports whether the user has a second factor turned on.
	Enabled bool `json:"enabled"`
	// Verified reports whether this credential was issued after a second
	// factor was checked.
	Verified bool `json:"verified"`
	// VerifiedAt is when; zero when not verified.
	VerifiedAt time.Time `json:"verified_at"`
	// Methods are the factors the user has set up ("totp", ...).
	Methods []string `json:"methods"`
}

// TokenInfo describes the access token a request used (GET /token/info).
type TokenInfo struct {
	// JTI is the token's ID.
	JTI string `json:"jti"`
	// Subject is the user or client the token was issued to.
	Subject string `json:"subject"`
	// TokenType is the kind of token ("access").
	TokenType string `json:"token_type"`
	// Scopes are the scopes the token is narrowed to; empty when it is not
	// narrowed.
	Scopes []string `json:"scopes"`
	// IssuedAt and ExpiresAt are the token's iat and exp.
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Me returns the caller (GET /me).
func (c *Client) Me(ctx context.Context) (*Principal, error) {
	var p Principal
	if err := c.call(ctx, http.MethodGet, "/me", nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// TokenInfo describes the access token the client currently holds (GET
// /token/info). In API key mode the server decides what, if anything, it
// answers.
func (c *Client) TokenInfo(ctx context.Context) (*TokenInfo, error) {
	var ti TokenInfo
	if err := c.call(ctx, http.MethodGet, "/token/info", nil, &ti); err != nil {
		return nil, err
	}
	return &ti, nil
}

// Revoke revokes token, an access or a refresh token (POST /revoke; RFC
// 7009 §2: unknown tokens are not an error). When token is one the client
// holds, the client forgets its pair, and the next request logs in again.
func (c *Client) Revoke(ctx context.Context, token string) error {
	if token == "" {
		return errors.New("authclient: Revoke: empty token")
	}
	in := struct {
		Token string `json:"token"`
	}{token}
	if err := c.call(ctx, http.MethodPost, "/revoke", in, nil); err != nil {
		return err
	}
	c.mu.Lock()
	if c.tok.access == token || c.tok.refresh == token {
		c.tok = tokenState{gen: c.tok.gen + 1}
	}
	c.mu.Unlock()
	return nil
}

// Logout revokes the token pair the client holds (the refresh token first,
// then the access token) and forgets it, even when a revocation fails; the
// errors are joined. It does not close the client: a later request logs in
// again. Without a pair (API key mode, or not logged in) it does nothing.
func (c *Client) Logout(ctx context.Context) error {
	t := c.current()
	if t.access == "" {
		return nil
	}
	// Make sure the pair is still usable before spending it, so that a
	// refresh cannot slip in between the two revocations and leave a pair
	// alive that the client no longer knows.
	t, err := c.accessToken(ctx)
	if err != nil {
		c.forget()
		return err
	}
	var errs []error
	for _, tok := range []string{t.refresh, t.access} {
		if tok == "" {
			continue
		}
		errs = append(errs, c.revokeWith(ctx, t.access, tok))
	}
	c.forget()
	return errors.Join(errs...)
}

// revokeWith revokes token, authenticating with the given access token
// rather than whatever pair the client holds at the time.
func (c *Client) revokeWith(ctx context.Context, access, token string) error {
	in := struct {
		Token string `json:"token"`
	}{token}
	return c.callWith(ctx, access, http.MethodPost, "/revoke", in, nil)
}

// RevokeAll revokes every token and session of the caller (POST
// /revoke-all) and forgets the pair the client holds; the next request logs
// in again.
func (c *Client) RevokeAll(ctx context.Context) error {
	if err := c.call(ctx, http.MethodPost, "/revoke-all", emptyObject, nil); err != nil {
		return err
	}
	c.forget()
	return nil
}
