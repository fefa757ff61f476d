package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/ratelimit"
	"github.com/gatehouse-auth/gatehouse/ratelimit/ratelimittest"
)

// newClock returns a manual clock stopped at 2030-01-02T03:04:05Z.
func newClock() *ratelimittest.Clock {
	return ratelimittest.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
}

func TestMemoryAttemptStoreConformance(t *testing.T) {
	ratelimittest.RunAttemptStore(t, func(t *testing.T) ratelimit.AttemptStore {
		s, err := ratelimit.NewMemoryAttemptStore(ratelimit.MemoryAttemptStoreConfig{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestMemoryAttemptStoreSmallCapConformance(t *testing.T) {
	// A cap just large enough for the suite's keys: eviction must not
	// change any decision while the store is below its cap.
	ratelimittest.RunAttemptStore(t, func(t *testing.T) ratelimit.AttemptStore {
		s, err := ratelimit.NewMemoryAttemptStore(ratelimit.MemoryAttemptStoreConfig{MaxKeys: 1024})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestAttemptsLimiterDefaults(t *testing.T) {
	c := newClock()
	l, err := ratelimit.NewAttemptsLimiter(ratelimit.AttemptsConfig{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	p := l.Policy()
	if p.Window != 15*time.Minute || p.MaxFailures != 5 || p.LockoutDuration != 15*time.Minute ||
		fmt.Sprint(p.Delays) != "[1s 2s 5s 10s 30s]" {
		t.Fatalf("defaults: %+v", p)
	}
	ctx := context.Background()
	// Walk the default schedule: each failure waits the next delay.
	for i, wait := range []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second} {
		d, err := l.Attempt(ctx, "alice")
		if err != nil || !d.Allowed || d.Failures != i+1 {
			t.Fatalf("failure %d: %+v, %v", i+1, d, err)
		}
		d, _ = l.Attempt(ctx, "alice")
		if d.Allowed || d.Locked || d.RetryAfter != wait {
			t.Fatalf("immediately after failure %d: %+v, want delay %v", i+1, d, wait)
		}
		c.Advance(wait)
	}
	d, _ := l.Attempt(ctx, "alice")
	if !d.Allowed || !d.LocksOnFailure || d.Failures != 5 {
		t.Fatalf("fifth attempt: %+v", d)
	}
	c.Advance(time.Minute)
	d, _ = l.Attempt(ctx, "alice")
	if d.Allowed || !d.Locked || d.RetryAfter != 14*time.Minute {
		t.Fatalf("locked attempt: %+v", d)
	}
	if err := l.Reset(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	d, _ = l.Status(ctx, "alice")
	if d != (ratelimit.AttemptDecision{Allowed: true}) {
		t.Fatalf("status after administrator reset: %+v", d)
	}
}

func TestAttemptsLimiterSuccessResets(t *testing.T) {
	c := newClock()
	l, err := ratelimit.NewAttemptsLimiter(ratelimit.AttemptsConfig{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 3 {
		if d, _ := l.Attempt(ctx, "bob"); !d.Allowed {
			t.Fatalf("denied: %+v", d)
		}
		c.Advance(time.Minute)
	}
	d, _ := l.Attempt(ctx, "bob")
	if err := l.Success(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if !d.Allowed || d.Failures != 4 {
		t.Fatalf("fourth attempt: %+v", d)
	}
	// Right after success there is no delay.
	if d, _ := l.Attempt(ctx, "bob"); !d.Allowed || d.Failures != 1 {
		t.Fatalf("attempt after success: %+v", d)
	}
}

func TestAttemptsLimiterConcurrentFreshKey(t *testing.T) {
	c := newClock()
	l, err := ratelimit.NewAttemptsLimiter(ratelimit.AttemptsConfig{Now: c.Now, Delays: []time.Duration{0}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 100 {
		wg.Go(func() {
			d, err := l.Attempt(context.Background(), "carol")
			if err != nil {
				t.Error(err)
				return
			}
			if d.Allowed {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 5 {
		t.Fatalf("100 concurrent attempts: %d allowed, want exactly 5", allowed)
	}
}

func TestAttemptsConfigInvalid(t *testing.T) {
	for name, cfg := range map[string]ratelimit.AttemptsConfig{
		"negative window":                     {Window: -time.Second},
		"negative lockout":                    {LockoutDuration: -time.Second},
		"negative delay":                      {Delays: []time.Duration{time.Second, -time.Second}},
		"delay longer than window":            {Window: time.Minute, Delays: []time.Duration{2 * time.Minute}},
		"default delays beyond a tiny window": {Window: 10 * time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ratelimit.NewAttemptsLimiter(cfg); !errors.Is(err, ratelimit.ErrInvalidConfig) {
				t.Fatalf("err = %v, want ErrInvalidConfig", err)
			}
		})
	}
	if _, err := ratelimit.NewMemoryAttemptStore(ratelimit.MemoryAttemptStoreConfig{MaxKeys: -1}); !errors.Is(err, ratelimit.ErrInvalidConfig) {
		t.Fatalf("negative MaxKeys: %v", err)
	}
}

func TestAttemptsLimiterNegativeMaxFailuresNeverLocks(t *testing.T) {
	c := newClock()
	l, err := ratelimit.NewAttemptsLimiter(ratelimit.AttemptsConfig{Now: c.Now, MaxFailures: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		d, _ := l.Attempt(context.Background(), "dave")
		if !d.Allowed || d.Locked || d.LocksOnFailure {
			t.Fatalf("attempt %d: %+v", i, d)
		}
		c.Advance(30 * time.Second)
	}
}

// failingStore is an AttemptStore whose every call fails.
type failingStore struct{ err error }

func (f failingStore) Attempt(context.Context, string, time.Time, ratelimit.AttemptPolicy) (ratelimit.AttemptDecision, error) {
	return ratelimit.AttemptDecision{Allowed: true}, f.err
}
func (f failingStore) Status(context.Context, string, time.Time, ratelimit.AttemptPolicy) (ratelimit.AttemptDecision, error) {
	return ratelimit.AttemptDecision{Allowed: true}, f.err
}
func (f failingStore) Reset(context.Context, string) error { return f.err }

func TestAttemptsLimiterStoreFailureDenies(t *testing.T) {
	down := errors.New("store down")
	l, err := ratelimit.NewAttemptsLimiter(ratelimit.AttemptsConfig{Store: failingStore{down}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := l.Attempt(ctx, "erin")
	if !errors.Is(err, down) || d.Allowed {
		t.Fatalf("Attempt on a failing store: %+v, %v", d, err)
	}
	if d, err := l.Status(ctx, "erin"); !errors.Is(err, down) || d.Allowed {
		t.Fatalf("Status on a failing store: %+v, %v", d, err)
	}
	if err := l.Success(ctx, "erin"); !errors.Is(err, down) {
		t.Fatalf("Success on a failing store: %v", err)
	}
}

func TestMemoryAttemptStoreCap(t *testing.T) {
	s, err := ratelimit.NewMemoryAttemptStore(ratelimit.MemoryAttemptStoreConfig{MaxKeys: 1000})
	if err != nil {
		t.Fatal(err)
	}
	p := ratelimit.AttemptPolicy{Window: time.Hour, Delays: []time.Duration{0}, MaxFailures: 5, LockoutDuration: time.Hour}
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	// Lock the victim, then flood with fresh keys whose records expire
	// after the lock does.
	for range 5 {
		if _, err := s.Attempt(ctx, "victim", now, p); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10_000 {
		if _, err := s.Attempt(ctx, fmt.Sprintf("flood-%d", i), now.Add(time.Second), p); err != nil {
			t.Fatal(err)
		}
		if n := s.Len(); n > 1000 {
			t.Fatalf("after %d keys the store holds %d, cap 1000", i+1, n)
		}
	}
	d, err := s.Status(ctx, "victim", now.Add(2*time.Second), p)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Locked {
		t.Fatalf("a flood of single-failure keys evicted a running lock: %+v", d)
	}
}
