package oauth2provider_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/oauth2provider"
)

func TestLoginMapsGroupsToRoles(t *testing.T) {
	h := newHarness(t, nil)
	h.idp.set(func(f *fakeIdP) { f.user.Groups = []string{"Operations", "Engineering", "Finance", "Engineering"} })

	login, cb := h.start()
	c := flowCookie(t, login)
	if c.Name != "__Host-gatehouse-oauth2-corp-sso" || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode ||
		c.Path != "/" || c.Domain != "" || c.MaxAge != 600 {
		t.Errorf("flow cookie %+v: want __Host- name, HttpOnly, Secure, SameSite=Lax, Path=/, Max-Age=600", c)
	}
	if cc := login.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("login Cache-Control %q", cc)
	}
	authz := h.idp.LastAuthorize()
	if authz.Get("code_challenge_method") != "S256" || len(authz.Get("code_challenge")) != 43 ||
		len(authz.Get("state")) < 43 || len(authz.Get("nonce")) < 43 {
		t.Errorf("authorization request lacks S256 PKCE, state or nonce: %v", authz)
	}
	if !slices.Contains(strings.Fields(authz.Get("scope")), "openid") {
		t.Errorf("scope %q lacks openid", authz.Get("scope"))
	}

	resp, body := h.get(cb.String())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("callback: %d %s (%v)", resp.StatusCode, body, h.rec.LastErr())
	}
	var pr principalResponse
	if err := json.Unmarshal([]byte(body), &pr); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pr.Roles, []string{"engineer", "operator"}) || pr.Method != "oauth2" || pr.Subject != "user-00u1ab2cd3" {
		t.Fatalf("principal %+v, want roles [engineer operator], method oauth2", pr)
	}
	cleared := false
	for _, c := range resp.Cookies() {
		cleared = cleared || (c.Name == "__Host-gatehouse-oauth2-corp-sso" && c.MaxAge < 0)
	}
	if !cleared {
		t.Error("callback did not delete the flow cookie")
	}

	ids := h.rec.Identities()
	if len(ids) != 1 {
		t.Fatalf("Resolve called %d times", len(ids))
	}
	id := ids[0]
	if id.IdP != "corp-sso" || id.Issuer != h.idp.URL() || id.Subject != "00u1ab2cd3" || id.Email != "ada@plant.example" ||
		!id.EmailVerified || id.Name != "Ada Lovelace" || id.Username != "ada" ||
		!slices.Equal(id.Groups, []string{"Operations", "Engineering", "Finance"}) || id.AllowEmailLinking {
		t.Errorf("identity %+v", id)
	}

	e := h.lastEvent()
	if e.Type != auth.EventLoginSucceeded || e.Method != auth.MethodOAuth2 || e.Attrs["idp"] != "corp-sso" ||
		e.Subject != "user-00u1ab2cd3" || e.Username != "ada" || !e.Time.Equal(h.clock.Now()) {
		t.Errorf("event %+v", e)
	}
}

