package basic_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/basic"
	"github.com/gatehouse-auth/gatehouse/middleware"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
)

func basicHeader(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestParseBasic(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name       string
		header     string
		user, pass string
		ok         bool
	}{
		{"plain", "Basic " + b64("alice:secret"), "alice", "secret", true},
		{"scheme in lower case", "basic " + b64("alice:secret"), "alice", "secret", true},
		{"password with colons", "Basic " + b64("alice:a:b:c"), "alice", "a:b:c", true},
		{"empty password", "Basic " + b64("alice:"), "alice", "", true},
		{"UTF-8 on both sides", "Basic " + b64("jürgen:пароль🔑"), "jürgen", "пароль🔑", true},
		{"no colon", "Basic " + b64("alice"), "", "", false},
		{"empty user-id", "Basic " + b64(":secret"), "", "", false},
		{"Latin-1 bytes are not UTF-8", "Basic " + b64("j\xfcrgen:x"), "", "", false},
		{"control character in password", "Basic " + b64("alice:se\x00cret"), "", "", false},
		{"C1 control character", "Basic " + b64("alice:se\u0085cret"), "", "", false},
		{"unpadded base64", "Basic " + strings.TrimRight(b64("alice:secre"), "="), "", "", false},
		{"url-safe base64", "Basic " + strings.NewReplacer("+", "-", "/", "_").Replace(b64("a?>:~~~?>")), "", "", false},
		{"bearer scheme", "Bearer " + b64("alice:secret"), "", "", false},
		{"scheme only", "Basic", "", "", false},
		{"scheme and space only", "Basic ", "", "", false},
		{"8 KiB of base64", "Basic " + b64(strings.Repeat("a", 6000)+":x"), "", "", false},
		{"newline smuggled after the credentials", "Basic " + b64("alice:secret") + "\nX-Admin: 1", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, p, ok := basic.ParseBasic(tc.header)
			if ok != tc.ok || u != tc.user || p != tc.pass {
				t.Fatalf("ParseBasic = %q, %q, %v; want %q, %q, %v", u, p, ok, tc.user, tc.pass, tc.ok)
			}
		})
	}
}

