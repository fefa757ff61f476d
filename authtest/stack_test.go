package authtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/apikey"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/authclient"
	"github.com/gatehouse-auth/gatehouse/authtest"
	"github.com/gatehouse-auth/gatehouse/basic"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/gatehouse-auth/gatehouse/middleware"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
	"github.com/gatehouse-auth/gatehouse/rbac"
)

const password = "long-enough-plant-passphrase"

// whoami answers with the caller's subject and authentication method.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		http.Error(w, "no principal", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"subject": p.Subject, "username": p.Username, "method": string(p.Method)})
})

// plant registers the routes of a small host on s.
func plant(s *authtest.Stack) {
	perm := s.Authorizer.RequirePermission
	s.Handle("GET /api/v1/predictions", perm("predictions:read")(whoami))
	s.Handle("POST /api/v1/predictions", perm("predictions:write")(whoami))
	s.Handle("GET /api/v1/reports", perm("reports:read")(whoami))
}

type answer struct {
	status int
	header http.Header
	body   map[string]string
}

// call sends a request with headers given as name, value pairs.
func call(t *testing.T, c *http.Client, method, url string, headers ...string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

func expect(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.status != status || a.body["error"] != code {
		t.Fatalf("got %d %v, want %d %q", a.status, a.body, status, code)
	}
}

func TestLoginThroughAPIThenHostRoute(t *testing.T) {
	s := authtest.NewStack(t)
	plant(s)
	erin := s.CreateUser(t, "erin", password, "engineer")
	s.CreateUser(t, "otto", password, "operator")
	c := s.Server.Client()

	access, refresh := s.Login(t, "erin", password)
	if access == "" || refresh == "" || access == refresh {
		t.Fatalf("login gave access %q, refresh %q", access, refresh)
	}
	a := call(t, c, "POST", s.URL+"/api/v1/predictions", bearer(access)...)
	expect(t, a, http.StatusOK, "")
	if a.body["subject"] != erin.ID || a.body["method"] != "jwt" {
		t.Errorf("handler saw %v, want subject %s by jwt", a.body, erin.ID)
	}
	if a.header.Get("X-Request-ID") == "" || a.header.Get(ratelimit.HeaderLimit) == "" {
		t.Errorf("host route lacks the request ID or rate-limit headers: %v", a.header)
	}

	t.Run("no credentials", func(t *testing.T) {
		a := call(t, c, "POST", s.URL+"/api/v1/predictions")
		expect(t, a, http.StatusUnauthorized, "invalid_credentials")
		if !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("WWW-Authenticate = %q", a.header.Get("WWW-Authenticate"))
		}
	})
	t.Run("operator refused a write", func(t *testing.T) {
		s.ResetEvents()
		opAccess, _ := s.Login(t, "otto", password)
		expect(t, call(t, c, "POST", s.URL+"/api/v1/predictions", bearer(opAccess)...), http.StatusForbidden, "insufficient_permissions")
		expect(t, call(t, c, "GET", s.URL+"/api/v1/predictions", bearer(opAccess)...), http.StatusOK, "")
		denied := s.EventsOf(auth.EventPermissionDenied)
		if len(denied) != 1 || denied[0].Username != "otto" {
			t.Errorf("permission_denied events = %+v, want one for otto", denied)
		}
	})
	t.Run("refresh token is not an access token", func(t *testing.T) {
		expect(t, call(t, c, "GET", s.URL+"/api/v1/predictions", bearer(refresh)...), http.StatusUnauthorized, "invalid_token")
	})
	t.Run("access token with one byte changed", func(t *testing.T) {
		forged := access[:len(access)-2] + flip(access[len(access)-2])
		expect(t, call(t, c, "GET", s.URL+"/api/v1/predictions", bearer(forged)...), http.StatusUnauthorized, "invalid_token")
	})
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

func TestMintTokenAcceptedByChain(t *testing.T) {
	s := authtest.NewStack(t)
	plant(s)
	c := s.Server.Client()

	tok := s.MintToken(t, "svc-7", "supervisor")
	a := call(t, c, "GET", s.URL+"/api/v1/reports", bearer(tok)...)
	expect(t, a, http.StatusOK, "")
	if a.body["subject"] != "svc-7" {
		t.Errorf("subject = %q", a.body["subject"])
	}
	expect(t, call(t, c, "POST", s.URL+"/api/v1/predictions", bearer(tok)...), http.StatusForbidden, "insufficient_permissions")

	t.Run("token minted by another stack", func(t *testing.T) {
		other := authtest.NewStack(t)
		expect(t, call(t, c, "GET", s.URL+"/api/v1/reports", bearer(other.MintToken(t, "svc-7", "admin"))...), http.StatusUnauthorized, "invalid_token")
	})
	t.Run("scopes narrow an admin", func(t *testing.T) {
		narrow := s.MintTokenFor(t, jwtprovider.Subject{ID: "svc-8", Roles: []string{"admin"}, Scopes: []string{"reports:read"}})
		expect(t, call(t, c, "GET", s.URL+"/api/v1/reports", bearer(narrow)...), http.StatusOK, "")
		expect(t, call(t, c, "GET", s.URL+"/api/v1/predictions", bearer(narrow)...), http.StatusForbidden, "insufficient_permissions")
	})
	t.Run("role unknown to the policy grants nothing", func(t *testing.T) {
		expect(t, call(t, c, "GET", s.URL+"/api/v1/reports", bearer(s.MintToken(t, "svc-9", "Admin"))...), http.StatusForbidden, "insufficient_permissions")
	})
	t.Run("revoked by subject", func(t *testing.T) {
		if err := s.Tokens.RevokeAll(t.Context(), "svc-7"); err != nil {
			t.Fatal(err)
		}
		expect(t, call(t, c, "GET", s.URL+"/api/v1/reports", bearer(tok)...), http.StatusUnauthorized, "token_revoked")
	})
}

func TestClockExpiresAccessToken(t *testing.T) {
	s := authtest.NewStack(t)
	plant(s)
	s.CreateUser(t, "otto", password, "operator")
	c := s.Server.Client()
	access, _ := s.Login(t, "otto", password)

	s.Clock.Advance(14 * time.Minute)
	expect(t, call(t, c, "GET", s.URL+"/api/v1/predictions", bearer(access)...), http.StatusOK, "")
	s.Clock.Advance(2 * time.Minute) // 16 minutes: past the 15 and the 30 s leeway
	expect(t, call(t, c, "GET", s.URL+"/api/v1/predictions", bearer(access)...), http.StatusUnauthorized, "token_expired")
}

func TestWithConfigShortensAccessTTL(t *testing.T) {
	s := authtest.NewStack(t, authtest.WithConfig(func(c *authtest.Config) {
		c.Tokens.AccessTTL = time.Minute
		c.Tokens.Leeway = -1 // none
	}))
	plant(s)
	tok := s.MintToken(t, "svc-1", "operator")
	expect(t, call(t, s.Server.Client(), "GET", s.URL+"/api/v1/predictions", bearer(tok)...), http.StatusOK, "")
	s.Clock.Advance(time.Minute)
	expect(t, call(t, s.Server.Client(), "GET", s.URL+"/api/v1/predictions", bearer(tok)...), http.StatusUnauthorized, "token_expired")
}

func TestPasswordChangeRevokesTokensAndSessions(t *testing.T) {
	s := authtest.NewStack(t)
	plant(s)
	u := s.CreateUser(t, "otto", password, "operator")
	access, _ := s.Login(t, "otto", password)
	browser := s.SessionClient(t, "otto", password)
	expect(t, call(t, browser, "GET", s.URL+"/api/v1/predictions"), http.StatusOK, "")

	// A second later, so that tokens issued afterwards are past the cut-off.
	s.Clock.Advance(time.Second)
	if err := s.Users.SetPassword(t.Context(), u.ID, "another-plant-passphrase"); err != nil {
		t.Fatal(err)
	}
	expect(t, call(t, s.Server.Client(), "GET", s.URL+"/api/v1/predictions", bearer(access)...), http.StatusUnauthorized, "token_revoked")
	expect(t, call(t, browser, "GET", s.URL+"/api/v1/predictions"), http.StatusUnauthorized, "invalid_token")
	fresh, _ := s.Login(t, "otto", "another-plant-passphrase")
	expect(t, call(t, s.Server.Client(), "GET", s.URL+"/api/v1/predictions", bearer(fresh)...), http.StatusOK, "")
}

func TestSessionCookieThroughChain(t *testing.T) {
	s := authtest.NewStack(t)
	plant(s)
	s.CreateUser(t, "erin", password, "engineer")
	browser := s.SessionClient(t, "erin", password)

	a := call(t, browser, "GET", s.URL+"/api/v1/predictions")
	expect(t, a, http.StatusOK, "")
	if a.body["method"] != "session" {
		t.Errorf("method = %q, want session", a.body["method"])
	}
	expect(t, call(t, browser, "POST", s.URL+"/api/v1/predictions", "Origin", s.URL), http.StatusOK, "")
	t.Run("cross-site POST with the cookie", func(t *testing.T) {
		a := call(t, browser, "POST", s.URL+"/api/v1/predictions", "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
		expect(t, a, http.StatusForbidden, "insufficient_permissions")
	})
	t.Run("another browser has no session", func(t *testing.T) {
		expect(t, call(t, s.HTTPClient(), "GET", s.URL+"/api/v1/predictions"), http.StatusUnauthorized, "invalid_credentials")
	})
}

func TestAPIKeyThroughChain(t *testing.T) {
	s := authtest.NewStack(t)
	plant(s)
	u := s.CreateUser(t, "erin", password, "engineer")
	key, _, err := s.APIKeys.Create(t.Context(), u.Principal(auth.MethodJWT), apikey.Params{Name: "dashboard", Permissions: []string{"predictions:read"}})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Server.Client()
	a := call(t, c, "GET", s.URL+"/api/v1/predictions", "X-API-Key", key)
	expect(t, a, http.StatusOK, "")
	if a.body["method"] != "api_key" || a.body["subject"] != u.ID {
		t.Errorf("handler saw %v", a.body)
	}
	expect(t, call(t, c, "GET", s.URL+"/api/v1/predictions", bearer(key)...), http.StatusOK, "")
	t.Run("key narrower than its engineer owner", func(t *testing.T) {
		expect(t, call(t, c, "POST", s.URL+"/api/v1/predictions", "X-API-Key", key), http.StatusForbidden, "insufficient_permissions")
	})
	t.Run("owner demoted to operator", func(t *testing.T) {
		if _, err := s.Users.Update(t.Context(), u.ID, basic.UserUpdate{Roles: []string{"operator"}}); err != nil {
			t.Fatal(err)
		}
		expect(t, call(t, c, "GET", s.URL+"/api/v1/reports", "X-API-Key", key), http.StatusForbidden, "insufficient_permissions")
	})
	t.Run("owner disabled", func(t *testing.T) {
		if err := s.Users.Disable(t.Context(), u.ID); err != nil {
			t.Fatal(err)
		}
		expect(t, call(t, c, "GET", s.URL+"/api/v1/predictions", "X-API-Key", key), http.StatusUnauthorized, "invalid_token")
	})
}

func TestClientCallsProtectedRoute(t *testing.T) {
	s := authtest.NewStack(t)
	plant(s)
	erin := s.CreateUser(t, "erin", password, "engineer")
	cl := s.Client(t, "erin", password)

	me, err := cl.Me(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if me.ID != erin.ID || me.Username != "erin" || !reflect.DeepEqual(me.Roles, []string{"engineer"}) {
		t.Errorf("Me = %+v", me)
	}
	hc := cl.HTTPClient()
	resp, err := hc.Post(s.URL+"/api/v1/predictions", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST predictions through the client: %d", resp.StatusCode)
	}

	// Past the access token's life the client refreshes on its own.
	s.ResetEvents()
	s.Clock.Advance(16 * time.Minute)
	resp, err = hc.Get(s.URL + "/api/v1/predictions")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET predictions after expiry: %d", resp.StatusCode)
	}
	if n := len(s.EventsOf(auth.EventTokenRefreshed)); n != 1 {
		t.Errorf("%d token_refreshed events, want 1", n)
	}
}

func TestClientWrongPasswordFailsTest(t *testing.T) {
	s := authtest.NewStack(t)
	s.CreateUser(t, "erin", password, "engineer")
	ft := &fatalTB{TB: t}
	ft.run(func() { s.Client(ft, "erin", "not-the-password-at-all") })
	if !strings.Contains(ft.msg, "invalid_credentials") {
		t.Errorf("Client with a wrong password: fatal %q, want invalid_credentials", ft.msg)
	}
	s.Clock.Advance(time.Minute) // past the progressive delay the failure started
	ft = &fatalTB{TB: t}
	ft.run(func() { s.Login(ft, "erin", "not-the-password-at-all") })
	if !strings.Contains(ft.msg, "401 invalid_credentials") {
		t.Errorf("Login with a wrong password: fatal %q", ft.msg)
	}
	ft = &fatalTB{TB: t}
	ft.run(func() { s.CreateUser(ft, "weak", "password123", "operator") })
	if !strings.Contains(ft.msg, "password") {
		t.Errorf("CreateUser with a common password: fatal %q", ft.msg)
	}
}

// fatalTB records the first Fatal of a helper instead of failing the test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls fn on a goroutine of its own, so that Fatal can end it, and
// fails the test when fn returns without calling Fatal.
func (f *fatalTB) run(fn func()) {
	done := make(chan bool)
	go func() {
		returned := false
		defer func() { done <- returned }()
		fn()
		returned = true
	}()
	if <-done {
		f.TB.Errorf("the helper returned without failing the test")
	}
}

func TestMFARequiredForRole(t *testing.T) {
	s := authtest.NewStack(t, authtest.WithMFARequiredFor("admin"))
	plant(s)
	ada := s.CreateUser(t, "ada", password, "admin")
	c := s.Server.Client()

	// Without a factor and past the (zero) grace period the tokens grant
	// nothing until a factor is enrolled.
	limited, _ := s.Login(t, "ada", password)
	expect(t, call(t, c, "GET", s.URL+"/api/v1/reports", bearer(limited)...), http.StatusForbidden, "insufficient_permissions")

	dev := s.EnrollTOTP(t, ada)
	if len(dev.BackupCodes) == 0 {
		t.Error("no backup codes")
	}
	s.Clock.Advance(30 * time.Second) // the enrolment spent the current step
	ft := &fatalTB{TB: t}
	ft.run(func() { s.Login(ft, "ada", password) })
	if !strings.Contains(ft.msg, "mfa_required") {
		t.Errorf("Login without a code: fatal %q, want mfa_required", ft.msg)
	}
	access, _ := s.LoginWithCode(t, "ada", password, dev.Code())
	expect(t, call(t, c, "GET", s.URL+"/api/v1/reports", bearer(access)...), http.StatusOK, "")

	t.Run("client answers the challenge", func(t *testing.T) {
		s.Clock.Advance(30 * time.Second)
		cl := s.Client(t, "ada", password, authclient.WithMFA(func(ctx context.Context, _ authclient.MFAChallenge) (string, error) {
			return dev.Code(), nil
		}))
		me, err := cl.Me(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !me.MFA.Verified {
			t.Errorf("MFA state %+v, want verified", me.MFA)
		}
	})
	t.Run("a spent code is refused", func(t *testing.T) {
		ft := &fatalTB{TB: t}
		ft.run(func() { s.LoginWithCode(ft, "ada", password, dev.Code()) })
		if !strings.Contains(ft.msg, "401") {
			t.Errorf("replayed code: fatal %q, want a 401", ft.msg)
		}
	})
}

func TestEventsRecordedAndForwarded(t *testing.T) {
	var mu sync.Mutex
	var forwarded []auth.EventType
	s := authtest.NewStack(t, authtest.WithEvents(auth.EmitterFunc(func(e auth.Event) {
		mu.Lock()
		defer mu.Unlock()
		forwarded = append(forwarded, e.Type)
	})))
	s.CreateUser(t, "otto", password, "operator")
	s.Login(t, "otto", password)

	var types []auth.EventType
	for _, e := range s.Events() {
		types = append(types, e.Type)
	}
	for _, want := range []auth.EventType{auth.EventUserCreated, auth.EventLoginSucceeded, auth.EventTokenIssued} {
		if !contains(types, want) {
			t.Errorf("events %v lack %s", types, want)
		}
	}
	mu.Lock()
	if !reflect.DeepEqual(forwarded, types) {
		t.Errorf("forwarded %v, recorded %v", forwarded, types)
	}
	mu.Unlock()
	login := s.EventsOf(auth.EventLoginSucceeded)
	if len(login) != 1 || login[0].ClientIP != "127.0.0.1" || login[0].RequestID == "" || !login[0].Time.Equal(s.Clock.Now()) {
		t.Errorf("login_success = %+v, want client IP, request ID and the stack's time", login)
	}
	s.ResetEvents()
	if ev := s.Events(); len(ev) != 0 {
		t.Errorf("after ResetEvents: %v", ev)
	}
}

func contains(ts []auth.EventType, t auth.EventType) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

func TestWithAuthLimiterThrottlesLogin(t *testing.T) {
	clock := authtest.NewClock(time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC))
	lim, err := ratelimit.NewMemoryLimiter(ratelimit.MemoryConfig{Limit: 1, Period: time.Minute, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	s := authtest.NewStack(t, authtest.WithClock(clock), authtest.WithAuthLimiter(lim))
	s.CreateUser(t, "otto", password, "operator")
	s.Login(t, "otto", password)

	req, _ := http.NewRequest("POST", s.AuthURL+"/login", strings.NewReader(`{"username":"otto","password":"`+password+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second login: %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if !s.Clock.Now().Equal(clock.Now()) || len(s.EventsOf(auth.EventRateLimited)) != 1 {
		t.Errorf("stack clock %v, rate_limited events %d", s.Clock.Now(), len(s.EventsOf(auth.EventRateLimited)))
	}
	clock.Advance(time.Minute)
	s.Login(t, "otto", password)
}

func TestWithPolicyReplacesRoles(t *testing.T) {
	p, err := rbac.New(rbac.Config{Roles: []rbac.Role{{Name: "viewer", Permissions: []string{"reports:read"}}}})
	if err != nil {
		t.Fatal(err)
	}
	s := authtest.NewStack(t, authtest.WithPolicy(p))
	plant(s)
	if s.Policy != p {
		t.Fatal("Stack.Policy is not the given policy")
	}
	s.CreateUser(t, "vic", password, "viewer")
	access, _ := s.Login(t, "vic", password)
	expect(t, call(t, s.Server.Client(), "GET", s.URL+"/api/v1/reports", bearer(access)...), http.StatusOK, "")
	t.Run("role of the default policy is unknown", func(t *testing.T) {
		ft := &fatalTB{TB: t}
		ft.run(func() { s.CreateUser(ft, "otto", password, "operator") })
		if !strings.Contains(ft.msg, "operator") {
			t.Errorf("CreateUser with an undefined role: fatal %q", ft.msg)
		}
	})
}

func TestUnknownHostRouteStillNeedsCredentials(t *testing.T) {
	s := authtest.NewStack(t)
	plant(s)
	expect(t, call(t, s.Server.Client(), "GET", s.URL+"/api/v1/admin"), http.StatusUnauthorized, "invalid_credentials")
	tok := s.MintToken(t, "svc-1", "admin")
	if a := call(t, s.Server.Client(), "GET", s.URL+"/api/v1/admin", bearer(tok)...); a.status != http.StatusNotFound {
		t.Errorf("unknown route with a token: %d", a.status)
	}
}

// The embedded default policy must stay the rbac package's steel-plant
// fixture.
func TestDefaultPolicyIsSteelplant(t *testing.T) {
	raw, err := os.ReadFile("../rbac/testdata/steelplant.json")
	if err != nil {
		t.Skipf("rbac fixture not available: %v", err)
	}
	want, err := rbac.ParseJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	got := authtest.DefaultPolicy()
	if !reflect.DeepEqual(got.Roles(), want.Roles()) {
		t.Fatalf("roles %v, want %v", got.Roles(), want.Roles())
	}
	for _, r := range want.Roles() {
		if g, w := got.RolePermissions(r), want.RolePermissions(r); !reflect.DeepEqual(g, w) {
			t.Errorf("role %s: %v, want %v", r, g, w)
		}
	}
	if authtest.DefaultPolicy() == got {
		t.Error("DefaultPolicy returned the same policy twice")
	}
}

func TestWithPrincipalUnit(t *testing.T) {
	authz := middleware.NewAuthorizer(authtest.DefaultPolicy(), middleware.AuthorizerConfig{})
	deploy := authz.RequirePermission("models:deploy")(whoami)
	narrowed := authtest.Principal("svc-2", "admin")
	narrowed.Scopes = []string{"reports:read"}
	for _, tc := range []struct {
		name   string
		p      *auth.Principal
		status int
	}{
		{"engineer deploys", authtest.Principal("erin", "engineer"), http.StatusOK},
		{"admin inherits deploy", authtest.Principal("ada", "admin"), http.StatusOK},
		{"supervisor refused", authtest.Principal("sue", "supervisor"), http.StatusForbidden},
		{"role name in the wrong case", authtest.Principal("eve", "Engineer"), http.StatusForbidden},
		{"admin narrowed by scopes", narrowed, http.StatusForbidden},
		{"no roles at all", authtest.Principal("nobody"), http.StatusForbidden},
		{"no principal", nil, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req, _ := http.NewRequest("POST", "/api/v1/models/deploy", nil)
			deploy.ServeHTTP(rec, authtest.WithPrincipal(req, tc.p))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tc.status, rec.Body)
			}
			if tc.status == http.StatusOK && !strings.Contains(rec.Body.String(), `"subject":"`+tc.p.Subject+`"`) {
				t.Errorf("handler body %s lacks the subject", rec.Body)
			}
		})
	}
	t.Run("request is not modified", func(t *testing.T) {
		req, _ := http.NewRequest("GET", "/", nil)
		_ = authtest.WithPrincipal(req, authtest.Principal("erin"))
		if _, ok := auth.FromContext(req.Context()); ok {
			t.Error("WithPrincipal changed the original request")
		}
	})
}

func TestCleanupClosesServer(t *testing.T) {
	var url string
	t.Run("stack", func(t *testing.T) {
		s := authtest.NewStack(t)
		url = s.URL
	})
	resp, err := http.Get(url + "/api/v1/auth/me")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("the server still answers after the test ended: %d", resp.StatusCode)
	}
}

func TestStepUpWithMintedMFAToken(t *testing.T) {
	s := authtest.NewStack(t)
	stepUp := middleware.RequireRecentMFA(10*time.Minute, middleware.MFANow(s.Clock.Now), middleware.MFAEvents(s.Emitter()))
	s.Handle("POST /api/v1/models/deploy", s.Authorizer.RequirePermission("models:deploy")(stepUp(whoami)))
	c := s.Server.Client()
	url := s.URL + "/api/v1/models/deploy"

	verified := s.MintTokenFor(t, jwtprovider.Subject{ID: "erin", Roles: []string{"engineer"},
		MFA: auth.MFAState{Verified: true, VerifiedAt: s.Clock.Now(), Methods: []string{"pwd", "otp"}}})
	expect(t, call(t, c, "POST", url, bearer(verified)...), http.StatusOK, "")

	t.Run("password only", func(t *testing.T) {
		s.ResetEvents()
		expect(t, call(t, c, "POST", url, bearer(s.MintToken(t, "erin", "engineer"))...), http.StatusUnauthorized, "mfa_required")
		if ev := s.EventsOf(auth.EventPermissionDenied); len(ev) != 1 || ev[0].Reason != "mfa_required" {
			t.Errorf("permission_denied events = %+v, want one with reason mfa_required", ev)
		}
	})
	t.Run("second factor too old", func(t *testing.T) {
		s.Clock.Advance(11 * time.Minute)
		expect(t, call(t, c, "POST", url, bearer(verified)...), http.StatusUnauthorized, "mfa_required")
	})
}