// TestCallbackRefuses plays every way a callback can be wrong. None of them
// may reach Accounts or OnLogin.
func TestCallbackRefuses(t *testing.T) {
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	unsigned := func(alg string) func(jwt.MapClaims) string {
		return func(c jwt.MapClaims) string {
			hdr, _ := json.Marshal(map[string]string{"alg": alg, "typ": "JWT", "kid": "key-1"})
			body, _ := json.Marshal(c)
			return base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(body) + "."
		}
	}
	setQuery := func(k, v string) func(*url.URL) {
		return func(u *url.URL) {
			q := u.Query()
			q.Set(k, v)
			u.RawQuery = q.Encode()
		}
	}
	tests := []struct {
		name   string
		mod    func(h *harness, c *oauth2provider.Config)
		idp    func(f *fakeIdP)
		before func(h *harness)                            // after the IdP redirect, before the callback
		url    func(u *url.URL)                            // edits the callback URL
		status int                                         // expected HTTP status
		code   auth.Code                                   // expected error code
		want   error                                       // expected sentinel
		reason string                                      // expected event reason
		check  func(t *testing.T, body string, h *harness) // extra checks
	}{
		{
			name: "missing state parameter", url: func(u *url.URL) { q := u.Query(); q.Del("state"); u.RawQuery = q.Encode() },
			status: 400, code: auth.CodeInvalidRequest, want: oauth2provider.ErrMalformedCallback, reason: "malformed_callback",
		},
		{
			name: "state of an attacker's own login", url: setQuery("state", "Ym9ndXMtc3RhdGUtZnJvbS1hbm90aGVyLWZsb3ctMTIzNDU2"),
			status: 400, code: auth.CodeInvalidRequest, want: oauth2provider.ErrStateMismatch, reason: "state_mismatch",
		},
		{
			name: "state repeated with the right value second",
			url: func(u *url.URL) {
				q := u.Query()
				q["state"] = []string{"x", q.Get("state")}
				u.RawQuery = q.Encode()
			},
			status: 400, code: auth.CodeInvalidRequest, want: oauth2provider.ErrMalformedCallback, reason: "malformed_callback",
		},
		{
			name: "callback in a browser that never started the login", before: func(h *harness) { h.browser = h.newBrowser() },
			status: 400, code: auth.CodeInvalidRequest, want: oauth2provider.ErrFlowMissing, reason: "flow_missing",
		},
		{
			name: "flow cookie sealed with another key",
			before: func(h *harness) {
				u, _ := url.Parse(h.app.URL)
				for _, c := range h.browser.Jar.Cookies(u) {
					c.Value = forgeFlowCookie(c.Value)
					h.browser.Jar.SetCookies(u, []*http.Cookie{c})
				}
			},
			status: 400, code: auth.CodeInvalidRequest, want: oauth2provider.ErrFlowMissing, reason: "flow_missing",
		},
		{
			name: "callback eleven minutes after the login", before: func(h *harness) { h.clock.Advance(11 * time.Minute) },
			status: 400, code: auth.CodeInvalidRequest, want: oauth2provider.ErrFlowExpired, reason: "flow_expired",
		},
		{
			name: "iss parameter names another issuer (mix-up)", url: setQuery("iss", "https://evil.example"),
			status: 400, code: auth.CodeInvalidRequest, want: oauth2provider.ErrIssuerMismatch, reason: "issuer_mismatch",
		},
		{
			name: "IdP error response with markup in the description",
			idp: func(f *fakeIdP) {
				f.authorizeError, f.authorizeErrorDesc = "access_denied", `<script>alert("x")</script>`
			},
			status: 401, code: auth.CodeInvalidCredentials, reason: "idp_error",
			check: func(t *testing.T, body string, h *harness) {
				if strings.Contains(body, "<script") || strings.Contains(body, "alert") || strings.Contains(body, "access_denied") {
					t.Errorf("IdP text echoed to the client: %s", body)
				}
				var ie *oauth2provider.IdPError
				if !errors.As(h.rec.LastErr(), &ie) || ie.Code != "access_denied" {
					t.Errorf("error %v is not an IdPError access_denied", h.rec.LastErr())
				}
				if a := h.lastEvent().Attrs["idp_error"]; a != "access_denied" {
					t.Errorf("event attr idp_error %q", a)
				}
			},
		},
		{
			name: "code the IdP never issued", url: setQuery("code", "forged-code"),
			status: 401, code: auth.CodeInvalidCredentials, want: oauth2provider.ErrExchange, reason: "exchange_refused",
		},
		{
			name: "ID token with the nonce of another flow", idp: func(f *fakeIdP) {
				f.idTokenClaims = func(c jwt.MapClaims) { c["nonce"] = "bm9uY2Utb2YtYW5vdGhlci1mbG93LTEyMzQ1Njc4OTA" }
			},
			status: 401, code: auth.CodeInvalidCredentials, want: oauth2provider.ErrNonce, reason: "nonce_mismatch",
		},
		{
			name: "ID token without nonce", idp: func(f *fakeIdP) { f.idTokenClaims = func(c jwt.MapClaims) { delete(c, "nonce") } },
			status: 401, code: auth.CodeInvalidCredentials, want: oauth2provider.ErrNonce, reason: "nonce_mismatch",
		},
		{
			name: "ID token signed by another key under the IdP's kid",
			idp: func(f *fakeIdP) {
				f.signIDToken = func(c jwt.MapClaims) string { return signRS256(otherKey, "key-1", c) }
			},
			status: 401, code: auth.CodeInvalidCredentials, want: oauth2provider.ErrIDToken, reason: "id_token_invalid",
		},
		{
			name: "ID token signed by another key under an unknown kid",
			idp: func(f *fakeIdP) {
				f.signIDToken = func(c jwt.MapClaims) string { return signRS256(otherKey, "attacker", c) }
			},
			status: 401, code: auth.CodeInvalidCredentials, want: oauth2provider.ErrIDToken, reason: "id_token_invalid",
		},
		{
			name: "alg none", idp: func(f *fakeIdP) { f.signIDToken = unsigned("none") },
			status: 401, code: auth.CodeInvalidCredentials, want: oauth2provider.ErrIDToken, reason: "id_token_invalid",
		},
		{
			name: "alg none in mixed case", idp: func(f *fakeIdP) { f.signIDToken = unsigned("nOnE") },
			status: 401, code: auth.CodeInvalidCredentials, want: oauth2provider.ErrIDToken, reason: "id_token_invalid",
		},
		{
			name: "HS256 ID token keyed with the client secret",
			idp: func(f *fakeIdP) {
				f.signIDToken = func(c jwt.MapClaims) string {
					tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
					tok.Header["kid"] = "key-1"
					s, _ := tok.SignedString([]byte(f.clientSecret))
					return s
				}
			},
			status: 401, code: auth.CodeInvalidCredentials, want: oauth2provider.ErrIDToken, reason: "id_token_invalid",
		},
		{
			name: "ID token for another client", idp: func(f *fakeIdP) { f.idTokenClaims = func(c jwt.MapClaims) { c["aud"] = "other-app" } },
			status: 401, code: auth.CodeInvalidCredentials, want: oauth2provider.ErrIDToken, reason: "id_token_invalid",
		},
		{
			name: "ID token for several clients without azp",
			idp: func(f *fakeIdP) {
				f.idTokenClaims = func(c jwt.MapClaims) { c["aud"] = []string{"steelplant", "other-app"} }
			},
			status: 401, code: auth.CodeInvalidCredentials, want: oauth2provider.ErrIDToken, reason: "id_token_invalid",
		},
		{
			name:   "ID token authorized for another party",
			idp:    func(f *fakeIdP) { f.idTokenClaims = func(c jwt.MapClaims) { c["azp"] = "other-app" } },
			status: 401, code: auth.CodeInvalidCredentials, want: oauth2provider.ErrIDToken, reason: "id_token_invalid",
		},
		{
			name: "ID token from another issuer", idp: func(f *fakeIdP) { f.idTokenClaims = func(c jwt.MapClaims) { c["iss"] = "https://evil.example" } },
			status: 401, code: auth.CodeInvalidCredentials, want: oauth2provider.ErrIDToken, reason: "id_token_invalid",
		},
		{
			name: "expired ID token",
			idp: func(f *fakeIdP) {
				f.idTokenClaims = func(c jwt.MapClaims) { c["exp"] = f.clock.Now().Add(-time.Second).Unix() }
			},
			status: 401, code: auth.CodeInvalidCredentials, want: oauth2provider.ErrIDToken, reason: "id_token_expired",
		},
		{
			name: "token response without ID token", idp: func(f *fakeIdP) { f.omitIDToken = true },
			status: 401, code: auth.CodeInvalidCredentials, want: oauth2provider.ErrIDToken, reason: "id_token_missing",
		},
		{
			name:   "userinfo about another user",
			mod:    func(h *harness, c *oauth2provider.Config) { c.FetchUserInfo = true },
			idp:    func(f *fakeIdP) { f.userinfoSub = "00u-somebody-else" },
			status: 401, code: auth.CodeInvalidCredentials, want: oauth2provider.ErrUserInfo, reason: "userinfo_invalid",
		},
		{
			name: "only unmapped groups", idp: func(f *fakeIdP) { f.user.Groups = []string{"Finance", "engineering"} },
			status: 401, code: auth.CodeInvalidCredentials, want: oauth2provider.ErrNoRole, reason: "no_mapped_group",
		},
		{
			name: "no groups claim", idp: func(f *fakeIdP) { f.user.Groups = nil },
			status: 401, code: auth.CodeInvalidCredentials, want: oauth2provider.ErrNoRole, reason: "no_mapped_group",
		},
		{
			name: "groups claim of the wrong type",
			idp: func(f *fakeIdP) {
				f.idTokenClaims = func(c jwt.MapClaims) { c["groups"] = map[string]string{"Engineering": "yes"} }
			},
			status: 401, code: auth.CodeInvalidCredentials, want: oauth2provider.ErrNoRole, reason: "no_mapped_group",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.mod)
			if tc.idp != nil {
				h.idp.set(tc.idp)
			}
			_, cb := h.start()
			if tc.before != nil {
				tc.before(h)
			}
			if tc.url != nil {
				tc.url(cb)
			}
			resp, body := h.get(cb.String())
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			var eb struct {
				Error string `json:"error"`
			}
			if err := json.Unmarshal([]byte(body), &eb); err != nil || eb.Error != string(tc.code) {
				t.Errorf("body %s, want error %s", body, tc.code)
			}
			err := h.rec.LastErr()
			if !errors.Is(err, &auth.Error{Code: tc.code}) {
				t.Errorf("error %v is not %s", err, tc.code)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			e := h.lastEvent()
			if e.Type != auth.EventLoginFailed || e.Reason != tc.reason || e.Method != auth.MethodOAuth2 || e.Attrs["idp"] != "corp-sso" {
				t.Errorf("event %+v, want login_failure reason %s", e, tc.reason)
			}
			if n := len(h.rec.Identities()) + len(h.rec.Logins()); n != 0 {
				t.Errorf("a refused callback reached Accounts or OnLogin (%d calls)", n)
			}
			if tc.check != nil {
				tc.check(t, body, h)
			}
		})
	}
}

