package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth2provider"
	"github.com/gatehouse-auth/gatehouse/oauth2provider/oauth2providertest"
)

func TestSSOReplayStoreConformance(t *testing.T) {
	oauth2providertest.RunReplayStore(t, func(t *testing.T) oauth2provider.ReplayStore {
		db, _ := newDB(t)
		return db.SSO()
	})
}

func TestSSOTokenStoreConformance(t *testing.T) {
	oauth2providertest.RunTokenStore(t, func(t *testing.T) oauth2provider.TokenStore {
		db, _ := newDB(t)
		return db.SSO()
	})
}

func TestSSODeleteExpired(t *testing.T) {
	ctx := context.Background()
	db, pool := newDB(t)
	s := db.SSO()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for k, ttl := range map[string]time.Duration{"short": time.Minute, "long": time.Hour} {
		if err := s.MarkUsed(ctx, k, now, now.Add(ttl)); err != nil {
			t.Fatalf("MarkUsed(%s): %v", k, err)
		}
	}
	if err := s.SaveToken(ctx, "okta", "user-1", "sealed"); err != nil {
		t.Fatal(err)
	}

	if n, err := s.DeleteExpired(ctx, now.Add(time.Minute-time.Microsecond)); err != nil || n != 0 {
		t.Fatalf("DeleteExpired before any expiry = %d, %v; want 0", n, err)
	}
	if n, err := s.DeleteExpired(ctx, now.Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("DeleteExpired at the short key's expiry = %d, %v; want 1", n, err)
	}
	var left []string
	rows, err := pool.Query(ctx, `SELECT key FROM gatehouse_sso_replay`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		left = append(left, k)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0] != "long" {
		t.Fatalf("keys left after DeleteExpired: %q, want [long]", left)
	}
	if err := s.MarkUsed(ctx, "long", now.Add(time.Minute), now.Add(time.Hour)); !errors.Is(err, oauth2provider.ErrReplayed) {
		t.Fatalf("MarkUsed of the live key after DeleteExpired: %v, want ErrReplayed", err)
	}
	if got, err := s.LoadToken(ctx, "okta", "user-1"); err != nil || got != "sealed" {
		t.Fatalf("LoadToken after DeleteExpired = %q, %v; tokens must not be swept", got, err)
	}
}

// A flow expiring within the microsecond after now is still live: the
// stored expiry is rounded up, never down, so neither MarkUsed nor
// DeleteExpired takes it as expired early.
func TestSSOReplaySubMicrosecondExpiryIsNotEarly(t *testing.T) {
	ctx := context.Background()
	db, _ := newDB(t)
	s := db.SSO()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	exp := now.Add(500 * time.Nanosecond)
	if err := s.MarkUsed(ctx, "k", now, exp); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{now, now.Add(400 * time.Nanosecond)} {
		if err := s.MarkUsed(ctx, "k", at, exp.Add(time.Hour)); !errors.Is(err, oauth2provider.ErrReplayed) {
			t.Fatalf("MarkUsed at %v, before the expiry: %v, want ErrReplayed", at.Sub(now), err)
		}
		if n, err := s.DeleteExpired(ctx, at); err != nil || n != 0 {
			t.Fatalf("DeleteExpired at %v, before the expiry = %d, %v; want 0", at.Sub(now), n, err)
		}
	}
	if err := s.MarkUsed(ctx, "k", now.Add(time.Microsecond), now.Add(time.Hour)); err != nil {
		t.Fatalf("MarkUsed after the expiry: %v", err)
	}
}

// Renewing an expired key races on the existing row, not on an insert: the
// condition must be checked again under the row lock.
func TestSSOReplayConcurrentRenewalOfExpiredKey(t *testing.T) {
	ctx := context.Background()
	db, _ := newDB(t)
	s := db.SSO()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.MarkUsed(ctx, "k", now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Hour)
	const n = 50
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = s.MarkUsed(ctx, "k", later, later.Add(time.Minute)) })
	}
	wg.Wait()
	assertOneWinner(t, errs)
}

// A sweep deleting an expired key while callbacks renew it neither lets two
// of them through nor fails any.
func TestSSOReplayRenewalRacingDeleteExpired(t *testing.T) {
	ctx := context.Background()
	db, _ := newDB(t)
	s := db.SSO()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.MarkUsed(ctx, "k", now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Hour)
	const n = 20
	errs := make([]error, n)
	var sweepErr error
	var wg sync.WaitGroup
	wg.Go(func() { _, sweepErr = s.DeleteExpired(ctx, later) })
	for i := range n {
		wg.Go(func() { errs[i] = s.MarkUsed(ctx, "k", later, later.Add(time.Minute)) })
	}
	wg.Wait()
	if sweepErr != nil {
		t.Fatalf("DeleteExpired: %v", sweepErr)
	}
	assertOneWinner(t, errs)
	if err := s.MarkUsed(ctx, "k", later, later.Add(time.Minute)); !errors.Is(err, oauth2provider.ErrReplayed) {
		t.Fatalf("MarkUsed after the race: %v, want ErrReplayed", err)
	}
}

func assertOneWinner(t *testing.T, errs []error) {
	t.Helper()
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
		t.Fatalf("%d of %d concurrent uses succeeded, want 1", won, len(errs))
	}
}

func TestSSOSaveTokenRefusesEmptySealed(t *testing.T) {
	ctx := context.Background()
	db, _ := newDB(t)
	s := db.SSO()
	if err := s.SaveToken(ctx, "okta", "user-1", ""); err == nil {
		t.Fatal("SaveToken of an empty token succeeded")
	}
	if v, err := s.LoadToken(ctx, "okta", "user-1"); !errors.Is(err, oauth2provider.ErrNotFound) {
		t.Fatalf("LoadToken after a refused save = %q, %v; want ErrNotFound", v, err)
	}
	if err := s.SaveToken(ctx, "okta", "user-1", "sealed"); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveToken(ctx, "okta", "user-1", ""); err == nil {
		t.Fatal("SaveToken of an empty token over a saved one succeeded")
	}
	if v, err := s.LoadToken(ctx, "okta", "user-1"); err != nil || v != "sealed" {
		t.Fatalf("LoadToken after a refused replacement = %q, %v; want the saved token", v, err)
	}
}

// A store that is down is an error, never a replay or a missing token: the
// callback must answer 503, not 401.
func TestSSODatabaseDownIsNotADecision(t *testing.T) {
	ctx := context.Background()
	db, pool := newDB(t)
	s := db.SSO()
	pool.Close()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.MarkUsed(ctx, "k", now, now.Add(time.Minute)); err == nil || errors.Is(err, oauth2provider.ErrReplayed) {
		t.Errorf("MarkUsed on a closed pool: %v, want a non-replay error", err)
	}
	if _, err := s.LoadToken(ctx, "okta", "user-1"); err == nil || errors.Is(err, oauth2provider.ErrNotFound) {
		t.Errorf("LoadToken on a closed pool: %v, want a non-not-found error", err)
	}
	if err := s.SaveToken(ctx, "okta", "user-1", "sealed"); err == nil {
		t.Error("SaveToken on a closed pool succeeded")
	}
	if err := s.DeleteToken(ctx, "okta", "user-1"); err == nil {
		t.Error("DeleteToken on a closed pool succeeded")
	}
	if _, err := s.DeleteExpired(ctx, now); err == nil {
		t.Error("DeleteExpired on a closed pool succeeded")
	}
}
