package session_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/middleware"
	"github.com/gatehouse-auth/gatehouse/session"
)

func TestCrossOriginRequestsWithTheCookie(t *testing.T) {
	f := newFixture(t, session.Config{TrustedOrigins: []string{"https://dashboard.plant.example"}})
	c := f.login(t, alice)
	tests := []struct {
		name    string
		method  string
		headers []string
		want    error // nil: authenticated
	}{
		{"same-origin POST by fetch metadata", "POST", []string{"Sec-Fetch-Site", "same-origin"}, nil},
		{"same-origin POST by Origin", "POST", []string{"Origin", "https://plant.example"}, nil},
		{"user-initiated navigation POST", "POST", []string{"Sec-Fetch-Site", "none"}, nil},
		{"POST without browser headers", "POST", nil, nil},
		{"cross-site GET is a safe method", "GET", []string{"Sec-Fetch-Site", "cross-site"}, nil},
		{"trusted origin POST", "POST", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://dashboard.plant.example"}, nil},
		{"cross-site POST", "POST", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, session.ErrCrossOrigin},
		{"cross-site POST from fetch metadata alone", "POST", []string{"Sec-Fetch-Site", "cross-site"}, session.ErrCrossOrigin},
		{"sibling subdomain POST", "POST", []string{"Sec-Fetch-Site", "same-site", "Origin", "https://blog.plant.example"}, session.ErrCrossOrigin},
		{"old browser with a foreign Origin", "POST", []string{"Origin", "https://evil.example"}, session.ErrCrossOrigin},
		{"foreign Origin spoofing the host with a port", "POST", []string{"Origin", "https://plant.example:8443"}, session.ErrCrossOrigin},
		{"null Origin from a sandboxed frame", "POST", []string{"Origin", "null"}, session.ErrCrossOrigin},
		{"cross-site DELETE", "DELETE", []string{"Sec-Fetch-Site", "cross-site"}, session.ErrCrossOrigin},
		{"cross-site PUT", "PUT", []string{"Sec-Fetch-Site", "cross-site"}, session.ErrCrossOrigin},
		{"cross-site PATCH", "PATCH", []string{"Sec-Fetch-Site", "cross-site"}, session.ErrCrossOrigin},
		{"cross-site POST with a lower-case method", "post", []string{"Sec-Fetch-Site", "cross-site"}, session.ErrCrossOrigin},
		// A request carrying a token is not authenticated by the cookie:
		// the session authenticator steps aside, and the check does not
		// apply to it.
		{"cross-site POST with a bearer token", "POST", []string{"Sec-Fetch-Site", "cross-site", "Authorization", "Bearer t0ken"}, auth.ErrNoCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := f.m.Authenticate(req(tc.method, "/api/v1/predictions", c, tc.headers...))
			if tc.want == nil {
				if err != nil || p == nil || p.Subject != alice.Subject {
					t.Fatalf("Authenticate = %v, %v; want alice", p, err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Authenticate error = %v, want %v", err, tc.want)
			}
			if errors.Is(tc.want, session.ErrCrossOrigin) && auth.AsError(err).Status() != http.StatusForbidden {
				t.Errorf("status = %d, want 403", auth.AsError(err).Status())
			}
		})
	}
}

func TestCrossOriginCheckCanBeSkipped(t *testing.T) {
	f := newFixture(t, session.Config{InsecureSkipCrossOriginCheck: true})
	c := f.login(t, alice)
	if _, err := f.m.Authenticate(req("POST", "/", c, "Sec-Fetch-Site", "cross-site")); err != nil {
		t.Fatalf("with the check skipped: %v", err)
	}
}

// A forged request does not even reach the store: it cannot move the idle
// deadline of the victim's session.
func TestCrossOriginRequestDoesNotTouchTheStore(t *testing.T) {
	f := newFixture(t, session.Config{})
	c := f.login(t, alice)
	before := f.store.gets.Load()
	_, _ = f.m.Authenticate(req("POST", "/", c, "Sec-Fetch-Site", "cross-site"))
	if f.store.gets.Load() != before {
		t.Errorf("a cross-site request read the store")
	}
}

// The chain the reference server uses: bearer tokens first, then the cookie.
func TestCrossOriginThroughTheMiddlewareChain(t *testing.T) {
	f := newFixture(t, session.Config{})
	c := f.login(t, alice)
	bearer := auth.AuthenticatorFunc(func(r *http.Request) (*auth.Principal, error) {
		tok, err := auth.BearerToken(r)
		if err != nil {
			return nil, err
		}
		if tok != "good-token" {
			return nil, auth.NewError(auth.CodeInvalidToken, "")
		}
		return &auth.Principal{Subject: "svc-1", Method: auth.MethodJWT}, nil
	})
	h := f.m.LoadAndSave(middleware.Authenticate([]auth.Authenticator{bearer, f.m})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, _ := auth.FromContext(r.Context())
			_, _ = io.WriteString(w, string(p.Method)+":"+p.Subject)
		})))
	tests := []struct {
		name     string
		r        *http.Request
		status   int
		body     string
		noCookie bool
	}{
		{"same-origin POST with the cookie", req("POST", "/api/v1/predictions", c, "Sec-Fetch-Site", "same-origin"), 200, "session:u-alice", false},
		{"cross-site POST with the cookie", req("POST", "/api/v1/predictions", c, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"), 403, "", false},
		{"cross-site POST with a token and the cookie", req("POST", "/api/v1/predictions", c, "Sec-Fetch-Site", "cross-site", "Authorization", "Bearer good-token"), 200, "jwt:svc-1", false},
		{"cross-site POST with a bad token and the cookie", req("POST", "/api/v1/predictions", c, "Sec-Fetch-Site", "cross-site", "Authorization", "Bearer forged"), 401, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tc.r)
			if w.Code != tc.status {
				t.Fatalf("status = %d, want %d (body %s)", w.Code, tc.status, w.Body)
			}
			if tc.body != "" && w.Body.String() != tc.body {
				t.Errorf("body = %q, want %q", w.Body, tc.body)
			}
		})
	}
}