// forgeFlowCookie re-signs the payload of a flow cookie with a key the
// attacker chose; the payload itself is a real one.
func forgeFlowCookie(v string) string {
	payload, _, _ := strings.Cut(v, ".")
	return payload + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 32))
}

func TestReplayedCallbackIsRefused(t *testing.T) {
	h := newHarness(t, nil)
	login, cb := h.start()
	stolen := flowCookie(t, login)
	if resp, body := h.get(cb.String()); resp.StatusCode != http.StatusOK {
		t.Fatalf("first callback: %d %s", resp.StatusCode, body)
	}
	// The attacker replays the callback URL with the flow cookie copied
	// from the victim's browser.
	req, _ := http.NewRequest(http.MethodGet, cb.String(), nil)
	req.AddCookie(stolen)
	resp, err := h.idp.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("replayed callback: status %d, want 400", resp.StatusCode)
	}
	if !errors.Is(h.rec.LastErr(), oauth2provider.ErrReplayed) || h.lastEvent().Reason != "replayed" {
		t.Fatalf("replayed callback: error %v, event %+v", h.rec.LastErr(), h.lastEvent())
	}
	if n := h.idp.TokenCalls(); n != 1 {
		t.Errorf("the replay reached the token endpoint (%d calls)", n)
	}
	if n := len(h.rec.Logins()); n != 1 {
		t.Errorf("OnLogin called %d times", n)
	}
}

