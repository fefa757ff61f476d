// Package ratelimittest provides conformance suites for implementations of
// the ratelimit storage interfaces, for adapters (PostgreSQL, Redis, ...) to
// run in their own tests.
package ratelimittest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/ratelimit"
)

// base is the suite's clock origin. Every time the suite passes is base plus a
// whole number of milliseconds, so stores that keep times at millisecond or
// microsecond precision pass unchanged.
var base = time.Date(2031, 3, 14, 15, 9, 26, 0, time.UTC)

func at(ms int64) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }

// RunAttemptStore checks that stores made by newStore behave as
// [ratelimit.AttemptStore] requires. newStore is called once per subtest and
// must return a store with no records (for a shared engine: a fresh
// namespace or key prefix). The suite controls time: it passes every "now"
// explicitly, so stores must use the time they are given, never their own
// clock. It runs concurrent cases; run it with -race.
func RunAttemptStore(t *testing.T, newStore func(t *testing.T) ratelimit.AttemptStore) {
	t.Helper()
	ctx := context.Background()
	sched := ratelimit.AttemptPolicy{
		Window:          10 * time.Minute,
		Delays:          []time.Duration{time.Second, 2 * time.Second, 5 * time.Second},
		MaxFailures:     5,
		LockoutDuration: 15 * time.Minute,
	}
	noDelay := ratelimit.AttemptPolicy{
		Window:          10 * time.Minute,
		Delays:          []time.Duration{0},
		MaxFailures:     5,
		LockoutDuration: 15 * time.Minute,
	}

	t.Run("fresh key is allowed and counted", func(t *testing.T) {
		s := newStore(t)
		st := status(t, s, "alice", at(0), sched)
		want(t, "status of unknown key", st, ratelimit.AttemptDecision{Allowed: true})
		d := attempt(t, s, "alice", at(0), sched)
		want(t, "first attempt", d, ratelimit.AttemptDecision{Allowed: true, Failures: 1})
		st = status(t, s, "alice", at(0), sched)
		want(t, "status after first attempt", st, ratelimit.AttemptDecision{Failures: 1, RetryAfter: time.Second})
	})

	t.Run("status does not count", func(t *testing.T) {
		s := newStore(t)
		for range 10 {
			status(t, s, "bob", at(0), noDelay)
		}
		d := attempt(t, s, "bob", at(0), noDelay)
		want(t, "attempt after statuses", d, ratelimit.AttemptDecision{Allowed: true, Failures: 1})
	})

	t.Run("progressive delays and denied attempts not counted", func(t *testing.T) {
		s := newStore(t)
		steps := []struct {
			ms   int64
			want ratelimit.AttemptDecision
		}{
			{0, ratelimit.AttemptDecision{Allowed: true, Failures: 1}},
			{1, ratelimit.AttemptDecision{Failures: 1, RetryAfter: 999 * time.Millisecond}},
			{999, ratelimit.AttemptDecision{Failures: 1, RetryAfter: time.Millisecond}},
			{1000, ratelimit.AttemptDecision{Allowed: true, Failures: 2}},
			{2999, ratelimit.AttemptDecision{Failures: 2, RetryAfter: time.Millisecond}},
			{3000, ratelimit.AttemptDecision{Allowed: true, Failures: 3}},
			{3000, ratelimit.AttemptDecision{Failures: 3, RetryAfter: 5 * time.Second}},
			{8000, ratelimit.AttemptDecision{Allowed: true, Failures: 4}},
			// The schedule's last entry repeats.
			{12_999, ratelimit.AttemptDecision{Failures: 4, RetryAfter: time.Millisecond}},
			{13_000, ratelimit.AttemptDecision{Allowed: true, Failures: 5, LocksOnFailure: true}},
			{13_000, ratelimit.AttemptDecision{Locked: true, Failures: 5, RetryAfter: 15 * time.Minute}},
		}
		for i, st := range steps {
			d := attempt(t, s, "carol", at(st.ms), sched)
			want(t, fmt.Sprintf("step %d at +%dms", i, st.ms), d, st.want)
		}
	})

	t.Run("lock holds for its duration then clears the record", func(t *testing.T) {
		s := newStore(t)
		for i := range 5 {
			attempt(t, s, "dave", at(int64(i)), noDelay)
		}
		lockEnd := int64(4 + 15*60*1000)
		d := attempt(t, s, "dave", at(60_000), noDelay)
		want(t, "attempt during lock", d, ratelimit.AttemptDecision{Locked: true, Failures: 5, RetryAfter: time.Duration(lockEnd-60_000) * time.Millisecond})
		// The failures leave the 10-minute window before the lock ends:
		// the lock alone keeps the key out.
		d = attempt(t, s, "dave", at(lockEnd-1), noDelay)
		want(t, "attempt at the lock's last millisecond", d, ratelimit.AttemptDecision{Locked: true, RetryAfter: time.Millisecond})
		st := status(t, s, "dave", at(lockEnd-1), noDelay)
		want(t, "status during lock", st, ratelimit.AttemptDecision{Locked: true, RetryAfter: time.Millisecond})
		d = attempt(t, s, "dave", at(lockEnd), noDelay)
		want(t, "attempt when the lock ends", d, ratelimit.AttemptDecision{Allowed: true, Failures: 1})
	})

	t.Run("lock ending inside the window still clears the failures", func(t *testing.T) {
		s := newStore(t)
		p := noDelay
		p.LockoutDuration = time.Minute
		for range 5 {
			attempt(t, s, "erin", at(0), p)
		}
		d := attempt(t, s, "erin", at(60_000), p)
		want(t, "attempt after a short lock", d, ratelimit.AttemptDecision{Allowed: true, Failures: 1})
	})

	t.Run("window slides per failure", func(t *testing.T) {
		s := newStore(t)
		p := noDelay
		p.MaxFailures = 0
		p.Delays = []time.Duration{0, 0, 0, 0}
		attempt(t, s, "frank", at(0), p)
		attempt(t, s, "frank", at(1000), p)
		attempt(t, s, "frank", at(2000), p)
		win := p.Window.Milliseconds()
		want(t, "just before the first expires", status(t, s, "frank", at(win-1), p),
			ratelimit.AttemptDecision{Allowed: true, Failures: 3})
		want(t, "the first expired", status(t, s, "frank", at(win), p),
			ratelimit.AttemptDecision{Allowed: true, Failures: 2})
		want(t, "the second expired", status(t, s, "frank", at(win+1000), p),
			ratelimit.AttemptDecision{Allowed: true, Failures: 1})
		want(t, "all expired", attempt(t, s, "frank", at(win+2000), p),
			ratelimit.AttemptDecision{Allowed: true, Failures: 1})
	})

	t.Run("delay counts from the latest failure still in the window", func(t *testing.T) {
		s := newStore(t)
		p := sched
		p.Window = 4 * time.Second
		p.Delays = []time.Duration{time.Second, 4 * time.Second}
		p.MaxFailures = 0
		attempt(t, s, "gina", at(0), p)
		attempt(t, s, "gina", at(1000), p) // second failure: next waits 4s
		want(t, "inside the second delay", attempt(t, s, "gina", at(3999), p),
			ratelimit.AttemptDecision{Failures: 2, RetryAfter: 1001 * time.Millisecond})
		// The first failure left the window at 4000: one failure, delay 1s.
		want(t, "delay shrank as the window slid", attempt(t, s, "gina", at(4000), p),
			ratelimit.AttemptDecision{Allowed: true, Failures: 2})
	})

	t.Run("locking disabled saturates the count", func(t *testing.T) {
		s := newStore(t)
		p := noDelay
		p.MaxFailures = 0
		p.Delays = []time.Duration{0, 0, 0}
		var d ratelimit.AttemptDecision
		for i := range 20 {
			d = attempt(t, s, "hank", at(int64(i)), p)
			if !d.Allowed || d.Locked || d.LocksOnFailure {
				t.Fatalf("attempt %d with locking disabled: %+v", i, d)
			}
		}
		want(t, "after 20 attempts", d, ratelimit.AttemptDecision{Allowed: true, Failures: p.MaxTracked()})
	})

	t.Run("reset clears failures and lock", func(t *testing.T) {
		s := newStore(t)
		for range 5 {
			attempt(t, s, "ivan", at(0), noDelay)
		}
		if d := attempt(t, s, "ivan", at(0), noDelay); !d.Locked {
			t.Fatalf("not locked after 5 failures: %+v", d)
		}
		if err := s.Reset(ctx, "ivan"); err != nil {
			t.Fatalf("Reset: %v", err)
		}
		want(t, "attempt after reset", attempt(t, s, "ivan", at(0), noDelay),
			ratelimit.AttemptDecision{Allowed: true, Failures: 1})
		if err := s.Reset(ctx, "never-seen"); err != nil {
			t.Fatalf("Reset of unknown key: %v", err)
		}
		if err := s.Reset(ctx, "never-seen"); err != nil {
			t.Fatalf("second Reset of unknown key: %v", err)
		}
	})

	t.Run("keys are independent and exact", func(t *testing.T) {
		s := newStore(t)
		for range 5 {
			attempt(t, s, "judy", at(0), noDelay)
		}
		for _, k := range []string{"Judy", "judy ", "judy\x00", "", "jüdy", "user:judy"} {
			want(t, fmt.Sprintf("neighbour key %q", k), status(t, s, k, at(0), noDelay),
				ratelimit.AttemptDecision{Allowed: true})
		}
		if d := status(t, s, "judy", at(0), noDelay); !d.Locked {
			t.Fatalf("judy not locked: %+v", d)
		}
	})

	t.Run("100 concurrent attempts allow exactly MaxFailures", func(t *testing.T) {
		s := newStore(t)
		const n = 100
		var wg sync.WaitGroup
		decs := make([]ratelimit.AttemptDecision, n)
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				decs[i], errs[i] = s.Attempt(ctx, "kate", at(0), noDelay)
			})
		}
		close(start)
		wg.Wait()
		allowed, locks := 0, 0
		seen := map[int]bool{}
		for i, d := range decs {
			if errs[i] != nil {
				t.Fatalf("attempt %d: %v", i, errs[i])
			}
			switch {
			case d.Allowed:
				allowed++
				if seen[d.Failures] {
					t.Errorf("two allowed attempts both counted as failure %d", d.Failures)
				}
				seen[d.Failures] = true
				if d.LocksOnFailure {
					locks++
				}
			case !d.Locked:
				t.Errorf("attempt %d denied without a lock: %+v", i, d)
			}
		}
		if allowed != noDelay.MaxFailures {
			t.Fatalf("%d concurrent attempts: %d allowed, want exactly %d", n, allowed, noDelay.MaxFailures)
		}
		if locks != 1 {
			t.Fatalf("%d allowed attempts reported LocksOnFailure, want 1", locks)
		}
	})

	t.Run("concurrent attempts with delays allow exactly one", func(t *testing.T) {
		s := newStore(t)
		const n = 50
		var wg sync.WaitGroup
		var mu sync.Mutex
		allowed := 0
		for range n {
			wg.Go(func() {
				d, err := s.Attempt(ctx, "leo", at(0), sched)
				if err != nil {
					t.Errorf("Attempt: %v", err)
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
		if allowed != 1 {
			t.Fatalf("%d concurrent attempts inside a 1s delay: %d allowed, want 1", n, allowed)
		}
	})

	t.Run("concurrent attempts on many keys", func(t *testing.T) {
		s := newStore(t)
		const keys, per = 20, 10
		var wg sync.WaitGroup
		var mu sync.Mutex
		allowed := map[string]int{}
		for k := range keys {
			for range per {
				wg.Go(func() {
					key := fmt.Sprintf("key-%d", k)
					d, err := s.Attempt(ctx, key, at(0), noDelay)
					if err != nil {
						t.Errorf("Attempt: %v", err)
						return
					}
					if d.Allowed {
						mu.Lock()
						allowed[key]++
						mu.Unlock()
					}
				})
			}
		}
		wg.Wait()
		for k := range keys {
			key := fmt.Sprintf("key-%d", k)
			if allowed[key] != noDelay.MaxFailures {
				t.Errorf("%s: %d allowed, want %d", key, allowed[key], noDelay.MaxFailures)
			}
		}
	})

	t.Run("agrees with AttemptPolicy.Apply on a random trace", func(t *testing.T) {
		s := newStore(t)
		p := ratelimit.AttemptPolicy{
			Window:          20 * time.Second,
			Delays:          []time.Duration{0, 500 * time.Millisecond, 2 * time.Second},
			MaxFailures:     4,
			LockoutDuration: 7 * time.Second,
		}
		rng := rand.New(rand.NewPCG(1, 2))
		recs := map[string]ratelimit.AttemptRecord{}
		keys := []string{"a", "b", "c"}
		var ms int64
		for i := range 600 {
			ms += rng.Int64N(1500)
			key := keys[rng.IntN(len(keys))]
			now := at(ms)
			var got, exp ratelimit.AttemptDecision
			switch op := rng.IntN(10); {
			case op < 7:
				got = attempt(t, s, key, now, p)
				recs[key], exp = p.Apply(recs[key], now, true)
			case op < 9:
				got = status(t, s, key, now, p)
				recs[key], exp = p.Apply(recs[key], now, false)
			default:
				if err := s.Reset(ctx, key); err != nil {
					t.Fatalf("Reset: %v", err)
				}
				delete(recs, key)
				continue
			}
			want(t, fmt.Sprintf("step %d, key %q at +%dms", i, key, ms), got, exp)
		}
	})

	t.Run("done context is an error", func(t *testing.T) {
		s := newStore(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Attempt(cctx, "mia", at(0), sched); !errors.Is(err, context.Canceled) {
			t.Errorf("Attempt with canceled context: %v, want context.Canceled", err)
		}
		if _, err := s.Status(cctx, "mia", at(0), sched); !errors.Is(err, context.Canceled) {
			t.Errorf("Status with canceled context: %v, want context.Canceled", err)
		}
		if err := s.Reset(cctx, "mia"); !errors.Is(err, context.Canceled) {
			t.Errorf("Reset with canceled context: %v, want context.Canceled", err)
		}
		want(t, "attempt after canceled calls", attempt(t, s, "mia", at(0), sched),
			ratelimit.AttemptDecision{Allowed: true, Failures: 1})
	})
}

func attempt(t *testing.T, s ratelimit.AttemptStore, key string, now time.Time, p ratelimit.AttemptPolicy) ratelimit.AttemptDecision {
	t.Helper()
	d, err := s.Attempt(context.Background(), key, now, p)
	if err != nil {
		t.Fatalf("Attempt(%q): %v", key, err)
	}
	return d
}

func status(t *testing.T, s ratelimit.AttemptStore, key string, now time.Time, p ratelimit.AttemptPolicy) ratelimit.AttemptDecision {
	t.Helper()
	d, err := s.Status(context.Background(), key, now, p)
	if err != nil {
		t.Fatalf("Status(%q): %v", key, err)
	}
	return d
}

func want(t *testing.T, what string, got, exp ratelimit.AttemptDecision) {
	t.Helper()
	if got != exp {
		t.Fatalf("%s: got %+v, want %+v", what, got, exp)
	}
}
