package authclient_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehouse-auth/gatehouse/authclient"
)

// scripted answers each request with the next of its answers (200 once
// they run out) and records when each request came and what body it had.
type scripted struct {
	answers []answer
	// mu guards times and bodies.
	mu     sync.Mutex
	times  []time.Time
	bodies []string
}

// answer is a status and a Retry-After value; retryAfter may be computed
// when the request arrives.
type answer struct {
	status     int
	retryAfter func() string
}

func ra(v string) func() string { return func() string { return v } }

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.times)
	s.times = append(s.times, time.Now())
	s.bodies = append(s.bodies, string(b))
	s.mu.Unlock()
	if n < len(s.answers) {
		a := s.answers[n]
		if a.retryAfter != nil {
			w.Header().Set("Retry-After", a.retryAfter())
		}
		w.WriteHeader(a.status)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// waits returns the time between consecutive requests.
func (s *scripted) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Duration
	for i := 1; i < len(s.times); i++ {
		out = append(out, s.times[i].Sub(s.times[i-1]))
	}
	return out
}

func (s *scripted) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.times)
}

// keyClient is an API key client whose requests s answers in memory.
func keyClient(t *testing.T, s http.Handler, p authclient.RetryPolicy) *http.Client {
	t.Helper()
	c := newClient(t, "http://localhost/api/v1/auth", authclient.WithAPIKey("gk_test_key"),
		authclient.WithRetry(p), authclient.WithHTTPClient(&http.Client{Transport: handlerTransport{s}}))
	return c.HTTPClient()
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	type span struct{ lo, hi time.Duration }
	exactly := func(d time.Duration) span { return span{d, d} }
	tests := []struct {
		name       string
		policy     authclient.RetryPolicy
		answers    []answer
		wantStatus int
		wantWaits  []span
	}{
		{"delta-seconds on 429 then 503", authclient.RetryPolicy{},
			[]answer{{429, ra("7")}, {503, ra("3")}}, 200,
			[]span{exactly(7 * time.Second), exactly(3 * time.Second)}},
		{"HTTP-date five seconds ahead", authclient.RetryPolicy{},
			[]answer{{503, func() string { return time.Now().Add(5 * time.Second).UTC().Format(http.TimeFormat) }}}, 200,
			[]span{exactly(5 * time.Second)}},
		{"HTTP-date in the past retries at once", authclient.RetryPolicy{},
			[]answer{{503, ra("Sat, 01 Jan 1994 00:00:00 GMT")}}, 200,
			[]span{exactly(0)}},
		{"no Retry-After: exponential backoff with jitter", authclient.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Second},
			[]answer{{503, nil}, {503, nil}, {429, nil}}, 200,
			[]span{{500 * time.Millisecond, time.Second}, {time.Second, 2 * time.Second}, {2 * time.Second, 4 * time.Second}}},
		{"backoff capped at MaxDelay", authclient.RetryPolicy{MaxAttempts: 4, BaseDelay: 4 * time.Second, MaxDelay: 5 * time.Second},
			[]answer{{503, nil}, {503, nil}, {503, nil}}, 200,
			[]span{{2 * time.Second, 4 * time.Second}, {2500 * time.Millisecond, 5 * time.Second}, {2500 * time.Millisecond, 5 * time.Second}}},
		{"malformed Retry-After falls back to backoff", authclient.RetryPolicy{BaseDelay: time.Second},
			[]answer{{429, ra("soon")}}, 200,
			[]span{{500 * time.Millisecond, time.Second}}},
		{"Retry-After beyond MaxDelay is handed back at once", authclient.RetryPolicy{},
			[]answer{{429, ra("3600")}}, 429, nil},
		{"attempts are bounded", authclient.RetryPolicy{MaxAttempts: 3},
			[]answer{{503, ra("1")}, {503, ra("1")}, {503, ra("1")}, {503, ra("1")}}, 503,
			[]span{exactly(time.Second), exactly(time.Second)}},
		{"MaxAttempts 1 turns retries off", authclient.RetryPolicy{MaxAttempts: 1},
			[]answer{{503, ra("1")}}, 503, nil},
		{"other errors are not retried", authclient.RetryPolicy{},
			[]answer{{500, ra("1")}}, 500, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &scripted{answers: tt.answers}
				hc := keyClient(t, s, tt.policy)
				resp, err := hc.Get("http://localhost/api/v1/predictions")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tt.wantStatus {
					t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
				}
				waits := s.waits()
				if len(waits) != len(tt.wantWaits) {
					t.Fatalf("waited %v, want %d waits", waits, len(tt.wantWaits))
				}
				for i, w := range waits {
					if w < tt.wantWaits[i].lo || w > tt.wantWaits[i].hi {
						t.Errorf("wait %d = %v, want within [%v, %v]", i, w, tt.wantWaits[i].lo, tt.wantWaits[i].hi)
					}
				}
			})
		})
	}
}

func TestRetryWaitEndsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{answers: []answer{{429, ra("20")}}}
		hc := keyClient(t, s, authclient.RetryPolicy{})
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost/api/v1/predictions", nil)
		start := time.Now()
		_, err := hc.Do(req)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d != 2*time.Second || s.calls() != 1 {
			t.Errorf("gave up after %v and %d calls, want 2s and 1", d, s.calls())
		}
	})
}

func TestRetryOnlyIdempotentRequests(t *testing.T) {
	tests := []struct {
		name      string
		method    string
		idemKey   string
		body      string
		wantCalls int
	}{
		{"POST is never retried", http.MethodPost, "", `{"heat":"H-1"}`, 1},
		{"PATCH is never retried", http.MethodPatch, "", `{"x":1}`, 1},
		{"POST with an Idempotency-Key is retried", http.MethodPost, "8e03978e-40d5-43e8-bc93-6894a57f9324", `{"heat":"H-1"}`, 2},
		{"PUT is retried with its body", http.MethodPut, "", `{"threshold":0.8}`, 2},
		{"DELETE is retried", http.MethodDelete, "", "", 2},
		{"HEAD is retried", http.MethodHead, "", "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &scripted{answers: []answer{{503, ra("2")}}}
				hc := keyClient(t, s, authclient.RetryPolicy{})
				var body io.Reader
				if tt.body != "" {
					body = strings.NewReader(tt.body)
				}
				req, _ := http.NewRequest(tt.method, "http://localhost/api/v1/predictions", body)
				if tt.idemKey != "" {
					req.Header.Set("Idempotency-Key", tt.idemKey)
				}
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if s.calls() != tt.wantCalls {
					t.Fatalf("sent %d times, want %d", s.calls(), tt.wantCalls)
				}
				for i, b := range s.bodies {
					if b != tt.body {
						t.Errorf("attempt %d body %q, want %q", i+1, b, tt.body)
					}
				}
			})
		})
	}
}

func TestRetryKeepsTheTokenFresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The token expires while the client waits out a Retry-After; the
		// retry goes out with a refreshed one rather than being refused.
		f := newFakeAPI()
		f.accessTTL = 30 * time.Second
		s := &scripted{answers: []answer{{503, ra("29")}}}
		mux := http.NewServeMux()
		mux.Handle(authPrefix+"/", f.handler())
		mux.Handle("/api/v1/slow", s)
		c := newClient(t, "http://localhost"+authPrefix, authclient.WithPassword(opUser, opPass),
			authclient.WithHTTPClient(&http.Client{Transport: handlerTransport{mux}}))
		resp, err := c.HTTPClient().Get("http://localhost/api/v1/slow")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || s.calls() != 2 || f.refreshes.Load() != 1 {
			t.Errorf("status %d after %d calls and %d refreshes; want 200, 2, 1", resp.StatusCode, s.calls(), f.refreshes.Load())
		}
	})
}