func TestConcurrentReplaysLogInOnce(t *testing.T) {
	h := newHarness(t, nil)
	login, cb := h.start()
	stolen := flowCookie(t, login)
	const n = 20
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, cb.String(), nil)
			req.AddCookie(stolen)
			resp, err := h.idp.srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		if s == http.StatusOK {
			ok++
		} else if s != http.StatusBadRequest {
			t.Errorf("status %d", s)
		}
	}
	if ok != 1 || len(h.rec.Logins()) != 1 {
		t.Fatalf("%d of %d concurrent callbacks logged in (%d OnLogin calls), want exactly 1", ok, n, len(h.rec.Logins()))
	}
}

func TestDefaultRoleForUnmappedUser(t *testing.T) {
	h := newHarness(t, func(h *harness, c *oauth2provider.Config) { c.DefaultRole = "operator" })
	h.idp.set(func(f *fakeIdP) { f.user.Groups = []string{"Finance"} })
	if pr := h.loginOK(); !slices.Equal(pr.Roles, []string{"operator"}) {
		t.Fatalf("roles %v, want the default role", pr.Roles)
	}
	h.idp.set(func(f *fakeIdP) { f.user.Groups = []string{"Management"} })
	if pr := h.loginOK(); !slices.Equal(pr.Roles, []string{"admin"}) {
		t.Fatalf("roles %v: the default role must not be added to mapped roles", pr.Roles)
	}
}