func newBasicAuth(t *testing.T, e *env) *basic.Authenticator {
	t.Helper()
	a, err := basic.NewAuthenticator(e.users, basic.AuthenticatorConfig{Realm: "steelplant"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAuthenticatorOutcomes(t *testing.T) {
	e := newEnv(t, nil)
	u := e.create(t, "operator_001", "op@example.com")
	a := newBasicAuth(t, e)
	if a.Method() != auth.MethodBasic || a.Challenge() != `Basic realm="steelplant", charset="UTF-8"` {
		t.Fatalf("Method %q, Challenge %q", a.Method(), a.Challenge())
	}
	tests := []struct {
		name    string
		headers []string
		noCreds bool
		code    auth.Code
	}{
		{"no Authorization header", nil, true, ""},
		{"bearer token is not ours", []string{"Bearer abc.def.ghi"}, true, ""},
		{"other scheme", []string{"Digest username=x"}, true, ""},
		{"malformed base64", []string{"Basic !!!"}, false, auth.CodeInvalidCredentials},
		{"Basic with a control character", []string{"Basic abc\x01"}, false, auth.CodeInvalidCredentials},
		{"two Authorization headers", []string{basicHeader("operator_001", goodPassword), basicHeader("operator_001", goodPassword)}, false, auth.CodeInvalidCredentials},
		{"wrong password", []string{basicHeader("operator_001", "nope nope nope")}, false, auth.CodeInvalidCredentials},
		{"unknown user", []string{basicHeader("ghost", goodPassword)}, false, auth.CodeInvalidCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api/v1/alerts", nil)
			for _, h := range tc.headers {
				r.Header.Add("Authorization", h)
			}
			p, err := a.Authenticate(r)
			if p != nil {
				t.Fatalf("got a principal: %+v", p)
			}
			if tc.noCreds != errors.Is(err, auth.ErrNoCredentials) || code(err) != tc.code {
				t.Fatalf("Authenticate = %v", err)
			}
		})
	}
	r := httptest.NewRequest("GET", "/api/v1/alerts", nil)
	r.Header.Set("Authorization", basicHeader("OPERATOR_001", goodPassword))
	p, err := a.Authenticate(r)
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != u.ID || p.Username != "operator_001" || p.Method != auth.MethodBasic || !slices.Equal(p.Roles, []string{"operator"}) {
		t.Fatalf("principal %+v", p)
	}
	if ev, _ := e.events.last(auth.EventLoginSucceeded); ev.Method != auth.MethodBasic || ev.ClientIP != "192.0.2.1" {
		t.Fatalf("login_success event %+v: want method basic and the socket peer as client IP", ev)
	}
}

func TestNewAuthenticatorRealm(t *testing.T) {
	e := newEnv(t, nil)
	for _, realm := range []string{`a"b`, `a\b`, "a\nb"} {
		if _, err := basic.NewAuthenticator(e.users, basic.AuthenticatorConfig{Realm: realm}); !errors.Is(err, basic.ErrInvalidConfig) {
			t.Errorf("realm %q: %v", realm, err)
		}
	}
	if _, err := basic.NewAuthenticator(nil, basic.AuthenticatorConfig{}); !errors.Is(err, basic.ErrInvalidConfig) {
		t.Errorf("nil users: %v", err)
	}
	a, err := basic.NewAuthenticator(e.users, basic.AuthenticatorConfig{})
	if err != nil || a.Challenge() != `Basic realm="gatehouse", charset="UTF-8"` {
		t.Fatalf("default realm: %q, %v", a.Challenge(), err)
	}
}

// TestBasicThroughMiddleware drives the authenticator through the middleware
// chain with the challenge-adding error handler, up to a lockout.
func TestBasicThroughMiddleware(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "operator_001", "")
	a := newBasicAuth(t, e)
	h := middleware.Authenticate([]auth.Authenticator{a}, middleware.WithErrorHandler(a.ErrorHandler(nil)))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, _ := auth.FromContext(r.Context())
			fmt.Fprintf(w, "hello %s", p.Username)
		}))
	do := func(header string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/api/v1/alerts", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	wantChallenges := []string{`Bearer realm="gatehouse"`, `Basic realm="steelplant", charset="UTF-8"`}

	w := do("")
	if w.Code != 401 || !slices.Equal(w.Result().Header.Values("WWW-Authenticate"), wantChallenges) {
		t.Fatalf("no credentials: %d %v", w.Code, w.Result().Header.Values("WWW-Authenticate"))
	}
	w = do(basicHeader("operator_001", goodPassword))
	if w.Code != 200 || w.Body.String() != "hello operator_001" {
		t.Fatalf("right password: %d %s", w.Code, w.Body)
	}
	for i := 1; i <= 5; i++ {
		w = do(basicHeader("operator_001", "wrong wrong wrong"))
		wantCode := 401
		if i == 5 {
			wantCode = 429
		}
		if w.Code != wantCode {
			t.Fatalf("failure %d: %d %s", i, w.Code, w.Body)
		}
		if wantCode == 401 && !slices.Equal(w.Result().Header.Values("WWW-Authenticate"), wantChallenges) {
			t.Fatalf("401 challenges %v", w.Result().Header.Values("WWW-Authenticate"))
		}
	}
	w = do(basicHeader("operator_001", goodPassword))
	if w.Code != 429 || w.Header().Get("Retry-After") != "900" || w.Header().Get("WWW-Authenticate") != "" ||
		!strings.Contains(w.Body.String(), `"account_locked"`) {
		t.Fatalf("right password while locked: %d %v %s", w.Code, w.Header(), w.Body)
	}
}

func TestAuthenticatorUsesSocketPeerForClientThrottle(t *testing.T) {
	c := newClock()
	perIP, err := ratelimit.NewAttemptsLimiter(ratelimit.AttemptsConfig{Delays: []time.Duration{0}, MaxFailures: 2, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(cfg *basic.Config) { cfg.ClientLimiter = perIP })
	a := newBasicAuth(t, e)
	try := func(remote, user string) auth.Code {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("Authorization", basicHeader(user, "wrong wrong wrong"))
		_, err := a.Authenticate(r)
		return code(err)
	}
	try("198.51.100.7:1111", "a1")
	try("198.51.100.7:2222", "a2")
	if got := try("198.51.100.7:3333", "a3"); got != auth.CodeRateLimited {
		t.Fatalf("third attempt from one address: %s, want rate_limited", got)
	}
	if got := try("203.0.113.5:1111", "a4"); got != auth.CodeInvalidCredentials {
		t.Fatalf("another address: %s", got)
	}
}
