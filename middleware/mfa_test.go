package middleware_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/middleware"
)

var mfaNow = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

func principalWithMFA(verified bool, at time.Time) *auth.Principal {
	return &auth.Principal{
		Subject: "u-7", Username: "mira", Method: auth.MethodJWT,
		MFA: auth.MFAState{Verified: verified, VerifiedAt: at, Methods: []string{"pwd", "otp", "mfa"}},
	}
}

// serveStepUp runs one request through RequireRecentMFA with p in its
// context (none when p is nil).
func serveStepUp(t *testing.T, p *auth.Principal, maxAge time.Duration, opts ...middleware.MFAOption) *httptest.ResponseRecorder {
	t.Helper()
	opts = append([]middleware.MFAOption{middleware.MFANow(func() time.Time { return mfaNow })}, opts...)
	h := middleware.RequireRecentMFA(maxAge, opts...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	r := httptest.NewRequest(http.MethodPost, "/api/v1/models/deploy", nil)
	if p != nil {
		r = r.WithContext(auth.NewContext(r.Context(), p))
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestRequireRecentMFA(t *testing.T) {
	const maxAge = 5 * time.Minute
	tests := []struct {
		name   string
		p      *auth.Principal
		maxAge time.Duration
		status int
		code   string
	}{
		{"no principal at all", nil, maxAge, 401, "invalid_credentials"},
		{"password only, no second factor", principalWithMFA(false, time.Time{}), maxAge, 401, "mfa_required"},
		{"verified flag without a time", principalWithMFA(true, time.Time{}), maxAge, 401, "mfa_required"},
		{"time without the verified flag", principalWithMFA(false, mfaNow.Add(-time.Minute)), maxAge, 401, "mfa_required"},
		{"verified a minute ago", principalWithMFA(true, mfaNow.Add(-time.Minute)), maxAge, 204, ""},
		{"verified exactly max age ago", principalWithMFA(true, mfaNow.Add(-maxAge)), maxAge, 204, ""},
		{"verified one second too long ago", principalWithMFA(true, mfaNow.Add(-maxAge-time.Second)), maxAge, 401, "mfa_required"},
		{"verified yesterday", principalWithMFA(true, mfaNow.Add(-24*time.Hour)), maxAge, 401, "mfa_required"},
		{"verification slightly in the future (clock skew)", principalWithMFA(true, mfaNow.Add(30*time.Second)), maxAge, 204, ""},
		{"verification far in the future", principalWithMFA(true, mfaNow.Add(time.Hour)), maxAge, 401, "mfa_required"},
		{"zero max age fails closed", principalWithMFA(true, mfaNow), 0, 401, "mfa_required"},
		{"negative max age fails closed", principalWithMFA(true, mfaNow), -time.Minute, 401, "mfa_required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serveStepUp(t, tt.p, tt.maxAge)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d (body %s)", w.Code, tt.status, w.Body)
			}
			if tt.status == 204 {
				return
			}
			var body map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			if body["error"] != tt.code {
				t.Fatalf("error = %v, want %s", body["error"], tt.code)
			}
			challenge := w.Header().Get("WWW-Authenticate")
			if tt.code == "mfa_required" {
				if !strings.Contains(challenge, `error="insufficient_user_authentication"`) ||
					!strings.Contains(challenge, "max_age="+jsonInt(tt.maxAge)) {
					t.Fatalf("WWW-Authenticate = %q, want the RFC 9470 step-up challenge", challenge)
				}
				if got, _ := body["max_age"].(float64); int64(got) != int64(max(tt.maxAge, 0)/time.Second) {
					t.Fatalf("max_age = %v", body["max_age"])
				}
			} else if challenge != `Bearer realm="gatehouse"` {
				t.Fatalf("WWW-Authenticate = %q for a request without credentials", challenge)
			}
		})
	}
}

func jsonInt(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	b, _ := json.Marshal(int64(d / time.Second))
	return string(b)
}

func TestCheckRecentMFA(t *testing.T) {
	if err := middleware.CheckRecentMFA(nil, time.Minute, mfaNow); !errors.Is(err, auth.ErrNoCredentials) {
		t.Fatalf("nil principal: %v, want ErrNoCredentials", err)
	}
	err := middleware.CheckRecentMFA(principalWithMFA(true, mfaNow.Add(-2*time.Minute)), time.Minute, mfaNow)
	if !errors.Is(err, auth.ErrMFARequired) {
		t.Fatalf("stale MFA: %v, want mfa_required", err)
	}
	if err := middleware.CheckRecentMFA(principalWithMFA(true, mfaNow.Add(-30*time.Second)), time.Minute, mfaNow); err != nil {
		t.Fatalf("fresh MFA: %v", err)
	}
}

type mfaEvents struct {
	mu sync.Mutex
	ev []auth.Event
}

func (r *mfaEvents) Emit(e auth.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ev = append(r.ev, e)
}

func TestRequireRecentMFAErrorHandlerAndEvents(t *testing.T) {
	var got error
	rec := &mfaEvents{}
	handler := middleware.MFAErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		w.WriteHeader(http.StatusTeapot)
	})
	w := serveStepUp(t, principalWithMFA(false, time.Time{}), time.Minute, handler, middleware.MFAEvents(rec))
	if w.Code != http.StatusTeapot || !errors.Is(got, auth.ErrMFARequired) {
		t.Fatalf("custom handler: status %d, err %v", w.Code, got)
	}
	if w.Header().Get("WWW-Authenticate") != "" {
		t.Fatal("the step-up challenge was added behind a custom error handler")
	}
	if len(rec.ev) != 1 || rec.ev[0].Type != auth.EventPermissionDenied || rec.ev[0].Reason != "mfa_required" ||
		rec.ev[0].Subject != "u-7" || rec.ev[0].Attrs["path"] != "/api/v1/models/deploy" {
		t.Fatalf("events = %+v", rec.ev)
	}
	w = serveStepUp(t, principalWithMFA(true, mfaNow), time.Minute, middleware.MFAEvents(rec))
	if w.Code != http.StatusNoContent || len(rec.ev) != 1 {
		t.Fatalf("a passing request: status %d, %d events", w.Code, len(rec.ev))
	}
}