func TestGroupSources(t *testing.T) {
	t.Run("userinfo", func(t *testing.T) {
		h := newHarness(t, func(h *harness, c *oauth2provider.Config) { c.GroupsFromUserInfo = true })
		// The ID token carries a group the userinfo response does not.
		h.idp.set(func(f *fakeIdP) {
			f.user.Groups = []string{"Operations"}
			f.idTokenClaims = func(c jwt.MapClaims) { c["groups"] = []string{"Management"} }
		})
		if pr := h.loginOK(); !slices.Equal(pr.Roles, []string{"operator"}) {
			t.Fatalf("roles %v, want operator from userinfo", pr.Roles)
		}
	})
	t.Run("host function", func(t *testing.T) {
		var gotClaims map[string]any
		h := newHarness(t, func(h *harness, c *oauth2provider.Config) {
			c.GroupsClaim = ""
			c.GroupsFunc = func(_ context.Context, tok *oauth2.Token, claims map[string]any) ([]string, error) {
				if tok.AccessToken == "" {
					return nil, errors.New("no access token")
				}
				gotClaims = claims
				return []string{"Management"}, nil
			}
		})
		if pr := h.loginOK(); !slices.Equal(pr.Roles, []string{"admin"}) {
			t.Fatalf("roles %v, want admin from GroupsFunc", pr.Roles)
		}
		if gotClaims["sub"] != "00u1ab2cd3" {
			t.Errorf("GroupsFunc claims %v", gotClaims)
		}
	})
	t.Run("host function refuses", func(t *testing.T) {
		h := newHarness(t, func(h *harness, c *oauth2provider.Config) {
			c.GroupsClaim = ""
			c.GroupsFunc = func(context.Context, *oauth2.Token, map[string]any) ([]string, error) {
				return nil, auth.NewError(auth.CodeInvalidCredentials, "not a member of the plant organisation")
			}
		})
		_, cb := h.start()
		if resp, _ := h.get(cb.String()); resp.StatusCode != 401 || h.lastEvent().Reason != "groups_refused" {
			t.Fatalf("status %d, event %+v", resp.StatusCode, h.lastEvent())
		}
	})
	t.Run("host function down", func(t *testing.T) {
		h := newHarness(t, func(h *harness, c *oauth2provider.Config) {
			c.GroupsClaim = ""
			c.GroupsFunc = func(context.Context, *oauth2.Token, map[string]any) ([]string, error) {
				return nil, errors.New("dial tcp: connection refused")
			}
		})
		_, cb := h.start()
		if resp, body := h.get(cb.String()); resp.StatusCode != 503 || strings.Contains(body, "dial tcp") {
			t.Fatalf("status %d body %s, want 503 without internal text", resp.StatusCode, body)
		}
	})
}

func TestEmailLinkingNeedsFlagAndVerifiedEmail(t *testing.T) {
	tests := []struct {
		name     string
		flag     bool
		verified bool
		want     bool
	}{
		{"flag off, email verified", false, true, false},
		{"flag on, email unverified (IdP lets users type any address)", true, false, false},
		{"flag on, email verified", true, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(h *harness, c *oauth2provider.Config) { c.LinkAccountsByVerifiedEmail = tc.flag })
			h.idp.set(func(f *fakeIdP) { f.user.EmailVerified = tc.verified })
			h.loginOK()
			id := h.rec.Identities()[0]
			if id.AllowEmailLinking != tc.want || id.EmailVerified != tc.verified {
				t.Fatalf("AllowEmailLinking %v EmailVerified %v, want %v %v", id.AllowEmailLinking, id.EmailVerified, tc.want, tc.verified)
			}
		})
	}
}

