package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/ratelimit"
	"github.com/gatehouse-auth/gatehouse/ratelimit/ratelimittest"
	"github.com/gatehouse-auth/gatehouse/store/sqlite"
)

func TestAttemptStoreConformance(t *testing.T) {
	ratelimittest.RunAttemptStore(t, func(t *testing.T) ratelimit.AttemptStore {
		return newDB(t).Attempts()
	})
}

var policy = ratelimit.AttemptPolicy{
	Window:          10 * time.Minute,
	Delays:          []time.Duration{0},
	MaxFailures:     3,
	LockoutDuration: 15 * time.Minute,
}

func TestAttemptSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	now := time.Date(2030, 5, 6, 7, 8, 9, 123_456_789, time.UTC)
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := db.Attempts().Attempt(ctx, "alice", now, policy); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate on an up-to-date file: %v", err)
	}
	// The lock, to the nanosecond, survived the restart.
	d, err := db.Attempts().Status(ctx, "alice", now.Add(policy.LockoutDuration-time.Nanosecond), policy)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Locked || d.RetryAfter != time.Nanosecond {
		t.Fatalf("after reopening: %+v, want locked for 1ns more", d)
	}
}

func TestAttemptDeleteExpired(t *testing.T) {
	ctx := context.Background()
	s := newDB(t).Attempts()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := s.Attempt(ctx, "short", now, policy); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.Attempt(ctx, "locked", now, policy); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.DeleteExpired(ctx, now.Add(policy.Window-time.Nanosecond)); err != nil || n != 0 {
		t.Fatalf("DeleteExpired inside the window: %d, %v", n, err)
	}
	if n, err := s.DeleteExpired(ctx, now.Add(policy.Window)); err != nil || n != 1 {
		t.Fatalf("DeleteExpired at the end of the window: %d, %v; want 1", n, err)
	}
	if d, err := s.Status(ctx, "locked", now.Add(policy.Window), policy); err != nil || !d.Locked {
		t.Fatalf("lock lost to DeleteExpired: %+v, %v", d, err)
	}
	if n, err := s.DeleteExpired(ctx, now.Add(policy.LockoutDuration)); err != nil || n != 1 {
		t.Fatalf("DeleteExpired at the end of the lock: %d, %v; want 1", n, err)
	}
}

func TestAttemptsAcrossTwoHandles(t *testing.T) {
	// Two DBs on one file stand for two processes: their attempts must
	// still be counted exactly.
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	var dbs [2]*sqlite.DB
	for i := range dbs {
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		dbs[i] = db
	}
	p := policy
	p.MaxFailures = 7
	results := make(chan bool, 40)
	for i := range 40 {
		go func() {
			d, err := dbs[i%2].Attempts().Attempt(ctx, "bob", time.Unix(0, 0), p)
			if err != nil {
				t.Error(err)
			}
			results <- d.Allowed
		}()
	}
	allowed := 0
	for range 40 {
		if <-results {
			allowed++
		}
	}
	if allowed != p.MaxFailures {
		t.Fatalf("40 attempts through two handles: %d allowed, want %d", allowed, p.MaxFailures)
	}
}

func TestAttemptInvalidPolicy(t *testing.T) {
	s := newDB(t).Attempts()
	for name, p := range map[string]ratelimit.AttemptPolicy{
		"zero window":             {MaxFailures: 1, LockoutDuration: time.Minute},
		"negative delay":          {Window: time.Minute, Delays: []time.Duration{-time.Second}},
		"delay beyond window":     {Window: time.Minute, Delays: []time.Duration{2 * time.Minute}},
		"lock without a duration": {Window: time.Minute, MaxFailures: 3},
	} {
		if _, err := s.Attempt(context.Background(), "k", time.Now(), p); !errors.Is(err, ratelimit.ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
}

func TestOpenRejectsNonFiles(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file::memory:?cache=shared"} {
		if db, err := sqlite.Open(context.Background(), p); !errors.Is(err, sqlite.ErrInvalidConfig) {
			if db != nil {
				db.Close()
			}
			t.Errorf("Open(%q): %v, want ErrInvalidConfig", p, err)
		}
	}
}

func TestOpenPathWithQueryCharacters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "odd?name#1%20.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("database not created under its exact name (%v); directory holds %q", err, names)
	}
}
