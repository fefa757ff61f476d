package apikey_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/apikey"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/internal/testclock"
	"github.com/gatehouse-auth/gatehouse/middleware"
)

// validator is a key service: a Manager behind its ValidationHandler on a
// TLS test server, counting requests.
type validator struct {
	*env
	srv      *httptest.Server
	requests atomic.Int64
}

func newValidator(t *testing.T) *validator {
	t.Helper()
	v := &validator{env: newEnv(t)}
	h := v.m.ValidationHandler()
	v.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v.requests.Add(1)
		if r.Header.Get("Authorization") != "Bearer gateway-credential" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(v.srv.Close)
	return v
}

func (v *validator) remote(t *testing.T, c *clock, mod ...func(*apikey.RemoteConfig)) *apikey.Remote {
	t.Helper()
	cfg := apikey.RemoteConfig{
		URL:         v.srv.URL + "/internal/validate",
		HTTPClient:  v.srv.Client(),
		Header:      http.Header{"Authorization": {"Bearer gateway-credential"}},
		Timeout:     time.Minute, // generous: a loaded CI machine is not a slow validator
		PositiveTTL: time.Minute,
		NegativeTTL: 10 * time.Second,
		Now:         c.Now,
	}
	for _, f := range mod {
		f(&cfg)
	}
	r, err := apikey.NewRemote(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func wantUnavailable(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, apikey.ErrRemoteUnavailable) {
		t.Fatalf("err = %v; want ErrRemoteUnavailable", err)
	}
	if errors.As(err, new(*auth.Error)) || auth.AsError(err).Code != auth.CodeUnavailable {
		t.Fatalf("err = %v is classified %s; want unavailable (503)", err, auth.AsError(err).Code)
	}
}

func TestRemoteCachesValidAnswers(t *testing.T) {
	v := newValidator(t)
	plain, k := v.create(t, v.alice, "predictions:read")
	c := newClock()
	r := v.remote(t, c)
	ctx := context.Background()
	for range 3 {
		p, err := r.Verify(ctx, plain)
		if err != nil {
			t.Fatal(err)
		}
		if p.Subject != "u-alice" || p.Username != "alice" || p.CredentialID != k.ID ||
			p.Method != auth.MethodAPIKey || len(p.Scopes) != 1 || p.Scopes[0] != "predictions:read" ||
			len(p.Roles) != 1 || p.Roles[0] != "supervisor" {
			t.Fatalf("principal = %+v", p)
		}
		p.Subject = "tampered" // callers get copies
	}
	if n := v.requests.Load(); n != 1 {
		t.Fatalf("%d validator requests for 3 uses within the TTL; want 1", n)
	}
	// Revocation at the validator is seen once the cached answer expires.
	if err := v.m.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute - time.Second)
	if _, err := r.Verify(ctx, plain); err != nil {
		t.Fatalf("within the positive TTL after revocation: %v (documented staleness)", err)
	}
	c.Advance(time.Second)
	_, err := r.Verify(ctx, plain)
	if !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("after the TTL: %v; want invalid_token", err)
	}
	if n := v.requests.Load(); n != 2 {
		t.Fatalf("%d requests; want 2", n)
	}
}