func TestHostFailures(t *testing.T) {
	tests := []struct {
		name    string
		resolve func() (*auth.Principal, error)
		onLogin error
		status  int
		reason  string
	}{
		{"account locked by the host", func() (*auth.Principal, error) { return nil, auth.ErrAccountLocked }, nil, 429, "account_refused"},
		{"user store down", func() (*auth.Principal, error) { return nil, errors.New("pq: connection refused") }, nil, 503, "unavailable"},
		{"nil principal and nil error", func() (*auth.Principal, error) { return nil, nil }, nil, 503, "unavailable"},
		{"session store down in OnLogin", nil, errors.New("redis: timeout"), 503, "unavailable"},
		{"OnLogin demands MFA", nil, auth.ErrMFARequired, 401, "login_rejected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(h *harness, c *oauth2provider.Config) {
				if tc.resolve != nil {
					c.Accounts = oauth2provider.AccountsFunc(func(context.Context, oauth2provider.Identity) (*auth.Principal, error) {
						return tc.resolve()
					})
				}
				if tc.onLogin != nil {
					c.OnLogin = func(http.ResponseWriter, *http.Request, *auth.Principal) error { return tc.onLogin }
				}
			})
			_, cb := h.start()
			resp, body := h.get(cb.String())
			if resp.StatusCode != tc.status || h.lastEvent().Reason != tc.reason || h.lastEvent().Type != auth.EventLoginFailed {
				t.Fatalf("status %d (%s), event %+v; want %d %s", resp.StatusCode, body, h.lastEvent(), tc.status, tc.reason)
			}
			if strings.Contains(body, "connection refused") || strings.Contains(body, "redis") {
				t.Errorf("internal error text in the response: %s", body)
			}
		})
	}
}

func TestDiscoveryFailureIsUnavailableThenRetried(t *testing.T) {
	h := newHarness(t, nil)
	h.idp.set(func(f *fakeIdP) { f.discoveryDown = true })
	if resp, _ := h.get(h.app.URL + "/login"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("login with the IdP down: status %d, want 503", resp.StatusCode)
	}
	if err := h.p.Discover(context.Background()); err == nil {
		t.Fatal("Discover succeeded with the IdP down")
	}
	h.idp.set(func(f *fakeIdP) { f.discoveryDown = false })
	if err := h.p.Discover(context.Background()); err != nil {
		t.Fatalf("Discover: %v", err)
	}
	h.loginOK()
}

func TestDiscoveredIssuerMustMatch(t *testing.T) {
	h := newHarness(t, func(h *harness, c *oauth2provider.Config) { c.Issuer = h.idp.URL() + "/" })
	if err := h.p.Discover(context.Background()); err == nil {
		t.Fatal("discovery accepted a document naming another issuer")
	}
}

func TestExplicitEndpointsWithoutDiscovery(t *testing.T) {
	h := newHarness(t, func(h *harness, c *oauth2provider.Config) {
		u := h.idp.URL()
		c.AuthURL, c.TokenURL, c.JWKSURL, c.UserInfoURL = u+"/authorize", u+"/token", u+"/jwks", u+"/userinfo"
		c.FetchUserInfo = true
	})
	h.idp.set(func(f *fakeIdP) { f.discoveryDown = true })
	if pr := h.loginOK(); !slices.Equal(pr.Roles, []string{"engineer"}) {
		t.Fatalf("roles %v", pr.Roles)
	}
}

