package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/gatehouse-auth/gatehouse/ratelimit"
	"github.com/gatehouse-auth/gatehouse/store/sqlite"
)

// An attempts limiter whose lockout survives a restart: the third wrong
// password locks the account, and the lock is still there when the
// database is opened again.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "gatehouse-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "gatehouse.db")
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	cfg := ratelimit.AttemptsConfig{MaxFailures: 3, Delays: []time.Duration{0}, Now: func() time.Time { return now }}

	db, err := sqlite.Open(ctx, path)
	if err != nil {
		log.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	cfg.Store = db.Attempts()
	limiter, err := ratelimit.NewAttemptsLimiter(cfg)
	if err != nil {
		log.Fatal(err)
	}
	for range 3 {
		d, err := limiter.Attempt(ctx, "user:alice")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("allowed:", d.Allowed, "locks on failure:", d.LocksOnFailure)
	}
	db.Close()

	// The process restarts.
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	cfg.Store = db.Attempts()
	limiter, err = ratelimit.NewAttemptsLimiter(cfg)
	if err != nil {
		log.Fatal(err)
	}
	d, err := limiter.Attempt(ctx, "user:alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("after restart: allowed:", d.Allowed, "locked:", d.Locked, "retry after:", d.RetryAfter)
	// Output:
	// allowed: true locks on failure: false
	// allowed: true locks on failure: false
	// allowed: true locks on failure: true
	// after restart: allowed: false locked: true retry after: 15m0s
}
