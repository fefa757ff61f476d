package middleware_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/middleware"
)

// fakeAuth is an authenticator of one method that claims requests carrying
// header X-Fake-<method>; the header value decides the outcome.
type fakeAuth struct {
	method auth.Method
	calls  int
}

func (f *fakeAuth) Method() auth.Method { return f.method }

func (f *fakeAuth) Authenticate(r *http.Request) (*auth.Principal, error) {
	f.calls++
	switch r.Header.Get("X-Fake-" + string(f.method)) {
	case "":
		return nil, auth.ErrNoCredentials
	case "good":
		return &auth.Principal{Subject: "u-" + string(f.method), Method: f.method}, nil
	case "bad":
		return nil, auth.NewError(auth.CodeInvalidToken, "")
	case "expired":
		return nil, auth.NewError(auth.CodeTokenExpired, "")
	case "down":
		return nil, fmt.Errorf("lookup: %w", errors.New("dial tcp 127.0.0.1:6379: connection refused"))
	case "wrapped-none":
		return nil, fmt.Errorf("cookie: %w", auth.ErrNoCredentials)
	case "nil":
		return nil, nil
	}
	return nil, errors.New("unexpected")
}

func whoami(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		fmt.Fprint(w, "anonymous")
		return
	}
	fmt.Fprint(w, p.Subject)
}

type errBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func do(t *testing.T, h http.Handler, path string, headers map[string]string) (*httptest.ResponseRecorder, errBody) {
	t.Helper()
	r := httptest.NewRequest("GET", "http://api.test"+path, nil)
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var b errBody
	if w.Code >= 400 {
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("error Content-Type = %q", ct)
		}
		if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil {
			t.Fatalf("error body %q: %v", w.Body.String(), err)
		}
	}
	return w, b
}

func TestChainSemantics(t *testing.T) {
	tests := []struct {
		name      string
		headers   map[string]string
		status    int
		body      string
		code      string
		apiCalled int // calls to the second authenticator
	}{
		{"first method wins", map[string]string{"X-Fake-api_key": "good", "X-Fake-jwt": "good"}, 200, "u-api_key", "", 0},
		{"no credential of the first kind moves on", map[string]string{"X-Fake-jwt": "good"}, 200, "u-jwt", "", 1},
		{"bad first credential stops the chain", map[string]string{"X-Fake-api_key": "bad", "X-Fake-jwt": "good"}, 401, "", "invalid_token", 0},
		{"expired token is not retried as another method", map[string]string{"X-Fake-api_key": "expired", "X-Fake-jwt": "good"}, 401, "", "token_expired", 0},
		{"store failure is 503 not 401", map[string]string{"X-Fake-api_key": "down", "X-Fake-jwt": "good"}, 503, "", "unavailable", 0},
		{"wrapped no-credentials moves on", map[string]string{"X-Fake-api_key": "wrapped-none", "X-Fake-jwt": "good"}, 200, "u-jwt", "", 1},
		{"nil principal without error is a failure", map[string]string{"X-Fake-api_key": "nil"}, 503, "", "unavailable", 0},
		{"no credentials at all", nil, 401, "", "invalid_credentials", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, jwt := &fakeAuth{method: auth.MethodAPIKey}, &fakeAuth{method: auth.MethodJWT}
			h := middleware.Authenticate([]auth.Authenticator{key, jwt})(http.HandlerFunc(whoami))
			w, b := do(t, h, "/api/v1/predictions", tt.headers)
			if w.Code != tt.status || b.Error != tt.code {
				t.Fatalf("got %d %q, want %d %q", w.Code, b.Error, tt.status, tt.code)
			}
			if tt.body != "" && w.Body.String() != tt.body {
				t.Fatalf("body %q, want %q", w.Body.String(), tt.body)
			}
			if jwt.calls != tt.apiCalled {
				t.Fatalf("second authenticator called %d times, want %d", jwt.calls, tt.apiCalled)
			}
			if strings.Contains(w.Body.String(), "connection refused") {
				t.Fatal("internal error text reached the client")
			}
		})
	}
}

