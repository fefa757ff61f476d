package postgres_test

import (
	"context"
	"log"
	"os"

	"github.com/gatehouse-auth/gatehouse/apikey"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
	"github.com/gatehouse-auth/gatehouse/session"
	"github.com/gatehouse-auth/gatehouse/store/postgres"
)

// Wiring the stores of several service instances to one database. Migrate
// is safe to run from every instance at start-up.
func Example() {
	ctx := context.Background()
	db, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	attempts, err := ratelimit.NewAttemptsLimiter(ratelimit.AttemptsConfig{Store: db.Attempts()})
	if err != nil {
		log.Fatal(err)
	}
	var (
		_ *ratelimit.AttemptsLimiter = attempts
		_ apikey.Store               = db.APIKeys()
		_ session.Store              = db.Sessions()
	)
}
