package redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/ratelimit"
	"github.com/gatehouse-auth/gatehouse/ratelimit/ratelimittest"
	"github.com/gatehouse-auth/gatehouse/store/redis"
	goredis "github.com/redis/go-redis/v9"
)

func TestLimiterConformance(t *testing.T) {
	ratelimittest.RunLimiter(t, func(t *testing.T, cfg ratelimit.MemoryConfig) ratelimit.Limiter {
		db, _, _ := newDB(t)
		l, err := db.Limiter(redis.LimiterConfig{Limit: cfg.Limit, Period: cfg.Period, Burst: cfg.Burst, Now: cfg.Now})
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

// TestLimiterMatchesMemoryLimiter runs the same uneven configuration (an
// interval that is not a whole number of microseconds) through both
// limiters on one clock and compares every decision.
func TestLimiterMatchesMemoryLimiter(t *testing.T) {
	ctx := context.Background()
	db, _, _ := newDB(t)
	clock := ratelimittest.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 999_999_999, time.UTC))
	cfg := ratelimit.MemoryConfig{Limit: 7, Period: time.Minute + 13*time.Nanosecond, Burst: 3, Now: clock.Now}
	mem, err := ratelimit.NewMemoryLimiter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := db.Limiter(redis.LimiterConfig{Limit: cfg.Limit, Period: cfg.Period, Burst: cfg.Burst, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	steps := []time.Duration{0, 0, 1, 3 * time.Second, 8571428573, 7*time.Second + 77, 0, 0, time.Hour, 1}
	for i, adv := range steps {
		clock.Advance(adv)
		for _, n := range []int{1, 0, 2, 4} {
			want, _ := mem.AllowN(ctx, "k", n)
			got, err := rl.AllowN(ctx, "k", n)
			if err != nil {
				t.Fatal(err)
			}
			if got.Allowed != want.Allowed || got.Remaining != want.Remaining || got.Limit != want.Limit ||
				!got.ResetAt.Equal(want.ResetAt) || got.RetryAfter != want.RetryAfter {
				t.Fatalf("step %d AllowN(%d): redis %+v, memory %+v", i, n, got, want)
			}
		}
	}
}

func TestLimiterKeysAndTTL(t *testing.T) {
	ctx := context.Background()
	db, c, prefix := newDB(t)
	login, err := db.Limiter(redis.LimiterConfig{Name: "login", Limit: 10, Period: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	api, err := db.Limiter(redis.LimiterConfig{Name: "api", Limit: 1, Period: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := login.AllowN(ctx, "10.0.0.1", 0); err != nil || !d.Allowed {
		t.Fatalf("AllowN 0: %+v, %v", d, err)
	}
	if keys := keysUnder(t, c, prefix); len(keys) != 0 {
		t.Fatalf("AllowN(0) on an idle key stored %q", keys)
	}
	for range 3 {
		if _, err := login.Allow(ctx, "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
	}
	// Three requests at 6s each: the allowance is full again in 18s.
	key := prefix + "rate:login:{10.0.0.1}"
	ttl, err := c.PTTL(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 18*time.Second || ttl > 19*time.Second {
		t.Fatalf("TTL of %s = %v, want about 18s and the second of grace", key, ttl)
	}
	// A second limiter on the same key keeps its own counter.
	if d, err := api.Allow(ctx, "10.0.0.1"); err != nil || !d.Allowed {
		t.Fatalf("api limiter affected by login limiter: %+v, %v", d, err)
	}
	if d, err := api.Allow(ctx, "10.0.0.1"); err != nil || d.Allowed {
		t.Fatalf("api limiter's second request in an hour: %+v, %v", d, err)
	}
}

func TestLimiterConfigErrors(t *testing.T) {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	db, err := redis.New(c, redis.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]redis.LimiterConfig{
		"zero limit":            {},
		"negative period":       {Limit: 1, Period: -time.Second},
		"negative burst":        {Limit: 1, Burst: -1},
		"interval under 1ns":    {Limit: 10, Period: 5},
		"burst window too long": {Limit: 1, Period: 24 * time.Hour, Burst: 100},
		"brace in name":         {Name: "a{b}", Limit: 1},
	} {
		if _, err := db.Limiter(cfg); !errors.Is(err, ratelimit.ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
}

func TestLimiterDownIsAnError(t *testing.T) {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	db, err := redis.New(c, redis.Config{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := db.Limiter(redis.LimiterConfig{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := l.Allow(context.Background(), "k"); err == nil {
		t.Fatalf("Allow with Redis down = %+v, nil error", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Allow(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Allow with a canceled context: %v, want context.Canceled", err)
	}
}
