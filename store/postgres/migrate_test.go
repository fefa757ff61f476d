package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/store/postgres"
)

func TestMigrateConcurrentAndIdempotent(t *testing.T) {
	ctx := context.Background()
	pool, _ := newSchemaPool(t)
	db, err := postgres.New(pool)
	if err != nil {
		t.Fatal(err)
	}
	// Instances starting at once: every Migrate succeeds, each migration is
	// applied once.
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = db.Migrate(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Migrate %d: %v", i, err)
		}
	}
	versions := func() []int32 {
		rows, err := pool.Query(ctx, `SELECT version FROM gatehouse_schema_migrations ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var vs []int32
		for rows.Next() {
			var v int32
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			vs = append(vs, v)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return vs
	}
	first := versions()
	if len(first) == 0 || first[0] != 1 {
		t.Fatalf("applied versions %v, want 1, 2, ...", first)
	}
	for i, v := range first {
		if int(v) != i+1 {
			t.Fatalf("applied versions %v: not 1..n", first)
		}
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	if again := versions(); len(again) != len(first) {
		t.Fatalf("second Migrate changed versions: %v, then %v", first, again)
	}
}

func TestMigrateUnknownNewerVersionIsKept(t *testing.T) {
	ctx := context.Background()
	db, pool := newDB(t)
	if _, err := pool.Exec(ctx, `INSERT INTO gatehouse_schema_migrations (version, name) VALUES (9999, 'from a newer release')`); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate with a newer version recorded: %v", err)
	}
}

func TestNewRejectsNilPool(t *testing.T) {
	if _, err := postgres.New(nil); err == nil {
		t.Fatal("New(nil): nil error")
	}
}
