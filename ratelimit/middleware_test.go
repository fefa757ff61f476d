package ratelimit_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
)

// events records emitted events.
type events struct {
	mu   sync.Mutex // guards list
	list []auth.Event
}

func (e *events) Emit(ev auth.Event) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestMiddlewareHeadersAnd429(t *testing.T) {
	c := newClock() // 2030-01-02T03:04:05Z
	l := newMemory(t, ratelimit.MemoryConfig{Limit: 2, Period: 10 * time.Second, Now: c.Now})
	var ev events
	h := ratelimit.Middleware(l, ratelimit.ByClientIP, ratelimit.WithEvents(&ev), ratelimit.WithClock(c.Now))(okHandler)
	base := c.Now().Unix()

	r := request("203.0.113.5:1234")
	r = r.WithContext(auth.WithRequestMeta(r.Context(), auth.RequestMeta{RequestID: "rid-1"}))
	w := serve(h, r)
	if w.Code != http.StatusNoContent {
		t.Fatalf("first request: %d", w.Code)
	}
	checkHeaders(t, "first", w, "2", "1", base+5, "")
	w = serve(h, r)
	checkHeaders(t, "second", w, "2", "0", base+10, "")
	c.Advance(1500 * time.Millisecond)
	w = serve(h, r)
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("third request: %d", w.Code)
	}
	// 3.5s until one request is back: Retry-After rounds up to 4.
	checkHeaders(t, "limited", w, "2", "0", base+10, "4")
	var body map[string]string
	if err := json.NewDecoder(w.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body["error"] != "rate_limited" || body["error_description"] == "" {
		t.Fatalf("body: %v", body)
	}
	if len(ev.list) != 1 {
		t.Fatalf("%d events, want 1", len(ev.list))
	}
	e := ev.list[0]
	if e.Type != auth.EventRateLimited || e.RequestID != "rid-1" || !e.Time.Equal(c.Now()) ||
		e.Attrs["retry_after_seconds"] != "4" || e.Attrs["limit"] != "2" || e.Attrs["path"] != "/" {
		t.Fatalf("event: %+v", e)
	}
	// Another client is unaffected.
	if w := serve(h, request("203.0.113.6:1234")); w.Code != http.StatusNoContent {
		t.Fatalf("other client: %d", w.Code)
	}
}

func checkHeaders(t *testing.T, what string, w *httptest.ResponseRecorder, limit, remaining string, reset int64, retry string) {
	t.Helper()
	h := w.Header()
	if h.Get("X-RateLimit-Limit") != limit || h.Get("X-RateLimit-Remaining") != remaining ||
		h.Get("X-RateLimit-Reset") != itoa(reset) || h.Get("Retry-After") != retry {
		t.Fatalf("%s: headers limit=%q remaining=%q reset=%q retry-after=%q, want %s %s %d %q", what,
			h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Reset"), h.Get("Retry-After"),
			limit, remaining, reset, retry)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// failingLimiter is a Limiter whose store is down.
type failingLimiter struct{ calls int }

func (f *failingLimiter) Allow(ctx context.Context, key string) (ratelimit.Decision, error) {
	return f.AllowN(ctx, key, 1)
}

func (f *failingLimiter) AllowN(context.Context, string, int) (ratelimit.Decision, error) {
	f.calls++
	return ratelimit.Decision{Allowed: true, Limit: 9, Remaining: 9}, errors.New("redis: connection refused")
}

func TestMiddlewareStoreFailureDeniesByDefault(t *testing.T) {
	fl := &failingLimiter{}
	reached := false
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true })
	w := serve(ratelimit.Middleware(fl, ratelimit.ByClientIP)(next), request("203.0.113.5:1"))
	if reached || w.Code != http.StatusServiceUnavailable {
		t.Fatalf("store down: status %d, handler reached %v", w.Code, reached)
	}
	if strings.Contains(w.Body.String(), "redis") || w.Header().Get("X-RateLimit-Limit") != "" {
		t.Fatalf("store failure leaked detail or headers: %q %v", w.Body, w.Header())
	}
	w = serve(ratelimit.Middleware(fl, ratelimit.ByClientIP, ratelimit.InsecureFailOpen())(next), request("203.0.113.5:1"))
	if !reached || w.Code != http.StatusOK {
		t.Fatalf("fail-open: status %d, handler reached %v", w.Code, reached)
	}
}

func TestMiddlewareKeyFailureDenies(t *testing.T) {
	l := newMemory(t, ratelimit.MemoryConfig{Limit: 100})
	reached := false
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true })
	// ByPrincipal on a route without authentication has no key.
	w := serve(ratelimit.Middleware(l, ratelimit.ByPrincipal)(next), request("203.0.113.5:1"))
	if reached || w.Code != http.StatusServiceUnavailable {
		t.Fatalf("no key: status %d, handler reached %v", w.Code, reached)
	}
}

func TestMiddlewareCustomErrorHandler(t *testing.T) {
	c := newClock()
	l := newMemory(t, ratelimit.MemoryConfig{Limit: 1, Now: c.Now})
	var got error
	h := ratelimit.Middleware(l, ratelimit.ByClientIP, ratelimit.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		w.WriteHeader(http.StatusTeapot)
	}))(okHandler)
	serve(h, request("203.0.113.5:1"))
	w := serve(h, request("203.0.113.5:1"))
	var ae *auth.Error
	if w.Code != http.StatusTeapot || !errors.As(got, &ae) || !errors.Is(got, auth.ErrRateLimited) || ae.RetryAfter != time.Minute {
		t.Fatalf("custom handler: status %d, err %v", w.Code, got)
	}
}

func TestMiddlewarePanicsWithoutLimiterOrKey(t *testing.T) {
	l := newMemory(t, ratelimit.MemoryConfig{Limit: 1})
	for name, f := range map[string]func(){
		"nil limiter": func() { ratelimit.Middleware(nil, ratelimit.ByClientIP) },
		"nil key":     func() { ratelimit.Middleware(l, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
}

func TestMiddlewareBehindResolverLimitsRealClient(t *testing.T) {
	c := newClock()
	l := newMemory(t, ratelimit.MemoryConfig{Limit: 1, Now: c.Now})
	res := resolver(t, ratelimit.XForwardedFor, "10.0.0.0/8")
	h := res.Middleware(ratelimit.Middleware(l, ratelimit.ByClientIP)(okHandler))
	// Two clients behind the same proxy have separate limits; a client
	// rotating spoofed XFF prefixes does not escape its own.
	if w := serve(h, request("10.0.0.1:1", "X-Forwarded-For", "203.0.113.5")); w.Code != http.StatusNoContent {
		t.Fatalf("client A: %d", w.Code)
	}
	if w := serve(h, request("10.0.0.1:1", "X-Forwarded-For", "203.0.113.6")); w.Code != http.StatusNoContent {
		t.Fatalf("client B: %d", w.Code)
	}
	if w := serve(h, request("10.0.0.1:1", "X-Forwarded-For", "1.1.1.1, 203.0.113.5")); w.Code != http.StatusTooManyRequests {
		t.Fatalf("client A with a spoofed prefix: %d", w.Code)
	}
}
