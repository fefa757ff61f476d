package session_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/internal/testclock"
	"github.com/gatehouse-auth/gatehouse/session"
)

// clock is the tests' settable clock.
type clock = testclock.Clock

func newClock() *clock { return testclock.New(time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC)) }

// recorder collects emitted events.
type recorder struct {
	mu     sync.Mutex // guards events
	events []auth.Event
}

func (r *recorder) Emit(e auth.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) take() []auth.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func (r *recorder) ofType(t auth.EventType) []auth.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []auth.Event
	for _, e := range r.events {
		if e.Type == t {
			out = append(out, e)
		}
	}
	return out
}

// countingStore wraps a store, counts calls and can fail them.
type countingStore struct {
	session.Store
	gets, updates, creates atomic.Int64
	failGet, failUpdate    atomic.Pointer[error]
}

func (s *countingStore) Get(ctx context.Context, id string) (session.Record, error) {
	s.gets.Add(1)
	if e := s.failGet.Load(); e != nil {
		return session.Record{}, *e
	}
	return s.Store.Get(ctx, id)
}

func (s *countingStore) Update(ctx context.Context, id string, u session.Update) error {
	s.updates.Add(1)
	if e := s.failUpdate.Load(); e != nil {
		return *e
	}
	return s.Store.Update(ctx, id, u)
}

func (s *countingStore) Create(ctx context.Context, rec session.Record, o session.CreateOptions) ([]session.Record, error) {
	s.creates.Add(1)
	return s.Store.Create(ctx, rec, o)
}

// fixture is a manager on a counting memory store with a hand-driven clock.
type fixture struct {
	m      *session.Manager
	mem    *session.MemoryStore
	store  *countingStore
	clock  *clock
	events *recorder
}

func newFixture(t *testing.T, cfg session.Config) *fixture {
	t.Helper()
	f := &fixture{clock: newClock(), events: &recorder{}}
	f.mem = session.NewMemoryStoreWith(session.MemoryStoreConfig{SweepInterval: -1})
	f.store = &countingStore{Store: f.mem}
	cfg.Store, cfg.Now, cfg.Events = f.store, f.clock.Now, f.events
	m, err := session.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.m = m
	return f
}

var alice = &auth.Principal{
	Subject:  "u-alice",
	Username: "alice",
	Email:    "alice@plant.example",
	Roles:    []string{"operator"},
	Method:   auth.MethodBasic,
	MFA:      auth.MFAState{Verified: true, Methods: []string{"pwd", "otp"}},
}

var bob = &auth.Principal{Subject: "u-bob", Username: "bob", Roles: []string{"engineer"}, Method: auth.MethodBasic}

// login creates a session for p and returns its cookie.
func (f *fixture) login(t *testing.T, p *auth.Principal) *http.Cookie {
	t.Helper()
	w := httptest.NewRecorder()
	ctx := auth.WithRequestMeta(context.Background(), auth.RequestMeta{ClientIP: "198.51.100.4", UserAgent: "test-browser/1.0", RequestID: "req-1"})
	if _, err := f.m.Create(ctx, w, p, session.Meta{}); err != nil {
		t.Fatalf("Create(%s): %v", p.Subject, err)
	}
	return sessionCookie(t, w, f.m.CookieName())
}

// sessionCookie returns the session cookie set on w.
func sessionCookie(t *testing.T, w *httptest.ResponseRecorder, name string) *http.Cookie {
	t.Helper()
	// Parsed from the live header: ResponseRecorder.Result caches its first
	// snapshot.
	for _, c := range (&http.Response{Header: w.Header()}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie in %q", name, w.Header().Values("Set-Cookie"))
	return nil
}

// req returns a request to https://plant.example/path carrying c, with
// headers given as name/value pairs.
func req(method, path string, c *http.Cookie, headers ...string) *http.Request {
	r := httptest.NewRequest(method, "https://plant.example"+path, nil)
	if c != nil {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

func hashOf(cookieValue string) string {
	sum := sha256.Sum256([]byte(cookieValue))
	return hex.EncodeToString(sum[:])
}
