package sqlite_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/store/sqlite"
)

func TestMigrateConcurrentAndIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	// Separate handles stand for processes starting at once.
	const n = 4
	dbs := make([]*sqlite.DB, n)
	for i := range dbs {
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs[i] = db
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = dbs[i].Migrate(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Migrate %d: %v", i, err)
		}
	}
	if err := dbs[0].Migrate(ctx); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
}
