package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/ratelimit"
	"github.com/gatehouse-auth/gatehouse/ratelimit/ratelimittest"
)

func TestAttemptStoreConformance(t *testing.T) {
	ratelimittest.RunAttemptStore(t, func(t *testing.T) ratelimit.AttemptStore {
		db, _ := newDB(t)
		return db.Attempts()
	})
}

var policy = ratelimit.AttemptPolicy{
	Window:          10 * time.Minute,
	Delays:          []time.Duration{0},
	MaxFailures:     3,
	LockoutDuration: 15 * time.Minute,
}

func TestAttemptNanosecondsRoundTrip(t *testing.T) {
	ctx := context.Background()
	db, _ := newDB(t)
	s := db.Attempts()
	p := policy
	p.Delays = []time.Duration{time.Second}
	now := time.Date(2030, 5, 6, 7, 8, 9, 123_456_789, time.UTC)
	if _, err := s.Attempt(ctx, "alice", now, p); err != nil {
		t.Fatal(err)
	}
	// One nanosecond before the delay ends: a store that rounded the
	// failure time to microseconds would answer 789ns or allow.
	d, err := s.Attempt(ctx, "alice", now.Add(time.Second-time.Nanosecond), p)
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed || d.RetryAfter != time.Nanosecond {
		t.Fatalf("attempt 1ns before the delay ends: %+v, want denied with RetryAfter 1ns", d)
	}
}

func TestAttemptDeleteExpired(t *testing.T) {
	ctx := context.Background()
	db, pool := newDB(t)
	s := db.Attempts()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := s.Attempt(ctx, "short", now, policy); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.Attempt(ctx, "locked", now, policy); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM gatehouse_attempts`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n, err := s.DeleteExpired(ctx, now.Add(policy.Window-time.Nanosecond)); err != nil || n != 0 {
		t.Fatalf("DeleteExpired inside the window: %d, %v", n, err)
	}
	// The window is over for both; the lock still runs.
	if n, err := s.DeleteExpired(ctx, now.Add(policy.Window)); err != nil || n != 1 {
		t.Fatalf("DeleteExpired at the end of the window: %d, %v; want 1", n, err)
	}
	if d, err := s.Status(ctx, "locked", now.Add(policy.Window), policy); err != nil || !d.Locked {
		t.Fatalf("lock lost to DeleteExpired: %+v, %v", d, err)
	}
	if n, err := s.DeleteExpired(ctx, now.Add(policy.LockoutDuration)); err != nil || n != 1 {
		t.Fatalf("DeleteExpired at the end of the lock: %d, %v; want 1", n, err)
	}
	if n := count(); n != 0 {
		t.Fatalf("%d rows left", n)
	}
}

func TestAttemptStatusWritesNothing(t *testing.T) {
	ctx := context.Background()
	db, pool := newDB(t)
	if _, err := db.Attempts().Status(ctx, "bob", time.Now(), policy); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM gatehouse_attempts`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("Status created %d rows", n)
	}
}

func TestAttemptInvalidPolicy(t *testing.T) {
	db, _ := newDB(t)
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

func TestAttemptServerDownIsAnError(t *testing.T) {
	ctx := context.Background()
	db, pool := newDB(t)
	pool.Close()
	s := db.Attempts()
	if d, err := s.Attempt(ctx, "carol", time.Now(), policy); err == nil {
		t.Fatalf("Attempt on a closed pool = %+v, nil error", d)
	}
	if d, err := s.Status(ctx, "carol", time.Now(), policy); err == nil {
		t.Fatalf("Status on a closed pool = %+v, nil error", d)
	}
}
