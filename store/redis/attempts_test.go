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

func TestAttemptStoreConformance(t *testing.T) {
	ratelimittest.RunAttemptStore(t, func(t *testing.T) ratelimit.AttemptStore {
		db, _, _ := newDB(t)
		return db.Attempts()
	})
}

var policy = ratelimit.AttemptPolicy{
	Window:          10 * time.Minute,
	Delays:          []time.Duration{0},
	MaxFailures:     3,
	LockoutDuration: 15 * time.Minute,
}

func TestAttemptRecordKeyAndTTL(t *testing.T) {
	ctx := context.Background()
	db, c, prefix := newDB(t)
	s := db.Attempts()
	now := time.Now()
	if _, err := s.Attempt(ctx, "alice", now, policy); err != nil {
		t.Fatal(err)
	}
	key := prefix + "attempt:{alice}"
	ttl, err := c.PTTL(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	// One failure: the record matters for the window.
	if ttl <= policy.Window || ttl > policy.Window+time.Second {
		t.Fatalf("TTL of %s after one failure = %v, want about %v", key, ttl, policy.Window)
	}
	for range 2 {
		if _, err := s.Attempt(ctx, "alice", now, policy); err != nil {
			t.Fatal(err)
		}
	}
	// Locked: the record matters until the lock ends, after the window.
	ttl, err = c.PTTL(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= policy.LockoutDuration || ttl > policy.LockoutDuration+time.Second {
		t.Fatalf("TTL of locked %s = %v, want about %v", key, ttl, policy.LockoutDuration)
	}
	if keys := keysUnder(t, c, prefix); len(keys) != 1 || keys[0] != key {
		t.Fatalf("keys under prefix = %q, want only %q", keys, key)
	}
}

func TestAttemptStatusWritesNothing(t *testing.T) {
	ctx := context.Background()
	db, c, prefix := newDB(t)
	s := db.Attempts()
	for _, key := range []string{"bob", "{bob}", "}{", ""} {
		if _, err := s.Status(ctx, key, time.Now(), policy); err != nil {
			t.Fatalf("Status(%q): %v", key, err)
		}
	}
	if keys := keysUnder(t, c, prefix); len(keys) != 0 {
		t.Fatalf("Status created keys %q", keys)
	}
}

func TestAttemptKeysWithBracesStayApart(t *testing.T) {
	ctx := context.Background()
	db, _, _ := newDB(t)
	s := db.Attempts()
	now := time.Now()
	for range 3 {
		if _, err := s.Attempt(ctx, "a}{b", now, policy); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"a", "b", "a}", "{b", "a}{b}"} {
		d, err := s.Status(ctx, k, now, policy)
		if err != nil {
			t.Fatal(err)
		}
		if d.Failures != 0 || d.Locked {
			t.Errorf("key %q sees the failures of %q: %+v", k, "a}{b", d)
		}
	}
}

func TestAttemptStoreDownIsAnError(t *testing.T) {
	// Nothing listens on port 1: every call must fail, never decide.
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	db, err := redis.New(c, redis.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := db.Attempts()
	if d, err := s.Attempt(context.Background(), "carol", time.Now(), policy); err == nil {
		t.Fatalf("Attempt with Redis down = %+v, nil error", d)
	}
	if d, err := s.Status(context.Background(), "carol", time.Now(), policy); err == nil {
		t.Fatalf("Status with Redis down = %+v, nil error", d)
	}
	if err := s.Reset(context.Background(), "carol"); err == nil {
		t.Fatal("Reset with Redis down: nil error")
	}
}

func TestAttemptInvalidPolicy(t *testing.T) {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	db, err := redis.New(c, redis.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]ratelimit.AttemptPolicy{
		"zero window":             {MaxFailures: 1, LockoutDuration: time.Minute},
		"negative delay":          {Window: time.Minute, Delays: []time.Duration{-time.Second}},
		"delay beyond window":     {Window: time.Minute, Delays: []time.Duration{2 * time.Minute}},
		"lock without a duration": {Window: time.Minute, MaxFailures: 3},
	} {
		if _, err := db.Attempts().Attempt(context.Background(), "k", time.Now(), p); !errors.Is(err, ratelimit.ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := redis.New(nil, redis.Config{}); !errors.Is(err, redis.ErrInvalidConfig) {
		t.Errorf("nil client: %v", err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	for _, p := range []string{"app{1}:", "x}", "{"} {
		if _, err := redis.New(c, redis.Config{Prefix: p}); !errors.Is(err, redis.ErrInvalidConfig) {
			t.Errorf("prefix %q: %v, want ErrInvalidConfig", p, err)
		}
	}
}
