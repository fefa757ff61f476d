package basic_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/basic"
	"github.com/gatehouse-auth/gatehouse/internal/testclock"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
)

// clock is the tests' settable clock.
type clock = testclock.Clock

func newClock() *clock { return testclock.New(time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)) }

// cheapConfig returns hash parameters for tests: fast, and still exercising
// every algorithm.
func cheapConfig(alg basic.Algorithm) basic.HasherConfig {
	return basic.HasherConfig{
		Algorithm:       alg,
		Argon2id:        basic.Argon2idParams{Memory: 64, Iterations: 1},
		Bcrypt:          basic.BcryptParams{Cost: 4},
		Scrypt:          basic.ScryptParams{LogN: 4, R: 8, P: 1},
		MaxConcurrent:   64,
		InsecureLowCost: true,
	}
}

func cheapHasher(t testing.TB, alg basic.Algorithm) *basic.PasswordHasher {
	t.Helper()
	h, err := basic.NewHasher(cheapConfig(alg))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// countingHasher counts the hash computations of the hasher it wraps.
type countingHasher struct {
	basic.Hasher
	hashes   atomic.Int64
	verifies atomic.Int64
}

func (c *countingHasher) Hash(ctx context.Context, password string) (string, error) {
	c.hashes.Add(1)
	return c.Hasher.Hash(ctx, password)
}

func (c *countingHasher) Verify(ctx context.Context, password, encoded string) error {
	c.verifies.Add(1)
	return c.Hasher.Verify(ctx, password, encoded)
}

func (c *countingHasher) reset() {
	c.hashes.Store(0)
	c.verifies.Store(0)
}

// recorder collects events.
type recorder struct {
	mu     sync.Mutex // guards events
	events []auth.Event
}

func (r *recorder) Emit(e auth.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) count(t auth.EventType) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Type == t {
			n++
		}
	}
	return n
}

func (r *recorder) last(t auth.EventType) (auth.Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.events) - 1; i >= 0; i-- {
		if r.events[i].Type == t {
			return r.events[i], true
		}
	}
	return auth.Event{}, false
}

// env is a Users wired for tests: cheap Argon2id, a counting hasher, a
// manual clock, lockout without progressive delays, recorded events.
type env struct {
	users  *basic.Users
	hasher *countingHasher
	clock  *clock
	events *recorder
	store  *basic.MemoryStore
}

func newEnv(t testing.TB, mod func(cfg *basic.Config)) *env {
	t.Helper()
	e := &env{
		hasher: &countingHasher{Hasher: cheapHasher(t, basic.Argon2id)},
		clock:  newClock(),
		events: &recorder{},
		store:  basic.NewMemoryStore(),
	}
	lock, err := ratelimit.NewAttemptsLimiter(ratelimit.AttemptsConfig{
		Delays: []time.Duration{0}, // no progressive delays: lock only
		Now:    e.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := basic.Config{
		Store:   e.store,
		Hasher:  e.hasher,
		Lockout: lock,
		Events:  e.events,
		Now:     e.clock.Now,
	}
	if mod != nil {
		mod(&cfg)
	}
	u, err := basic.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.users = u
	e.hasher.reset()
	return e
}

const (
	goodPassword  = "amber falcon quarry 58"
	otherPassword = "tangerine-orbit-violin-42"
)

func (e *env) create(t testing.TB, username, email string) *basic.User {
	t.Helper()
	u, err := e.users.Create(context.Background(), basic.NewUser{
		Username: username, Email: email, Password: goodPassword, Roles: []string{"operator"},
	})
	if err != nil {
		t.Fatalf("Create(%s): %v", username, err)
	}
	e.hasher.reset()
	return u
}

// code returns the auth code of err, or "" when err is not an *auth.Error.
func code(err error) auth.Code {
	var ae *auth.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}
