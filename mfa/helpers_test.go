package mfa_test

import (
	"context"
	"encoding/base32"
	"errors"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/internal/testclock"
	"github.com/gatehouse-auth/gatehouse/mfa"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
)

// clock is the tests' settable clock.
type clock = testclock.Clock

func newClock() *clock { return testclock.New(start) }

// start is the tests' reference time, 10 s into a 30 s step.
var start = time.Date(2030, 3, 4, 5, 6, 10, 0, time.UTC)

// recorder collects events.
type recorder struct {
	mu sync.Mutex // guards ev
	ev []auth.Event
}

func (r *recorder) Emit(e auth.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ev = append(r.ev, e)
}

func (r *recorder) count(t auth.EventType) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.ev {
		if e.Type == t {
			n++
		}
	}
	return n
}

func (r *recorder) last(t auth.EventType) (auth.Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.ev) - 1; i >= 0; i-- {
		if r.ev[i].Type == t {
			return r.ev[i], true
		}
	}
	return auth.Event{}, false
}

// sender records the codes it is asked to send.
type sender struct {
	mu   sync.Mutex // guards msgs and err
	msgs []sentMsg
	err  error
}

type sentMsg struct {
	user    mfa.User
	channel mfa.Method
	code    string
}

func (s *sender) Send(_ context.Context, u mfa.User, ch mfa.Method, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.msgs = append(s.msgs, sentMsg{u, ch, code})
	return nil
}

func (s *sender) lastCode(t *testing.T) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.msgs) == 0 {
		t.Fatal("no code was sent")
	}
	return s.msgs[len(s.msgs)-1].code
}

// env is a Manager with its fakes.
type env struct {
	m      *mfa.Manager
	clock  *clock
	events *recorder
	store  *mfa.MemoryStore
	sender *sender
	kr     *auth.Keyring
}

func newKeyring(t testing.TB) *auth.Keyring {
	t.Helper()
	key, err := auth.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	kr, err := auth.NewKeyring("k1", key)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// newEnv returns a Manager on a memory store, a settable clock, an event
// recorder and a fake sender; edit adjusts the config.
func newEnv(t *testing.T, edit func(*mfa.Config)) *env {
	t.Helper()
	e := &env{clock: newClock(), events: &recorder{}, store: mfa.NewMemoryStore(), sender: &sender{}, kr: newKeyring(t)}
	cfg := mfa.Config{Keyring: e.kr, Store: e.store, Sender: e.sender, Now: e.clock.Now, Events: e.events, Issuer: "Steel Plant"}
	if edit != nil {
		edit(&cfg)
	}
	m, err := mfa.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.m = m
	return e
}

// lenientAttempts returns a limiter without delays or locks, for tests that
// race many attempts against one store.
func lenientAttempts(t *testing.T, now func() time.Time) *ratelimit.AttemptsLimiter {
	t.Helper()
	l, err := ratelimit.NewAttemptsLimiter(ratelimit.AttemptsConfig{Delays: []time.Duration{0}, MaxFailures: -1, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

var mira = mfa.User{
	ID: "u-mira", Name: "mira", Email: "mira@plant.example", Phone: "+15550100",
	Roles: []string{"supervisor"}, CreatedAt: start.Add(-30 * 24 * time.Hour),
}

// enrolled is a user with TOTP on.
type enrolled struct {
	secret string // base32
	backup []string
	params totp.ValidateOpts
}

// code returns the TOTP code of the user at time at.
func (u enrolled) code(t *testing.T, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(u.secret, at, u.params)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// paramsOf reads the TOTP parameters from an otpauth URL, as an app does.
func paramsOf(t *testing.T, rawURL string) totp.ValidateOpts {
	t.Helper()
	key, err := otp.NewKeyFromURL(rawURL)
	if err != nil {
		t.Fatalf("otpauth URL %q: %v", rawURL, err)
	}
	return totp.ValidateOpts{Period: uint(key.Period()), Digits: key.Digits(), Algorithm: key.Algorithm()}
}

// enroll runs Setup and Confirm for u at the env's clock, then moves the
// clock to the next time step so that a fresh code is available.
func (e *env) enroll(t *testing.T, u mfa.User) enrolled {
	t.Helper()
	ctx := context.Background()
	en, err := e.m.Setup(ctx, u)
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	q, _ := url.Parse(en.URL)
	if q.Query().Get("secret") != en.Secret {
		t.Fatalf("URL secret %q != Secret %q", q.Query().Get("secret"), en.Secret)
	}
	user := enrolled{secret: en.Secret, backup: slices.Clone(en.BackupCodes), params: paramsOf(t, en.URL)}
	if err := e.m.Confirm(ctx, u, user.code(t, e.clock.Now())); err != nil {
		t.Fatalf("Confirm: %v", err)
	}
	e.clock.Advance(30 * time.Second)
	return user
}

// wantAuthError fails unless err is an *auth.Error with code whose cause
// matches cause (when non-nil).
func wantAuthError(t *testing.T, err error, code auth.Code, cause error) *auth.Error {
	t.Helper()
	var ae *auth.Error
	if !errors.As(err, &ae) || ae.Code != code {
		t.Fatalf("err = %v, want an *auth.Error with code %s", err, code)
	}
	if cause != nil && !errors.Is(err, cause) {
		t.Fatalf("err = %v, want cause %v", err, cause)
	}
	return ae
}

var base32Enc = base32.StdEncoding.WithPadding(base32.NoPadding)