func TestChainChallengeHeaders(t *testing.T) {
	h := middleware.Authenticate([]auth.Authenticator{&fakeAuth{method: auth.MethodJWT}})(http.HandlerFunc(whoami))
	w, _ := do(t, h, "/x", nil)
	if got := w.Header().Get("WWW-Authenticate"); got != `Bearer realm="gatehouse"` {
		t.Fatalf("no-credentials challenge = %q", got)
	}
	w, _ = do(t, h, "/x", map[string]string{"X-Fake-jwt": "expired"})
	if got := w.Header().Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) {
		t.Fatalf("expired-token challenge = %q", got)
	}
}

func TestOptionalAuthentication(t *testing.T) {
	h := middleware.Authenticate([]auth.Authenticator{&fakeAuth{method: auth.MethodJWT}}, middleware.Optional())(http.HandlerFunc(whoami))
	if w, _ := do(t, h, "/x", nil); w.Code != 200 || w.Body.String() != "anonymous" {
		t.Fatalf("anonymous: %d %q", w.Code, w.Body.String())
	}
	if w, b := do(t, h, "/x", map[string]string{"X-Fake-jwt": "bad"}); w.Code != 401 || b.Error != "invalid_token" {
		t.Fatalf("bad credential with Optional: %d %q", w.Code, b.Error)
	}
	if w, b := do(t, h, "/x", map[string]string{"X-Fake-jwt": "down"}); w.Code != 503 || b.Error != "unavailable" {
		t.Fatalf("store failure with Optional: %d %q", w.Code, b.Error)
	}
}

func TestRouteMethods(t *testing.T) {
	key, jwt := &fakeAuth{method: auth.MethodAPIKey}, &fakeAuth{method: auth.MethodJWT}
	h := middleware.Authenticate([]auth.Authenticator{key, jwt},
		middleware.RouteMethods("/api/v1/admin/", auth.MethodJWT))(http.HandlerFunc(whoami))
	cases := []struct {
		path    string
		headers map[string]string
		status  int
	}{
		{"/api/v1/admin/users", map[string]string{"X-Fake-jwt": "good"}, 200},
		{"/api/v1/admin/users", map[string]string{"X-Fake-api_key": "good"}, 401},
		{"/api/v1/ADMIN/users", map[string]string{"X-Fake-api_key": "good"}, 401},
		{"/api/v1/x/../admin/users", map[string]string{"X-Fake-api_key": "good"}, 401},
		{"/api/v1/admin", map[string]string{"X-Fake-api_key": "good"}, 401},
		{"/api/v1/predictions", map[string]string{"X-Fake-api_key": "good"}, 200},
	}
	for _, c := range cases {
		key.calls = 0
		if w, _ := do(t, h, c.path, c.headers); w.Code != c.status {
			t.Errorf("%s with %v: %d, want %d", c.path, c.headers, w.Code, c.status)
		}
	}
	// A principal of another method from an authenticator that does not
	// declare its method is rejected too.
	anon := auth.AuthenticatorFunc(func(*http.Request) (*auth.Principal, error) {
		return &auth.Principal{Subject: "s", Method: auth.MethodSession}, nil
	})
	h = middleware.Authenticate([]auth.Authenticator{anon}, middleware.RouteMethods("/admin/", auth.MethodJWT))(http.HandlerFunc(whoami))
	if w, _ := do(t, h, "/admin/x", nil); w.Code != 401 {
		t.Fatalf("undeclared method principal on restricted route: %d", w.Code)
	}
}

func TestExemptPathTricks(t *testing.T) {
	h := middleware.Authenticate([]auth.Authenticator{&fakeAuth{method: auth.MethodJWT}},
		middleware.Exempt("/healthz", "/public/"))(http.HandlerFunc(whoami))
	exempt := []string{"/healthz", "/public/", "/public/logo.png", "/healthz?verbose=1"}
	protected := []string{
		"/admin",
		"/healthz/../admin",
		"/healthz/..",
		"/public/../admin",
		"//admin",
		"//healthz",
		"/HEALTHZ",
		"/Healthz",
		"/healthz%2f..%2fadmin",
		"/healthz%2F..%2Fadmin",
		"/public%2f..%2fadmin",
		"/healthz;x",
		"/healthz;/../admin",
		"/healthz/",
		"/healthz/.",
		"/healthz.",
		"/healthzz",
		"/public",
		"/public/./../admin",
		"/public//admin",
		"/healthz%00",
		"/heal%74hz",
		"/public/%2e%2e/admin",
		"/healthz\\..\\admin",
	}
	for _, p := range exempt {
		if w, _ := do(t, h, p, nil); w.Code != 200 {
			t.Errorf("exempt path %q: status %d", p, w.Code)
		}
	}
	for _, p := range protected {
		w, _ := do(t, h, p, nil)
		if w.Code != 401 {
			t.Errorf("protected path %q answered %d without credentials", p, w.Code)
		}
	}
}