func TestRemoteNeverCachesPastKeyExpiry(t *testing.T) {
	v := newValidator(t)
	plain, _, err := v.m.Create(context.Background(), v.alice, apikey.Params{Name: "n",
		ExpiresAt: v.clock.Now().Add(20 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	c := testclock.New(v.clock.Now())
	r := v.remote(t, c)
	if _, err := r.Verify(context.Background(), plain); err != nil {
		t.Fatal(err)
	}
	c.Advance(20 * time.Second)
	v.clock.Advance(20 * time.Second)
	if _, err := r.Verify(context.Background(), plain); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("expired key served from cache: %v", err)
	}
}

func TestRemoteCachesInvalidAnswersBriefly(t *testing.T) {
	v := newValidator(t)
	c := newClock()
	events := &recorder{}
	r := v.remote(t, c, func(c *apikey.RemoteConfig) { c.Events = events })
	ctx := context.Background()
	unknown, _ := apikey.Format{}.Generate()
	for range 3 {
		_, err := r.Verify(ctx, unknown)
		wantRejected(t, err, apikey.ErrNotFound)
	}
	if n := v.requests.Load(); n != 1 {
		t.Fatalf("%d requests for 3 uses of an unknown key; want 1", n)
	}
	rej := events.of(auth.EventAPIKeyRejected)
	if len(rej) != 3 || rej[0].Reason != "remote_rejected" || rej[0].Attrs["key_prefix"] != unknown[:7] {
		t.Fatalf("rejected events = %+v", rej)
	}
	if strings.Contains(fmt.Sprintf("%+v", rej), unknown[7:]) {
		t.Fatal("a rejected event carries the key")
	}
	c.Advance(10 * time.Second)
	_, err := r.Verify(ctx, unknown)
	wantRejected(t, err, apikey.ErrNotFound)
	if n := v.requests.Load(); n != 2 {
		t.Fatalf("negative answer outlived NegativeTTL: %d requests", n)
	}
}

func TestRemoteChecksChecksumLocally(t *testing.T) {
	v := newValidator(t)
	plain, _ := v.create(t, v.alice)
	r := v.remote(t, newClock())
	_, err := r.Verify(context.Background(), plain[:10]+"!"+plain[11:])
	wantRejected(t, err, apikey.ErrMalformed)
	last := byte('A')
	if plain[len(plain)-1] == last {
		last = 'B'
	}
	bad := plain[:len(plain)-1] + string(last)
	_, err = r.Verify(context.Background(), bad)
	wantRejected(t, err, apikey.ErrChecksum)
	if n := v.requests.Load(); n != 0 {
		t.Fatalf("%d validator requests for keys with bad syntax or checksum", n)
	}
}

func TestRemoteCacheIsBounded(t *testing.T) {
	v := newValidator(t)
	k1, _ := v.create(t, v.alice)
	k2, _ := v.create(t, v.alice)
	r := v.remote(t, newClock(), func(c *apikey.RemoteConfig) { c.CacheSize = 1 })
	for _, k := range []string{k1, k2, k1} {
		if _, err := r.Verify(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}
	if n := v.requests.Load(); n != 3 {
		t.Fatalf("%d requests; want 3 (k1 evicted by k2 in a cache of one)", n)
	}
}

func TestRemoteForwardsClientIP(t *testing.T) {
	v := newValidator(t)
	plain, k := v.create(t, v.alice)
	r := v.remote(t, newClock())
	if _, err := r.Verify(from("203.0.113.9"), plain); err != nil {
		t.Fatal(err)
	}
	if err := v.m.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := v.m.Get(context.Background(), k.ID)
	if err != nil || got.LastUsedIP != "203.0.113.9" {
		t.Fatalf("validator recorded %+v, %v", got, err)
	}
}

func TestRemoteTimeout(t *testing.T) {
	var requests atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		// A validator that never answers: it waits until the client gives
		// up. (The server notices a disconnect only once the body is read.)
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release) // runs first, so Close never waits on a handler
	r, err := apikey.NewRemote(apikey.RemoteConfig{URL: srv.URL, HTTPClient: srv.Client(), Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := apikey.Format{}.Generate()
	for range 2 {
		_, err := r.Verify(context.Background(), key)
		wantUnavailable(t, err)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v; want it to wrap context.DeadlineExceeded", err)
		}
		if strings.Contains(err.Error(), key) {
			t.Errorf("error text carries the key: %v", err)
		}
	}
	if n := requests.Load(); n != 2 {
		t.Fatalf("%d requests; want 2 (failures are not cached)", n)
	}

	// The caller's context bounds the request too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = r.Verify(ctx, key)
	wantUnavailable(t, err)
}

func TestRemoteMisbehavingValidator(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) }},
		{"401 from a misconfigured credential", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusUnauthorized) }},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>")) }},
		{"valid without subject", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"valid":true,"key_id":"k1"}`))
		}},
		{"redirect elsewhere", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://attacker.example/steal", http.StatusTemporaryRedirect)
		}},
		{"endless body", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"valid":true,"key_id":"` + strings.Repeat("a", 100<<10) + `"}`))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			// The default client (no HTTPClient) follows no redirect.
			r, err := apikey.NewRemote(apikey.RemoteConfig{URL: srv.URL, InsecureAllowHTTP: true, Timeout: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			key, _ := apikey.Format{}.Generate()
			_, err = r.Verify(context.Background(), key)
			wantUnavailable(t, err)
		})
	}
}

func TestRemoteUnreachableIs503(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	r, err := apikey.NewRemote(apikey.RemoteConfig{URL: url, InsecureAllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	a := newAuthenticator(t, r, apikey.AuthenticatorConfig{})
	h := middleware.Authenticate([]auth.Authenticator{a})(http.NotFoundHandler())
	key, _ := apikey.Format{}.Generate()
	req := httptest.NewRequest("GET", "/api/v1/alerts", nil)
	req.Header.Set("X-API-Key", key)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `"unavailable"`) {
		t.Fatalf("got %d %s; want 503 unavailable", w.Code, w.Body)
	}
}

func TestNewRemoteRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  apikey.RemoteConfig
	}{
		{"no URL", apikey.RemoteConfig{}},
		{"plain http", apikey.RemoteConfig{URL: "http://validator.internal/v"}},
		{"relative URL", apikey.RemoteConfig{URL: "/validate"}},
		{"other scheme", apikey.RemoteConfig{URL: "ftp://validator.internal/v"}},
		{"negative timeout", apikey.RemoteConfig{URL: "https://v.internal", Timeout: -1}},
		{"negative TTL longer than positive", apikey.RemoteConfig{URL: "https://v.internal", PositiveTTL: time.Second, NegativeTTL: time.Minute}},
		{"negative cache size", apikey.RemoteConfig{URL: "https://v.internal", CacheSize: -1}},
		{"bad prefix", apikey.RemoteConfig{URL: "https://v.internal", Format: apikey.Format{Prefix: "x"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := apikey.NewRemote(tc.cfg); err == nil {
				t.Fatal("NewRemote accepted the config")
			}
		})
	}
}

func TestValidationHandlerRejectsBadRequests(t *testing.T) {
	e := newEnv(t)
	h := e.m.ValidationHandler()
	tests := []struct {
		name, method, ctype, body string
		status                    int
	}{
		{"GET", "GET", "application/json", "", http.StatusMethodNotAllowed},
		{"form body", "POST", "application/x-www-form-urlencoded", "api_key=x", http.StatusUnsupportedMediaType},
		{"unknown field", "POST", "application/json", `{"api_key":"x","admin":true}`, http.StatusBadRequest},
		{"not JSON", "POST", "application/json", `api_key`, http.StatusBadRequest},
		{"garbage key", "POST", "application/json", `{"api_key":"x"}`, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/validate", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", tc.ctype)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Fatalf("status %d; want %d (%s)", w.Code, tc.status, w.Body)
			}
			if w.Code == http.StatusOK && strings.TrimSpace(w.Body.String()) != `{"valid":false}` {
				t.Fatalf("body %s", w.Body)
			}
		})
	}
}
