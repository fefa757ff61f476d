package authtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/authclient"
	"github.com/gatehouse-auth/gatehouse/basic"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

// CreateUser creates an enabled user with that password and those roles,
// through Users.Create: the password must pass the production password
// policy (at least 12 characters, not a common password, not containing
// the username). The user has no email address; call s.Users.Create
// directly for one. It fails the test on any error.
func (s *Stack) CreateUser(t testing.TB, username, password string, roles ...string) *basic.User {
	t.Helper()
	u, err := s.Users.Create(t.Context(), basic.NewUser{Username: username, Password: password, Roles: roles})
	if err != nil {
		t.Fatalf("authtest: creating user %q: %v%s", username, err, details(err))
	}
	return u
}

// details formats the client-safe details of an *auth.Error (the unknown
// roles, the password policy's violations), which its Error text leaves
// out.
func details(err error) string {
	ae := auth.AsError(err)
	if ae == nil || len(ae.Details) == 0 {
		return ""
	}
	return fmt.Sprintf(" %v", ae.Details)
}

// Login logs in through the auth API (POST AuthURL/login) and returns the
// access and refresh tokens. It fails the test on any answer but 200,
// including mfa_required (use LoginWithCode for users with a second
// factor).
func (s *Stack) Login(t testing.TB, username, password string) (access, refresh string) {
	t.Helper()
	return s.login(t, s.Server.Client(), map[string]any{"username": username, "password": password})
}

// LoginWithCode logs in through the auth API with a second-factor code in
// the same request (the "mfa_code" member of POST /login), for example
// TOTPDevice.Code's. It fails the test on any answer but 200.
func (s *Stack) LoginWithCode(t testing.TB, username, password, code string) (access, refresh string) {
	t.Helper()
	return s.login(t, s.Server.Client(), map[string]any{"username": username, "password": password, "mfa_code": code})
}

// SessionClient logs in through the auth API asking for a session
// ({"session": true}) and returns an HTTP client whose cookie jar holds the
// session cookie, so that its requests to the stack authenticate with the
// cookie alone. It fails the test on any answer but 200.
//
// The session cookie has no expiry of its own, so the jar keeps it however
// the stack's clock moves: the server alone decides when the session ends.
func (s *Stack) SessionClient(t testing.TB, username, password string) *http.Client {
	t.Helper()
	c := s.HTTPClient()
	s.login(t, c, map[string]any{"username": username, "password": password, "session": true})
	return c
}

func (s *Stack) login(t testing.TB, c *http.Client, body map[string]any) (access, refresh string) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatalf("authtest: login: %v", err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.AuthURL+"/login", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("authtest: login: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("authtest: login: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("authtest: login: reading the answer: %v", err)
	}
	var pair struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		Error        string `json:"error"`
		Description  string `json:"error_description"`
	}
	_ = json.Unmarshal(raw, &pair)
	if resp.StatusCode != http.StatusOK || pair.AccessToken == "" {
		t.Fatalf("authtest: login as %q: %d %s: %s", body["username"], resp.StatusCode, pair.Error, pair.Description)
	}
	return pair.AccessToken, pair.RefreshToken
}

// MintToken issues an access token for subject with roles, signed by the
// stack's key, without any login: the chain accepts it like a token from
// POST /login. The subject need not be a user of Users. The token carries no
// second factor and no scopes; use MintTokenFor for those.
func (s *Stack) MintToken(t testing.TB, subject string, roles ...string) string {
	t.Helper()
	return s.MintTokenFor(t, jwtprovider.Subject{ID: subject, Username: subject, Roles: roles})
}

// MintTokenFor issues an access token for sub, for example one with
// sub.MFA verified at the stack's clock time for step-up routes, or with
// sub.Scopes narrowing it.
func (s *Stack) MintTokenFor(t testing.TB, sub jwtprovider.Subject) string {
	t.Helper()
	tok, err := s.Tokens.Issue(t.Context(), sub)
	if err != nil {
		t.Fatalf("authtest: minting a token for %q: %v", sub.ID, err)
	}
	return tok.Value
}

// Client returns an authclient.Client of the stack's auth API that has
// logged in as username (so a wrong password fails here, not at the first
// request). Its clock is the stack's, so advancing the clock past the
// access token's lifetime makes it refresh. Retries of 429 and 503 answers
// are off, since they would wait in real time; opts are applied after the
// stack's own options and may override them (for example
// authclient.WithMFA, or authclient.WithRetry to turn retries back on).
// Its HTTPClient sends requests to any route of the stack.
func (s *Stack) Client(t testing.TB, username, password string, opts ...authclient.Option) *authclient.Client {
	t.Helper()
	all := append([]authclient.Option{
		authclient.WithPassword(username, password),
		authclient.WithHTTPClient(s.Server.Client()),
		authclient.WithNow(s.Clock.Now),
		authclient.WithRetry(authclient.RetryPolicy{MaxAttempts: 1}),
	}, opts...)
	c, err := authclient.New(s.AuthURL, all...)
	if err != nil {
		t.Fatalf("authtest: client for %q: %v", username, err)
	}
	if err := c.Login(t.Context()); err != nil {
		t.Fatalf("authtest: client login as %q: %v", username, err)
	}
	return c
}

// HTTPClient returns a new plain HTTP client for the stack's server, with
// an empty cookie jar of its own: each call is a separate browser. It sends
// no credentials by itself.
func (s *Stack) HTTPClient() *http.Client {
	// A copy: the server's client is shared. cookiejar.New never fails
	// with nil options.
	c := *s.Server.Client()
	jar, _ := cookiejar.New(nil)
	c.Jar = jar
	return &c
}
