package ratelimittest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/ratelimit"
)

// Clock is a manual clock the suites drive. It is safe for concurrent use.
type Clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// RunLimiter checks that limiters made by newLimiter behave as a
// [ratelimit.Limiter] with the GCRA semantics of [ratelimit.MemoryLimiter]:
// each key may make Limit requests per Period, Burst at once, refilling one
// request every Period/Limit, with the Decision fields that implies.
//
// newLimiter is called once per subtest with the Limit, Period and Burst to
// apply and a Now clock the suite controls; the limiter must read time only
// from it (a Redis adapter passes it to its script rather than using the
// server's TIME) and start with no keys. Times are whole milliseconds from a
// fixed origin. MaxKeys is left zero.
func RunLimiter(t *testing.T, newLimiter func(t *testing.T, cfg ratelimit.MemoryConfig) ratelimit.Limiter) {
	t.Helper()
	ctx := context.Background()
	newL := func(t *testing.T, limit int, period time.Duration, burst int) (ratelimit.Limiter, *Clock) {
		c := NewClock(base)
		return newLimiter(t, ratelimit.MemoryConfig{Limit: limit, Period: period, Burst: burst, Now: c.Now}), c
	}
	allowN := func(t *testing.T, l ratelimit.Limiter, key string, n int) ratelimit.Decision {
		t.Helper()
		d, err := l.AllowN(ctx, key, n)
		if err != nil {
			t.Fatalf("AllowN(%q, %d): %v", key, n, err)
		}
		return d
	}
	check := func(t *testing.T, what string, got ratelimit.Decision, want ratelimit.Decision) {
		t.Helper()
		if got.Allowed != want.Allowed || got.Limit != want.Limit || got.Remaining != want.Remaining ||
			!got.ResetAt.Equal(want.ResetAt) || got.RetryAfter != want.RetryAfter {
			t.Fatalf("%s: got %+v, want %+v", what, got, want)
		}
	}

	t.Run("burst then refill", func(t *testing.T) {
		l, c := newL(t, 10, time.Second, 0)
		for i := range 10 {
			d, err := l.Allow(ctx, "k")
			if err != nil {
				t.Fatal(err)
			}
			check(t, fmt.Sprintf("request %d", i+1), d, ratelimit.Decision{
				Allowed: true, Limit: 10, Remaining: 9 - i, ResetAt: at(int64(100 * (i + 1))),
			})
		}
		check(t, "over the burst", allowN(t, l, "k", 1), ratelimit.Decision{
			Limit: 10, ResetAt: at(1000), RetryAfter: 100 * time.Millisecond,
		})
		c.Advance(250 * time.Millisecond)
		check(t, "two refilled", allowN(t, l, "k", 1), ratelimit.Decision{
			Allowed: true, Limit: 10, Remaining: 1, ResetAt: at(1100),
		})
		c.Advance(10 * time.Second)
		check(t, "full after idling", allowN(t, l, "k", 0), ratelimit.Decision{
			Allowed: true, Limit: 10, Remaining: 10, ResetAt: at(10_250),
		})
	})

	t.Run("burst smaller than limit", func(t *testing.T) {
		l, c := newL(t, 60, time.Minute, 3)
		for range 3 {
			if d := allowN(t, l, "k", 1); !d.Allowed || d.Limit != 3 {
				t.Fatalf("burst request: %+v", d)
			}
		}
		check(t, "fourth", allowN(t, l, "k", 1), ratelimit.Decision{Limit: 3, ResetAt: at(3000), RetryAfter: time.Second})
		c.Advance(time.Second)
		check(t, "after one interval", allowN(t, l, "k", 1), ratelimit.Decision{Allowed: true, Limit: 3, ResetAt: at(4000)})
	})

	t.Run("denied requests consume nothing", func(t *testing.T) {
		l, c := newL(t, 1, time.Second, 0)
		allowN(t, l, "k", 1)
		for range 20 {
			c.Advance(10 * time.Millisecond)
			if d := allowN(t, l, "k", 1); d.Allowed {
				t.Fatalf("allowed inside the interval: %+v", d)
			}
		}
		c.Advance(800 * time.Millisecond)
		if d := allowN(t, l, "k", 1); !d.Allowed {
			t.Fatalf("denied after the interval: %+v", d)
		}
	})

	t.Run("AllowN is all or nothing", func(t *testing.T) {
		l, _ := newL(t, 10, time.Second, 0)
		check(t, "7 of 10", allowN(t, l, "k", 7), ratelimit.Decision{Allowed: true, Limit: 10, Remaining: 3, ResetAt: at(700)})
		check(t, "4 with 3 left", allowN(t, l, "k", 4), ratelimit.Decision{Limit: 10, Remaining: 3, ResetAt: at(700), RetryAfter: 100 * time.Millisecond})
		check(t, "3 with 3 left", allowN(t, l, "k", 3), ratelimit.Decision{Allowed: true, Limit: 10, ResetAt: at(1000)})
		if d := allowN(t, l, "other", 11); d.Allowed {
			t.Fatalf("more than the burst allowed: %+v", d)
		}
		if d := allowN(t, l, "other", 10); !d.Allowed {
			t.Fatalf("a refused AllowN consumed: %+v", d)
		}
	})

	t.Run("keys are independent and exact", func(t *testing.T) {
		l, _ := newL(t, 1, time.Hour, 0)
		allowN(t, l, "ip:10.0.0.1", 1)
		for _, k := range []string{"ip:10.0.0.2", "ip:10.0.0.1 ", "", "IP:10.0.0.1", "ip:10.0.0.10"} {
			if d := allowN(t, l, k, 1); !d.Allowed {
				t.Fatalf("key %q limited by another: %+v", k, d)
			}
		}
		if d := allowN(t, l, "ip:10.0.0.1", 1); d.Allowed {
			t.Fatalf("exhausted key allowed: %+v", d)
		}
	})

	t.Run("concurrent requests get exactly the burst", func(t *testing.T) {
		l, _ := newL(t, 10, time.Hour, 0)
		var wg sync.WaitGroup
		var mu sync.Mutex
		allowed := 0
		for range 100 {
			wg.Go(func() {
				d, err := l.Allow(ctx, "hot")
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
		if allowed != 10 {
			t.Fatalf("100 concurrent requests with burst 10: %d allowed", allowed)
		}
	})
}
