package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/gatehouse-auth/gatehouse/oauth2provider/server"
)

const (
	testIssuer   = "https://as.example/oauth"
	testAudience = "https://plant.example/api"
	confRedirect = "https://maint.example/callback"
	pubRedirect  = "http://127.0.0.1/callback"
	// RFC 7636 Appendix B.
	rfcVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfcChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

// clock is a settable test clock shared by the provider and the server.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// eventLog records events.
type eventLog struct {
	mu     sync.Mutex // guards events
	events []auth.Event
}

func (l *eventLog) Emit(e auth.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) of(t auth.EventType) []auth.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []auth.Event
	for _, e := range l.events {
		if e.Type == t {
			out = append(out, e)
		}
	}
	return out
}

// env is a server with a registered client of each kind.
type env struct {
	t      *testing.T
	clock  *clock
	tokens *jwtprovider.Provider
	srv    *server.Server
	h      http.Handler
	events *eventLog
	store  *server.MemoryStore

	mu sync.Mutex // guards approve
	// approve is what the login and consent hook answers.
	approve func(w http.ResponseWriter, r *http.Request, req server.AuthorizeRequest) (*auth.Principal, bool)

	confSecret, postSecret, svcSecret string
}

const (
	confID = "maint-app"    // confidential, client_secret_basic, code + refresh
	postID = "report-tool"  // confidential, client_secret_post, code
	pubID  = "mobile-app"   // public, code + refresh
	svcID  = "svc-reporter" // confidential, client credentials only
)

func alice() *auth.Principal {
	return &auth.Principal{
		Subject: "user-alice", Username: "alice", Email: "alice@plant.example",
		Roles: []string{"engineer"}, Method: auth.MethodSession,
		Claims: map[string]any{"auth_time": time.Date(2030, 1, 2, 2, 0, 0, 0, time.UTC)},
	}
}