func TestGitHubPreset(t *testing.T) {
	h := newHarness(t, func(h *harness, c *oauth2provider.Config) {
		gh := oauth2provider.GitHubEnterprise(h.idp.URL())
		gh.ClientID, gh.ClientSecret, gh.RedirectURL = c.ClientID, c.ClientSecret, c.RedirectURL
		gh.Scopes = append(gh.Scopes, "read:org")
		gh.GroupsFunc = oauth2provider.GitHubTeams(h.idp.srv.Client(), h.idp.URL()+"/api/v3")
		gh.GroupRoleMapping = map[string]string{"acme/furnace-engineers": "engineer"}
		gh.LinkAccountsByVerifiedEmail = true
		gh.CookieKey, gh.HTTPClient, gh.Now, gh.Events = c.CookieKey, c.HTTPClient, c.Now, c.Events
		gh.Accounts, gh.OnLogin, gh.ErrorHandler = c.Accounts, c.OnLogin, c.ErrorHandler
		*c = gh
	})
	h.idp.set(func(f *fakeIdP) { f.user.Groups = []string{"acme/furnace-engineers", "acme/canteen"} })
	pr := h.loginOK()
	if authz := h.idp.LastAuthorize(); authz.Has("nonce") || authz.Get("code_challenge_method") != "S256" {
		t.Errorf("plain OAuth 2.0 authorization request %v: want PKCE and no nonce", authz)
	}
	if !slices.Equal(pr.Roles, []string{"engineer"}) {
		t.Fatalf("roles %v", pr.Roles)
	}
	id := h.rec.Identities()[0]
	if id.Issuer != h.idp.URL() || id.Subject != "583231" || id.Username != "ada" || id.Email != "ada@plant.example" ||
		!id.EmailVerified || !id.AllowEmailLinking || !slices.Equal(id.Groups, []string{"acme/furnace-engineers", "acme/canteen"}) {
		t.Fatalf("identity %+v", id)
	}

	// An unverified primary address is not offered as the email at all.
	h.idp.set(func(f *fakeIdP) { f.user.EmailVerified = false })
	h.loginOK()
	if id := h.rec.Identities()[1]; id.Email != "" || id.EmailVerified || id.AllowEmailLinking {
		t.Fatalf("unverified GitHub address used: %+v", id)
	}
}

func TestUpstreamTokensAreSealed(t *testing.T) {
	ring, err := auth.NewKeyring("k1", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	store := oauth2provider.NewMemoryTokenStore()
	h := newHarness(t, func(h *harness, c *oauth2provider.Config) {
		c.Keyring, c.CookieKey, c.TokenStore = ring, nil, store
	})
	login, cb := h.start()
	if v := flowCookie(t, login).Value; !strings.HasPrefix(v, "ghk1.k1.") {
		t.Errorf("flow cookie %q is not sealed with the keyring", v)
	}
	if resp, body := h.get(cb.String()); resp.StatusCode != 200 {
		t.Fatalf("callback %d %s", resp.StatusCode, body)
	}
	tok, err := h.p.UpstreamToken(context.Background(), "user-00u1ab2cd3")
	if err != nil || tok.AccessToken == "" || !strings.HasPrefix(tok.RefreshToken, "rt-") {
		t.Fatalf("UpstreamToken = %+v, %v", tok, err)
	}
	sealed, err := store.LoadToken(context.Background(), "corp-sso", "user-00u1ab2cd3")
	if err != nil || strings.Contains(sealed, tok.AccessToken) || strings.Contains(sealed, tok.RefreshToken) {
		t.Fatalf("stored token not sealed: %q, %v", sealed, err)
	}
	// A ciphertext moved to another user's row does not open.
	if err := store.SaveToken(context.Background(), "corp-sso", "user-mallory", sealed); err != nil {
		t.Fatal(err)
	}
	if _, err := h.p.UpstreamToken(context.Background(), "user-mallory"); err == nil {
		t.Fatal("a token moved to another subject opened")
	}
	if _, err := h.p.UpstreamToken(context.Background(), "user-nobody"); !errors.Is(err, oauth2provider.ErrNotFound) {
		t.Fatalf("missing token: %v, want ErrNotFound", err)
	}
}

func TestUpstreamTokenWithoutStore(t *testing.T) {
	h := newHarness(t, nil)
	if _, err := h.p.UpstreamToken(context.Background(), "x"); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("err %v, want ErrUnsupported", err)
	}
}

func TestInsecureCookieForPlainHTTPDevelopment(t *testing.T) {
	h := newHarness(t, func(h *harness, c *oauth2provider.Config) { c.InsecureCookie = true })
	login, _ := h.start()
	if c := flowCookie(t, login); c.Secure || c.Name != "gatehouse-oauth2-corp-sso" || !c.HttpOnly {
		t.Fatalf("cookie %+v", c)
	}
}

