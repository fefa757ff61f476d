package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/ratelimit"
	"github.com/gatehouse-auth/gatehouse/ratelimit/ratelimittest"
)

func newMemory(t *testing.T, cfg ratelimit.MemoryConfig) *ratelimit.MemoryLimiter {
	t.Helper()
	l, err := ratelimit.NewMemoryLimiter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func allow(t *testing.T, l ratelimit.Limiter, key string) ratelimit.Decision {
	t.Helper()
	d, err := l.Allow(context.Background(), key)
	if err != nil {
		t.Fatalf("Allow(%q): %v", key, err)
	}
	return d
}

func TestMemoryBurstThenSteadyRefill(t *testing.T) {
	c := newClock()
	l := newMemory(t, ratelimit.MemoryConfig{Limit: 10, Period: time.Second, Now: c.Now})
	start := c.Now()
	for i := range 10 {
		d := allow(t, l, "1.2.3.4")
		wantReset := start.Add(time.Duration(i+1) * 100 * time.Millisecond)
		if !d.Allowed || d.Limit != 10 || d.Remaining != 9-i || !d.ResetAt.Equal(wantReset) || d.RetryAfter != 0 {
			t.Fatalf("burst request %d: %+v, want remaining %d reset %v", i+1, d, 9-i, wantReset)
		}
	}
	d := allow(t, l, "1.2.3.4")
	if d.Allowed || d.Remaining != 0 || d.RetryAfter != 100*time.Millisecond || !d.ResetAt.Equal(start.Add(time.Second)) {
		t.Fatalf("request over the burst: %+v", d)
	}
	c.Advance(99 * time.Millisecond)
	if d := allow(t, l, "1.2.3.4"); d.Allowed || d.RetryAfter != time.Millisecond {
		t.Fatalf("1ms before refill: %+v", d)
	}
	c.Advance(time.Millisecond)
	if d := allow(t, l, "1.2.3.4"); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("after one interval: %+v", d)
	}
	// Denied requests consume nothing: after 1s idle the full burst is back.
	for range 5 {
		allow(t, l, "1.2.3.4")
	}
	c.Advance(time.Second)
	if d := allow(t, l, "1.2.3.4"); !d.Allowed || d.Remaining != 9 {
		t.Fatalf("after a full period idle: %+v", d)
	}
}

func TestMemoryBurstSmallerThanLimit(t *testing.T) {
	c := newClock()
	l := newMemory(t, ratelimit.MemoryConfig{Limit: 60, Burst: 3, Now: c.Now})
	for i := range 3 {
		if d := allow(t, l, "k"); !d.Allowed || d.Limit != 3 {
			t.Fatalf("request %d: %+v", i, d)
		}
	}
	if d := allow(t, l, "k"); d.Allowed || d.RetryAfter != time.Second {
		t.Fatalf("fourth request: %+v, want retry after 1s (60/min)", d)
	}
	c.Advance(time.Second)
	if d := allow(t, l, "k"); !d.Allowed {
		t.Fatalf("after 1s: %+v", d)
	}
}

func TestMemoryAllowN(t *testing.T) {
	c := newClock()
	l := newMemory(t, ratelimit.MemoryConfig{Limit: 10, Period: time.Second, Now: c.Now})
	ctx := context.Background()
	d, _ := l.AllowN(ctx, "k", 0)
	if !d.Allowed || d.Remaining != 10 {
		t.Fatalf("AllowN 0 on a fresh key: %+v", d)
	}
	if d, _ := l.AllowN(ctx, "k", 7); !d.Allowed || d.Remaining != 3 {
		t.Fatalf("AllowN 7: %+v", d)
	}
	// All or nothing: 4 do not fit in the 3 left, and none is consumed.
	if d, _ := l.AllowN(ctx, "k", 4); d.Allowed || d.RetryAfter != 100*time.Millisecond || d.Remaining != 3 {
		t.Fatalf("AllowN 4 with 3 left: %+v", d)
	}
	if d, _ := l.AllowN(ctx, "k", 3); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("AllowN 3 with 3 left: %+v", d)
	}
	if d, _ := l.AllowN(ctx, "k", 0); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("AllowN 0 reports without consuming: %+v", d)
	}
	for name, n := range map[string]int{"more than the burst": 11, "huge n": 1 << 62} {
		d, _ := l.AllowN(ctx, "other", n)
		if d.Allowed || d.RetryAfter < 0 {
			t.Fatalf("AllowN %s: %+v", name, d)
		}
	}
	if d, _ := l.AllowN(ctx, "other", 10); !d.Allowed {
		t.Fatalf("refused AllowN consumed tokens: %+v", d)
	}
	if d, _ := l.AllowN(ctx, "neg", -5); !d.Allowed || d.Remaining != 10 {
		t.Fatalf("negative n treated as 0: %+v", d)
	}
}

func TestMemoryKeysIndependent(t *testing.T) {
	c := newClock()
	l := newMemory(t, ratelimit.MemoryConfig{Limit: 1, Now: c.Now})
	allow(t, l, "10.0.0.1")
	for _, k := range []string{"10.0.0.2", "10.0.0.1 ", "", "10.0.0.10", "user:10.0.0.1"} {
		if d := allow(t, l, k); !d.Allowed {
			t.Fatalf("key %q limited by another key: %+v", k, d)
		}
	}
	if d := allow(t, l, "10.0.0.1"); d.Allowed {
		t.Fatalf("exhausted key allowed: %+v", d)
	}
}