func newEnv(t *testing.T, tweak ...func(*server.Config)) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}, events: &eventLog{}, store: server.NewMemoryStore()}
	e.approve = func(http.ResponseWriter, *http.Request, server.AuthorizeRequest) (*auth.Principal, bool) {
		return alice(), true
	}
	key, err := jwtprovider.GenerateKey("at-1", jwtprovider.ES256)
	if err != nil {
		t.Fatal(err)
	}
	revs := jwtprovider.NewMemoryRevocationStore()
	e.tokens, err = jwtprovider.New(jwtprovider.Config{
		Issuer: testIssuer, Audience: []string{testAudience}, Keys: []jwtprovider.Key{key},
		RevocationStore: revs, Now: e.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	idKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{
		Issuer: testIssuer, Tokens: e.tokens, Revocations: revs,
		Authorize: func(w http.ResponseWriter, r *http.Request, req server.AuthorizeRequest) (*auth.Principal, bool) {
			e.mu.Lock()
			f := e.approve
			e.mu.Unlock()
			return f(w, r, req)
		},
		Clients: e.store, Grants: e.store,
		IDTokenKey: idKey, IDTokenKeyID: "id-1",
		Now: e.clock.Now, Events: e.events,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	e.srv, err = server.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.h = e.srv.Handler()
	ctx := context.Background()
	register := func(c server.Client) string {
		t.Helper()
		secret, err := e.srv.RegisterClient(ctx, c)
		if err != nil {
			t.Fatalf("RegisterClient(%s): %v", c.ID, err)
		}
		return secret
	}
	userScopes := []string{"openid", "profile", "email", "predictions:read", "predictions:write", "alerts:read"}
	if cfg.IDTokenKey == nil {
		userScopes = userScopes[3:]
	}
	e.confSecret = register(server.Client{
		ID: confID, Name: "Maintenance app", RedirectURIs: []string{confRedirect, "https://maint.example/cb?tenant=7"},
		GrantTypes: []server.GrantType{server.GrantAuthorizationCode, server.GrantRefreshToken},
		Scopes:     userScopes,
	})
	e.postSecret = register(server.Client{
		ID: postID, AuthMethod: server.AuthSecretPost, RedirectURIs: []string{"https://report.example/cb"},
		GrantTypes: []server.GrantType{server.GrantAuthorizationCode},
		Scopes:     []string{"predictions:read"},
	})
	register(server.Client{
		ID: pubID, AuthMethod: server.AuthNone, RedirectURIs: []string{pubRedirect, "com.example.mobile:/cb"},
		GrantTypes: []server.GrantType{server.GrantAuthorizationCode, server.GrantRefreshToken},
		Scopes:     userScopes,
	})
	e.svcSecret = register(server.Client{
		ID: svcID, GrantTypes: []server.GrantType{server.GrantClientCredentials},
		Scopes: []string{"predictions:read", "alerts:read"}, ServiceRoles: []string{"reporter"},
	})
	return e
}

func (e *env) setApprove(f func(w http.ResponseWriter, r *http.Request, req server.AuthorizeRequest) (*auth.Principal, bool)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.approve = f
}

// get sends GET path?query to the handler.
func (e *env) get(path string, q url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "https://as.example"+path+"?"+q.Encode(), nil)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

// authorizeQuery is a valid authorization request of client id.
func authorizeQuery(id, redirect string, extra ...string) url.Values {
	q := url.Values{
		"response_type": {"code"}, "client_id": {id}, "redirect_uri": {redirect},
		"state": {"st-123"}, "code_challenge": {rfcChallenge}, "code_challenge_method": {"S256"},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			q.Del(extra[i])
		} else {
			q.Set(extra[i], extra[i+1])
		}
	}
	return q
}

// location parses the Location of a redirect response.
func location(t *testing.T, w *httptest.ResponseRecorder) *url.URL {
	t.Helper()
	loc := w.Header().Get("Location")
	if loc == "" {
		t.Fatalf("no redirect: status %d, body %q", w.Code, w.Body.String())
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("Location %q: %v", loc, err)
	}
	return u
}

// code runs an approved authorization request and returns the code.
func (e *env) code(q url.Values) string {
	e.t.Helper()
	w := e.get("/authorize", q)
	if w.Code != http.StatusFound {
		e.t.Fatalf("authorize: status %d, body %q", w.Code, w.Body.String())
	}
	u := location(e.t, w)
	c := u.Query().Get("code")
	if c == "" {
		e.t.Fatalf("authorize redirected without code: %s", u)
	}
	return c
}

// tokenResp is a decoded token endpoint response, success or error.
type tokenResp struct {
	Status           int
	Header           http.Header
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshToken     string `json:"refresh_token"`
	Scope            string `json:"scope"`
	IDToken          string `json:"id_token"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// post sends a form to path, with HTTP Basic credentials when basicID is
// set.
func (e *env) post(path string, form url.Values, basicID, basicSecret string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "https://as.example"+path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		r.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func (e *env) token(form url.Values, basicID, basicSecret string) tokenResp {
	e.t.Helper()
	w := e.post("/token", form, basicID, basicSecret)
	return decodeToken(e.t, w)
}

func decodeToken(t *testing.T, w *httptest.ResponseRecorder) tokenResp {
	t.Helper()
	var tr tokenResp
	if err := json.Unmarshal(w.Body.Bytes(), &tr); err != nil {
		t.Fatalf("token response %d %q: %v", w.Code, w.Body.String(), err)
	}
	tr.Status, tr.Header = w.Code, w.Header()
	if got := w.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("token endpoint Cache-Control = %q, want no-store", got)
	}
	if w.Code != http.StatusOK && tr.Error == "" {
		t.Errorf("status %d without an RFC 6749 error member: %q", w.Code, w.Body.String())
	}
	return tr
}

// redeem exchanges a code of the confidential client.
func (e *env) redeem(code string, extra ...string) tokenResp {
	e.t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {confRedirect}, "code_verifier": {rfcVerifier}}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			form.Del(extra[i])
		} else {
			form.Set(extra[i], extra[i+1])
		}
	}
	return e.token(form, confID, e.confSecret)
}

// login runs the whole code flow of the confidential client.
func (e *env) login(scope string) tokenResp {
	e.t.Helper()
	tr := e.redeem(e.code(authorizeQuery(confID, confRedirect, "scope", scope)))
	if tr.Status != http.StatusOK {
		e.t.Fatalf("redeem: %d %s: %s", tr.Status, tr.Error, tr.ErrorDescription)
	}
	return tr
}

// wantError checks an RFC 6749 §5.2 error response.
func wantError(t *testing.T, tr tokenResp, status int, code string) {
	t.Helper()
	if tr.Status != status || tr.Error != code {
		t.Fatalf("got %d %q (%s), want %d %q", tr.Status, tr.Error, tr.ErrorDescription, status, code)
	}
	if tr.AccessToken != "" || tr.RefreshToken != "" {
		t.Fatalf("error response carries tokens")
	}
}

// verify checks an access token with the provider.
func (e *env) verify(token string) (*jwtprovider.Claims, error) {
	return e.tokens.Verify(context.Background(), token)
}