func TestHandlersRefuseOtherMethods(t *testing.T) {
	h := newHarness(t, nil)
	for _, path := range []string{"/login", "/callback"} {
		req, _ := http.NewRequest(http.MethodPut, h.app.URL+path, nil)
		resp, err := h.browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("PUT %s: status %d", path, resp.StatusCode)
		}
	}
}

func TestNewRejectsUnsafeConfig(t *testing.T) {
	base := func() oauth2provider.Config {
		c := oauth2provider.OIDC("corp", "https://idp.example")
		c.ClientID, c.RedirectURL = "app", "https://app.example/callback"
		c.GroupRoleMapping = map[string]string{"Engineering": "engineer"}
		c.Accounts = oauth2provider.AccountsFunc(func(context.Context, oauth2provider.Identity) (*auth.Principal, error) { return nil, nil })
		c.OnLogin = func(http.ResponseWriter, *http.Request, *auth.Principal) error { return nil }
		return c
	}
	if _, err := oauth2provider.New(base()); err != nil {
		t.Fatalf("base config: %v", err)
	}
	tests := []struct {
		name string
		mod  func(c *oauth2provider.Config)
	}{
		{"no name", func(c *oauth2provider.Config) { c.Name = "" }},
		{"name with a semicolon for the cookie", func(c *oauth2provider.Config) { c.Name = "a;b" }},
		{"no client ID", func(c *oauth2provider.Config) { c.ClientID = "" }},
		{"relative redirect URL", func(c *oauth2provider.Config) { c.RedirectURL = "/callback" }},
		{"http redirect URL with Secure cookie", func(c *oauth2provider.Config) { c.RedirectURL = "http://app.example/callback" }},
		{"javascript redirect URL", func(c *oauth2provider.Config) { c.RedirectURL = "javascript:alert(1)" }},
		{"http issuer on a public host", func(c *oauth2provider.Config) { c.Issuer = "http://idp.example" }},
		{"auth URL without token URL", func(c *oauth2provider.Config) { c.AuthURL = "https://idp.example/a" }},
		{"explicit OIDC endpoints without JWKS", func(c *oauth2provider.Config) {
			c.AuthURL, c.TokenURL = "https://idp.example/a", "https://idp.example/t"
		}},
		{"plain OAuth without userinfo", func(c *oauth2provider.Config) {
			c.Issuer, c.AuthURL, c.TokenURL = "", "https://idp.example/a", "https://idp.example/t"
		}},
		{"alg none allowed", func(c *oauth2provider.Config) { c.SigningAlgs = []string{"RS256", "None"} }},
		{"no mapping and no default role", func(c *oauth2provider.Config) { c.GroupRoleMapping = nil }},
		{"mapping to an empty role", func(c *oauth2provider.Config) { c.GroupRoleMapping = map[string]string{"x": ""} }},
		{"groups claim and groups func", func(c *oauth2provider.Config) {
			c.GroupsFunc = func(context.Context, *oauth2.Token, map[string]any) ([]string, error) { return nil, nil }
		}},
		{"auth params overriding state", func(c *oauth2provider.Config) { c.AuthParams = map[string]string{"State": "fixed"} }},
		{"auth params overriding the PKCE challenge", func(c *oauth2provider.Config) {
			c.AuthParams = map[string]string{"code_challenge_method": "plain"}
		}},
		{"short cookie key", func(c *oauth2provider.Config) { c.CookieKey = []byte("short") }},
		{"token store without keyring", func(c *oauth2provider.Config) { c.TokenStore = oauth2provider.NewMemoryTokenStore() }},
		{"flow TTL of a day", func(c *oauth2provider.Config) { c.FlowTTL = 24 * time.Hour }},
		{"__Host- cookie without Secure", func(c *oauth2provider.Config) {
			c.InsecureCookie, c.CookieName = true, "__Host-flow"
		}},
		{"no accounts", func(c *oauth2provider.Config) { c.Accounts = nil }},
		{"no OnLogin", func(c *oauth2provider.Config) { c.OnLogin = nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.mod(&c)
			if p, err := oauth2provider.New(c); err == nil || p != nil {
				t.Fatalf("New accepted it (%v)", err)
			}
		})
	}
}
