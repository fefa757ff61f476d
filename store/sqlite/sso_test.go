package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth2provider"
	"github.com/gatehouse-auth/gatehouse/oauth2provider/oauth2providertest"
	"github.com/gatehouse-auth/gatehouse/store/sqlite"
)

func TestSSOReplayStoreConformance(t *testing.T) {
	oauth2providertest.RunReplayStore(t, func(t *testing.T) oauth2provider.ReplayStore { return newDB(t).SSO() })
}

func TestSSOTokenStoreConformance(t *testing.T) {
	oauth2providertest.RunTokenStore(t, func(t *testing.T) oauth2provider.TokenStore { return newDB(t).SSO() })
}

func TestSSODeleteExpired(t *testing.T) {
	ctx := context.Background()
	s := newDB(t).SSO()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	// "short" expires exactly at the sweep time, "long" a microsecond after.
	sweep := now.Add(10 * time.Minute)
	for key, exp := range map[string]time.Time{"short": sweep, "long": sweep.Add(time.Microsecond)} {
		if err := s.MarkUsed(ctx, key, now, exp); err != nil {
			t.Fatalf("MarkUsed(%s): %v", key, err)
		}
	}
	if err := s.SaveToken(ctx, "okta", "user", "sealed"); err != nil {
		t.Fatal(err)
	}

	if n, err := s.DeleteExpired(ctx, sweep.Add(-time.Microsecond)); err != nil || n != 0 {
		t.Fatalf("DeleteExpired before any expiry = %d, %v; want 0", n, err)
	}
	if n, err := s.DeleteExpired(ctx, sweep); err != nil || n != 1 {
		t.Fatalf("DeleteExpired at short's expiry = %d, %v; want 1", n, err)
	}
	if n, err := s.DeleteExpired(ctx, sweep); err != nil || n != 0 {
		t.Fatalf("DeleteExpired again = %d, %v; want 0", n, err)
	}
	// The surviving key is still remembered; the swept one is free again.
	if err := s.MarkUsed(ctx, "long", sweep, sweep.Add(time.Hour)); !errors.Is(err, oauth2provider.ErrReplayed) {
		t.Fatalf("MarkUsed(long) after the sweep: %v, want ErrReplayed", err)
	}
	if err := s.MarkUsed(ctx, "short", sweep, sweep.Add(time.Hour)); err != nil {
		t.Fatalf("MarkUsed(short) after the sweep: %v", err)
	}
	// Tokens do not expire.
	if got, err := s.LoadToken(ctx, "okta", "user"); err != nil || got != "sealed" {
		t.Fatalf("LoadToken after DeleteExpired = %q, %v", got, err)
	}
}

// TestSSOReplaySubMicrosecondExpiry checks that an expiry between two
// microseconds is rounded up, not down: the key is still live at the
// microsecond before it, as in the in-memory store.
func TestSSOReplaySubMicrosecondExpiry(t *testing.T) {
	ctx := context.Background()
	s := newDB(t).SSO()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	exp := now.Add(time.Minute + 500*time.Nanosecond)
	if err := s.MarkUsed(ctx, "k", now, exp); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkUsed(ctx, "k", exp.Truncate(time.Microsecond), exp.Add(time.Hour)); !errors.Is(err, oauth2provider.ErrReplayed) {
		t.Fatalf("MarkUsed 500ns before the expiry: %v, want ErrReplayed", err)
	}
}

func TestSSOSaveEmptyTokenRefused(t *testing.T) {
	ctx := context.Background()
	s := newDB(t).SSO()
	if err := s.SaveToken(ctx, "okta", "user", ""); err == nil {
		t.Fatal("SaveToken of an empty token succeeded")
	}
	if v, err := s.LoadToken(ctx, "okta", "user"); !errors.Is(err, oauth2provider.ErrNotFound) || v != "" {
		t.Fatalf("LoadToken after a refused save = %q, %v; want ErrNotFound", v, err)
	}
}

// TestSSOReplayOnceAcrossProcesses races one flow key through two handles
// on the same file, as two processes behind a load balancer would: exactly
// one callback is accepted.
func TestSSOReplayOnceAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	stores := make([]*sqlite.SSOStore, 2)
	for i := range stores {
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		stores[i] = db.SSO()
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = stores[i%2].MarkUsed(ctx, "flow", now, now.Add(10*time.Minute)) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, oauth2provider.ErrReplayed):
			t.Errorf("MarkUsed: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d uses across two handles succeeded, want 1", won, n)
	}
}
