// Package ratelimitbench compares the cost of one rate-limit decision in
// Gatehouse's in-memory limiter with popular Go limiters.
package ratelimitbench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/httprate"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"
	"golang.org/x/time/rate"

	"github.com/gatehouse-auth/gatehouse/ratelimit"
)

// numKeys is the number of distinct keys each benchmark cycles through.
const numKeys = 10_000

// Every limiter allows limit requests per period per key, high enough that
// the benchmark measures the allowed path (a lookup and an update), which is
// what nearly every request of a healthy service takes.
const (
	limit  = 1_000_000_000
	period = time.Minute
)

// allowFunc makes one decision for key and reports whether it was allowed.
type allowFunc func(ctx context.Context, key string) bool

func keys() []string {
	ks := make([]string, numKeys)
	for i := range ks {
		ks[i] = fmt.Sprintf("203.0.%d.%d", i/256, i%256)
	}
	return ks
}

func gatehouse(b *testing.B) allowFunc {
	l, err := ratelimit.NewMemoryLimiter(ratelimit.MemoryConfig{Limit: limit, Period: period})
	if err != nil {
		b.Fatal(err)
	}
	return func(ctx context.Context, key string) bool {
		d, err := l.Allow(ctx, key)
		return err == nil && d.Allowed
	}
}

// rateMap is the common hand-rolled limiter: a mutex-guarded map of
// *rate.Limiter, one per key.
type rateMap struct {
	mu sync.Mutex // guards m
	m  map[string]*rate.Limiter
}

func xTimeRateMap(*testing.B) allowFunc {
	rm := &rateMap{m: make(map[string]*rate.Limiter)}
	every := rate.Every(period / limit)
	return func(_ context.Context, key string) bool {
		rm.mu.Lock()
		lim, ok := rm.m[key]
		if !ok {
			lim = rate.NewLimiter(every, limit)
			rm.m[key] = lim
		}
		rm.mu.Unlock()
		return lim.Allow()
	}
}

func ulule(*testing.B) allowFunc {
	l := limiter.New(memory.NewStore(), limiter.Rate{Period: period, Limit: limit})
	return func(ctx context.Context, key string) bool {
		c, err := l.Get(ctx, key)
		return err == nil && !c.Reached
	}
}

// httprateCounter makes httprate's decision without its HTTP plumbing: the
// sliding-window estimate RateLimiter.OnLimit computes from the in-memory
// LimitCounter's current and previous window counts, then the increment,
// under one mutex as OnLimit holds its own. Response headers are left out,
// as they are for every other limiter here.
func httprateCounter(*testing.B) allowFunc {
	c := httprate.NewLocalLimitCounter(period)
	c.Config(limit, period)
	var mu sync.Mutex
	return func(_ context.Context, key string) bool {
		now := time.Now().UTC()
		cur := now.Truncate(period)
		mu.Lock()
		defer mu.Unlock()
		curN, prevN, err := c.Get(key, cur, cur.Add(-period))
		if err != nil {
			return false
		}
		elapsed := now.Sub(cur)
		est := float64(prevN)*float64(period-elapsed)/float64(period) + float64(curN)
		if int(est)+1 > limit {
			return false
		}
		return c.Increment(key, cur) == nil
	}
}

// BenchmarkRateLimitAllow measures one allowed decision over 10,000 distinct
// keys, serially and from parallel goroutines (RunParallel, GOMAXPROCS of
// them), for Gatehouse's sharded GCRA limiter and its peers.
func BenchmarkRateLimitAllow(b *testing.B) {
	ks := keys()
	peers := []struct {
		name string
		make func(*testing.B) allowFunc
	}{
		{"gatehouse", gatehouse},
		{"x-time-rate-map", xTimeRateMap},
		{"ulule", ulule},
		{"httprate", httprateCounter},
	}
	ctx := context.Background()
	for _, p := range peers {
		b.Run("serial/"+p.name, func(b *testing.B) {
			allow := p.make(b)
			for _, k := range ks { // every key known before timing
				allow(ctx, k)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if !allow(ctx, ks[i]) {
					b.Fatal("denied")
				}
				if i++; i == numKeys {
					i = 0
				}
			}
		})
	}
	for _, p := range peers {
		b.Run("parallel/"+p.name, func(b *testing.B) {
			allow := p.make(b)
			for _, k := range ks {
				allow(ctx, k)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := rand.IntN(numKeys)
				for pb.Next() {
					if !allow(ctx, ks[i]) {
						b.Error("denied")
						return
					}
					if i++; i == numKeys {
						i = 0
					}
				}
			})
		})
	}
}
