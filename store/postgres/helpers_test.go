package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/gatehouse-auth/gatehouse/store/postgres"
	"github.com/jackc/pgx/v5/pgxpool"
)

// serverURL returns GATEHOUSE_POSTGRES_URL. Without it the test is skipped,
// except under CI, where a missing server is a failure.
func serverURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("GATEHOUSE_POSTGRES_URL")
	if url == "" {
		const msg = "GATEHOUSE_POSTGRES_URL is not set; start a server with: eval \"$(scripts/services start)\""
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI is set: a missing server fails the tests)")
		}
		t.Skip(msg)
	}
	return url
}

// newSchemaPool creates a fresh schema, dropped when the test ends, and
// returns a pool whose search_path is that schema.
func newSchemaPool(t *testing.T) (*pgxpool.Pool, string) {
	t.Helper()
	ctx := context.Background()
	url := serverURL(t)
	admin, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatalf("GATEHOUSE_POSTGRES_URL: %v", err)
	}
	t.Cleanup(admin.Close)
	b := make([]byte, 8)
	rand.Read(b)
	schema := "gatehouse_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, schema
}

// newDB returns a migrated DB in a fresh schema.
func newDB(t *testing.T) (*postgres.DB, *pgxpool.Pool) {
	t.Helper()
	pool, _ := newSchemaPool(t)
	db, err := postgres.New(pool)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db, pool
}
