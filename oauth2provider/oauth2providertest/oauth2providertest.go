// Package oauth2providertest checks implementations of
// oauth2provider.ReplayStore and oauth2provider.TokenStore.
//
// An adapter's tests call [RunReplayStore] and [RunTokenStore] with a
// constructor of empty stores:
//
//	func TestReplayStore(t *testing.T) {
//		oauth2providertest.RunReplayStore(t, func(t *testing.T) oauth2provider.ReplayStore { return newTestStore(t) })
//	}
//
// The suites depend only on the interfaces. They pass the time to every
// call, so a store that computes expiries from its own clock (a Redis TTL)
// must derive them from the times it is given. Keys and subjects are random,
// so that stores sharing a database do not collide.
package oauth2providertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth2provider"
)

// base is the reference time of the suites; it lies in the future so that a
// store using the real clock for expiry keeps the suite's keys alive.
var base = time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)

func random(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// RunReplayStore runs the ReplayStore suite against stores made by
// newStore, one fresh store per subtest.
func RunReplayStore(t *testing.T, newStore func(t *testing.T) oauth2provider.ReplayStore) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s oauth2provider.ReplayStore)
	}{
		{"first use succeeds and the second is ErrReplayed", testReplayOnce},
		{"keys are independent", testReplayKeys},
		{"a key may be used again once it expired, then only once", testReplayExpiry},
		{"a key is still live one millisecond before its expiry", testReplayEdge},
		{"50 concurrent uses of one key: exactly one wins", testReplayConcurrent},
		{"a canceled context is an error", testReplayCanceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func testReplayOnce(t *testing.T, s oauth2provider.ReplayStore) {
	ctx, k := context.Background(), random("flow-")
	if err := s.MarkUsed(ctx, k, base, base.Add(10*time.Minute)); err != nil {
		t.Fatalf("first MarkUsed: %v", err)
	}
	for i := range 2 {
		if err := s.MarkUsed(ctx, k, base.Add(time.Duration(i)*time.Minute), base.Add(10*time.Minute)); !errors.Is(err, oauth2provider.ErrReplayed) {
			t.Fatalf("repeated MarkUsed: %v, want ErrReplayed", err)
		}
	}
}

func testReplayKeys(t *testing.T, s oauth2provider.ReplayStore) {
	ctx := context.Background()
	a := random("flow-")
	for _, k := range []string{a, a + "x", a[:len(a)-1], random("flow-")} {
		if err := s.MarkUsed(ctx, k, base, base.Add(10*time.Minute)); err != nil {
			t.Fatalf("MarkUsed(%q): %v", k, err)
		}
	}
}

func testReplayExpiry(t *testing.T, s oauth2provider.ReplayStore) {
	ctx, k := context.Background(), random("flow-")
	exp := base.Add(10 * time.Minute)
	if err := s.MarkUsed(ctx, k, base, exp); err != nil {
		t.Fatal(err)
	}
	later := exp.Add(time.Second)
	if err := s.MarkUsed(ctx, k, later, later.Add(10*time.Minute)); err != nil {
		t.Fatalf("MarkUsed after expiry: %v", err)
	}
	if err := s.MarkUsed(ctx, k, later.Add(time.Minute), later.Add(10*time.Minute)); !errors.Is(err, oauth2provider.ErrReplayed) {
		t.Fatalf("second MarkUsed after renewal: %v, want ErrReplayed", err)
	}
}

func testReplayEdge(t *testing.T, s oauth2provider.ReplayStore) {
	ctx, k := context.Background(), random("flow-")
	exp := base.Add(10 * time.Minute)
	if err := s.MarkUsed(ctx, k, base, exp); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkUsed(ctx, k, exp.Add(-time.Millisecond), exp.Add(time.Hour)); !errors.Is(err, oauth2provider.ErrReplayed) {
		t.Fatalf("MarkUsed just before expiry: %v, want ErrReplayed", err)
	}
}

func testReplayConcurrent(t *testing.T, s oauth2provider.ReplayStore) {
	ctx, k := context.Background(), random("flow-")
	const n = 50
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = s.MarkUsed(ctx, k, base, base.Add(10*time.Minute)) })
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
		t.Fatalf("%d of %d concurrent uses succeeded, want 1", won, n)
	}
}

func testReplayCanceled(t *testing.T, s oauth2provider.ReplayStore) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.MarkUsed(ctx, random("flow-"), base, base.Add(time.Minute)); err == nil {
		t.Fatal("MarkUsed with a canceled context succeeded")
	}
}