func TestMemoryClockGoingBack(t *testing.T) {
	c := newClock()
	l := newMemory(t, ratelimit.MemoryConfig{Limit: 2, Period: time.Second, Now: c.Now})
	allow(t, l, "k")
	allow(t, l, "k")
	c.Advance(-time.Hour)
	if d := allow(t, l, "k"); d.Allowed || d.RetryAfter <= 0 {
		t.Fatalf("clock set back must not hand out a new burst: %+v", d)
	}
	if d := allow(t, l, "fresh"); !d.Allowed {
		t.Fatalf("fresh key before the limiter's epoch: %+v", d)
	}
}

func TestMemoryConcurrentExactBurst(t *testing.T) {
	c := newClock()
	l := newMemory(t, ratelimit.MemoryConfig{Limit: 10, Period: time.Hour, Now: c.Now})
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 100 {
		wg.Go(func() {
			d, err := l.Allow(context.Background(), "hot")
			if err != nil {
				t.Error(err)
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
}

func TestMemoryKeyCap(t *testing.T) {
	c := newClock()
	const maxKeys = 512
	l := newMemory(t, ratelimit.MemoryConfig{Limit: 5, Period: time.Minute, MaxKeys: maxKeys, Now: c.Now})
	for range 5 {
		allow(t, l, "victim")
	}
	for i := range 20_000 {
		if d := allow(t, l, fmt.Sprintf("flood-%d", i)); !d.Allowed {
			t.Fatalf("fresh flood key %d denied: %+v", i, d)
		}
		if i%1000 == 0 {
			c.Advance(time.Millisecond)
		}
	}
	if n := l.Len(); n > maxKeys {
		t.Fatalf("tracking %d keys, cap %d", n, maxKeys)
	}
	// Every flood key is closer to idle than the exhausted victim, so the
	// flood displaced them, not the victim.
	if d := allow(t, l, "victim"); d.Allowed {
		t.Fatalf("a flood of fresh keys reset an exhausted key: %+v", d)
	}
}

func TestMemoryIdleKeysMakeRoom(t *testing.T) {
	c := newClock()
	// 64 keys per shard; 512 busy keys put about 8 in each, far from the
	// per-shard cap even with an uneven spread.
	const maxKeys = 64 * 64
	l := newMemory(t, ratelimit.MemoryConfig{Limit: 1, Period: time.Second, MaxKeys: maxKeys, Now: c.Now})
	for i := range maxKeys * 4 {
		allow(t, l, fmt.Sprintf("old-%d", i))
	}
	c.Advance(time.Second) // every old key is idle again
	// Fill again with busy keys: they displace idle keys, so each stays
	// exhausted until its interval passes.
	for i := range 512 {
		allow(t, l, fmt.Sprintf("busy-%d", i))
	}
	for i := range 512 {
		if d := allow(t, l, fmt.Sprintf("busy-%d", i)); d.Allowed {
			t.Fatalf("busy key %d lost its state while idle keys were present", i)
		}
	}
	if n := l.Len(); n > maxKeys {
		t.Fatalf("tracking %d keys, cap %d", n, maxKeys)
	}
}

func TestMemoryConfigInvalid(t *testing.T) {
	for name, cfg := range map[string]ratelimit.MemoryConfig{
		"zero limit":              {},
		"negative limit":          {Limit: -1},
		"negative period":         {Limit: 1, Period: -time.Second},
		"negative burst":          {Limit: 1, Burst: -1},
		"negative max keys":       {Limit: 1, MaxKeys: -1},
		"sub-nanosecond interval": {Limit: 1000, Period: time.Microsecond / 2},
		"burst overflows":         {Limit: 1, Period: time.Hour, Burst: 1 << 50},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ratelimit.NewMemoryLimiter(cfg); !errors.Is(err, ratelimit.ErrInvalidConfig) {
				t.Fatalf("err = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestMemoryAllowDoesNotAllocate(t *testing.T) {
	l := newMemory(t, ratelimit.MemoryConfig{Limit: 1_000_000})
	ctx := context.Background()
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("198.51.100.%d:%d", i%256, i)
		if _, err := l.Allow(ctx, keys[i]); err != nil {
			t.Fatal(err)
		}
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := l.Allow(ctx, keys[i%len(keys)]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs != 0 {
		t.Fatalf("Allow on a known key allocates %.1f times", allocs)
	}
}

// TestMemoryBytesPerKey measures the heap the limiter holds per tracked key
// and checks it against the documented bound.
func TestMemoryBytesPerKey(t *testing.T) {
	for _, n := range []int{10_000, 100_000, 200_000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			keys := make([]string, n)
			for i := range keys {
				keys[i] = fmt.Sprintf("key-%d", i)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			l := newMemory(t, ratelimit.MemoryConfig{Limit: 100})
			ctx := context.Background()
			for _, k := range keys {
				if _, err := l.Allow(ctx, k); err != nil {
					t.Fatal(err)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			if l.Len() != n {
				t.Fatalf("tracking %d keys, want %d", l.Len(), n)
			}
			per := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
			t.Logf("%d keys: %.1f bytes per key", n, per)
			if per > ratelimit.MemoryBytesPerKey {
				t.Fatalf("%.1f bytes per key, documented bound %d", per, ratelimit.MemoryBytesPerKey)
			}
			runtime.KeepAlive(keys)
			runtime.KeepAlive(l)
		})
	}
}

func TestMemoryLimiterConformance(t *testing.T) {
	ratelimittest.RunLimiter(t, func(t *testing.T, cfg ratelimit.MemoryConfig) ratelimit.Limiter {
		return newMemory(t, cfg)
	})
}