func TestErrorCodesJSONAndStatus(t *testing.T) {
	for _, c := range auth.Codes {
		t.Run(string(c), func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest("GET", "/", nil)
			middleware.WriteError(w, r, &auth.Error{Code: c, Err: errors.New("internal detail 10.1.2.3")})
			if w.Code != c.Status() {
				t.Fatalf("status %d, want %d", w.Code, c.Status())
			}
			var body map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if len(body) != 2 || body["error"] != string(c) || body["error_description"] == "" {
				t.Fatalf("body %v", body)
			}
			if strings.Contains(w.Body.String(), "internal detail") {
				t.Fatal("internal error text leaked")
			}
			if w.Header().Get("Cache-Control") != "no-store" {
				t.Fatal("error response cacheable")
			}
			if (w.Code == 401) != (w.Header().Get("WWW-Authenticate") != "") {
				t.Fatalf("WWW-Authenticate %q on %d", w.Header().Get("WWW-Authenticate"), w.Code)
			}
		})
	}
	w := httptest.NewRecorder()
	middleware.WriteError(w, httptest.NewRequest("GET", "/", nil), &auth.Error{Code: auth.CodeAccountLocked, RetryAfter: 1500e6})
	if got := w.Header().Get("Retry-After"); got != "2" {
		t.Fatalf("Retry-After = %q, want 2 (rounded up)", got)
	}
	w = httptest.NewRecorder()
	middleware.WriteError(w, httptest.NewRequest("GET", "/", nil), &auth.Error{Code: auth.CodeMFARequired, Details: map[string]any{"mfa_token": "t1", "error": "spoof"}})
	var body map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	if body["mfa_token"] != "t1" || body["error"] != "mfa_required" {
		t.Fatalf("details: %v", body)
	}
}

func FuzzExemptPath(f *testing.F) {
	for _, s := range []string{"/healthz", "/healthz/../admin", "//admin", "/HEALTHZ", "/healthz%2f..%2fadmin", "/healthz;x", "/public/a", "/public/../x", "/%2e%2e/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rawPath string) {
		r, err := http.NewRequest("GET", "http://api.test"+rawPath, nil)
		if err != nil || r.URL.Host != "api.test" {
			return
		}
		p, ok := middleware.CanonicalPath(r)
		if !ok {
			return
		}
		// Whatever is called canonical must route to itself: cleaning is a
		// no-op and no escaped form hides another path.
		if r.URL.RawPath != "" || strings.ContainsAny(p, ";\\%") {
			t.Fatalf("CanonicalPath accepted %q (raw %q)", p, rawPath)
		}
		if middleware.MatchPath("/healthz", p) && p != "/healthz" {
			t.Fatalf("%q matched the exact pattern /healthz", p)
		}
		if middleware.MatchPath("/public/", p) && (!strings.HasPrefix(p, "/public/") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..")) {
			t.Fatalf("%q matched /public/ but escapes it", p)
		}
	})
}

func TestCanonicalPathAgreesWithPathClean(t *testing.T) {
	for _, p := range []string{"/", "/a", "/a/", "/a//b", "/a/./b", "/a/../b", "/a/.", "/a/..", "/.", "/..", "/a/b/", "/a.b/c..d", "/.a/..b", "//", "/a//"} {
		r := httptest.NewRequest("GET", "http://x"+p, nil)
		_, ok := middleware.CanonicalPath(r)
		clean := path.Clean(p)
		want := !strings.Contains(p, "//") && (clean == p || (strings.HasSuffix(p, "/") && clean == strings.TrimSuffix(p, "/")))
		if ok != want {
			t.Errorf("CanonicalPath(%q) ok=%v, path.Clean says %v", p, ok, want)
		}
	}
}