// RunTokenStore runs the TokenStore suite against stores made by newStore,
// one fresh store per subtest.
func RunTokenStore(t *testing.T, newStore func(t *testing.T) oauth2provider.TokenStore) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s oauth2provider.TokenStore)
	}{
		{"saved token loads back", testTokenRoundTrip},
		{"missing token is ErrNotFound, never empty and nil", testTokenMissing},
		{"saving again replaces", testTokenReplace},
		{"same subject at two IdPs are two tokens", testTokenIdPs},
		{"delete removes, and deleting a missing token is not an error", testTokenDelete},
		{"concurrent saves and loads of many users", testTokenConcurrent},
		{"a canceled context is an error", testTokenCanceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func load(t *testing.T, s oauth2provider.TokenStore, idp, sub string) string {
	t.Helper()
	v, err := s.LoadToken(context.Background(), idp, sub)
	if err != nil {
		t.Fatalf("LoadToken(%s, %s): %v", idp, sub, err)
	}
	return v
}

func save(t *testing.T, s oauth2provider.TokenStore, idp, sub, v string) {
	t.Helper()
	if err := s.SaveToken(context.Background(), idp, sub, v); err != nil {
		t.Fatalf("SaveToken(%s, %s): %v", idp, sub, err)
	}
}

func testTokenRoundTrip(t *testing.T, s oauth2provider.TokenStore) {
	sub, v := random("user-"), "ghk1.k1."+random("")
	save(t, s, "okta", sub, v)
	if got := load(t, s, "okta", sub); got != v {
		t.Fatalf("loaded %q, want %q", got, v)
	}
}

func testTokenMissing(t *testing.T, s oauth2provider.TokenStore) {
	v, err := s.LoadToken(context.Background(), "okta", random("user-"))
	if !errors.Is(err, oauth2provider.ErrNotFound) || v != "" {
		t.Fatalf("LoadToken of a missing token = %q, %v; want ErrNotFound", v, err)
	}
}

func testTokenReplace(t *testing.T, s oauth2provider.TokenStore) {
	sub := random("user-")
	save(t, s, "okta", sub, "first")
	save(t, s, "okta", sub, "second")
	if got := load(t, s, "okta", sub); got != "second" {
		t.Fatalf("loaded %q after replacement", got)
	}
}

func testTokenIdPs(t *testing.T, s oauth2provider.TokenStore) {
	sub := random("user-")
	save(t, s, "okta", sub, "from okta")
	save(t, s, "github", sub, "from github")
	if a, b := load(t, s, "okta", sub), load(t, s, "github", sub); a != "from okta" || b != "from github" {
		t.Fatalf("okta %q github %q", a, b)
	}
}

func testTokenDelete(t *testing.T, s oauth2provider.TokenStore) {
	ctx, sub := context.Background(), random("user-")
	save(t, s, "okta", sub, "v")
	save(t, s, "github", sub, "kept")
	for range 2 {
		if err := s.DeleteToken(ctx, "okta", sub); err != nil {
			t.Fatalf("DeleteToken: %v", err)
		}
	}
	if _, err := s.LoadToken(ctx, "okta", sub); !errors.Is(err, oauth2provider.ErrNotFound) {
		t.Fatalf("LoadToken after delete: %v", err)
	}
	if got := load(t, s, "github", sub); got != "kept" {
		t.Fatalf("delete removed another IdP's token: %q", got)
	}
}

func testTokenConcurrent(t *testing.T, s oauth2provider.TokenStore) {
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			sub := random("user-")
			for j := range 5 {
				v := sub + "-" + string(rune('a'+j))
				if err := s.SaveToken(ctx, "okta", sub, v); err != nil {
					t.Error(err)
					return
				}
				if got, err := s.LoadToken(ctx, "okta", sub); err != nil || got != v {
					t.Errorf("LoadToken = %q, %v; want %q", got, err, v)
					return
				}
			}
		})
	}
	wg.Wait()
}

func testTokenCanceled(t *testing.T, s oauth2provider.TokenStore) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sub := random("user-")
	if err := s.SaveToken(ctx, "okta", sub, "v"); err == nil {
		t.Error("SaveToken with a canceled context succeeded")
	}
	if _, err := s.LoadToken(ctx, "okta", sub); err == nil {
		t.Error("LoadToken with a canceled context succeeded")
	}
}
