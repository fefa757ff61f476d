package jwtprovider_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

func TestCacheServesRepeatedTokens(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	tok, _ := f.p.Issue(ctx, jwtprovider.Subject{ID: "u"})
	c1, err := f.p.Verify(ctx, tok.Value)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := f.p.Verify(ctx, tok.Value)
	if err != nil {
		t.Fatal(err)
	}
	if c1 != c2 {
		t.Fatal("a repeated token was verified again; want the cached claims")
	}
	if allocs := testing.AllocsPerRun(100, func() { _, _ = f.p.Verify(ctx, tok.Value) }); allocs != 0 {
		t.Fatalf("a cache hit allocated %v times", allocs)
	}

	off := newFixture(t, func(c *jwtprovider.Config) { c.DisableCache = true })
	tok2, _ := off.p.Issue(ctx, jwtprovider.Subject{ID: "u"})
	d1, _ := off.p.Verify(ctx, tok2.Value)
	d2, _ := off.p.Verify(ctx, tok2.Value)
	if d1 == nil || d1 == d2 {
		t.Fatal("DisableCache still caches")
	}
}

func TestCacheEntriesNeverOutliveExp(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	tok, _ := f.p.Issue(ctx, jwtprovider.Subject{ID: "u"})
	f.clock.Set(tok.ExpiresAt.Add(-time.Second))
	cached, err := f.p.Verify(ctx, tok.Value)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Set(tok.ExpiresAt)
	// Within the leeway the token is still accepted, but by full
	// verification, not from the cache.
	again, err := f.p.Verify(ctx, tok.Value)
	if err != nil {
		t.Fatalf("at exp, inside the leeway: %v", err)
	}
	if again == cached {
		t.Fatal("the cache served a token at its exp")
	}
	f.clock.Set(tok.ExpiresAt.Add(jwtprovider.DefaultLeeway))
	if _, err := f.p.Verify(ctx, tok.Value); !errors.Is(err, auth.ErrTokenExpired) {
		t.Fatalf("after exp+leeway: %v, want token_expired", err)
	}
}

func TestCacheHonoursKeyRemoval(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *jwtprovider.Config) { c.ActiveKeyID = "rs-1" })
	tok, _ := f.p.Issue(ctx, jwtprovider.Subject{ID: "u"})
	if _, err := f.p.Verify(ctx, tok.Value); err != nil {
		t.Fatal(err)
	}
	if err := f.p.ActivateKey("es-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.p.Verify(ctx, tok.Value); err != nil {
		t.Fatalf("a token of the previous active key: %v", err)
	}
	if err := f.p.RemoveKey("rs-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.p.Verify(ctx, tok.Value); !errors.Is(err, jwtprovider.ErrUnknownKey) {
		t.Fatalf("a cached token of a removed key: %v, want ErrUnknownKey", err)
	}
}

func TestCacheConcurrentUse(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *jwtprovider.Config) { c.CacheSize = 32 })
	toks := make([]string, 64)
	for i := range toks {
		tok, err := f.p.Issue(ctx, jwtprovider.Subject{ID: "u"})
		if err != nil {
			t.Fatal(err)
		}
		toks[i] = tok.Value
	}
	revoked := toks[0]
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				tok := toks[(g*7+i)%len(toks)]
				_, err := f.p.Verify(ctx, tok)
				if err != nil && !(tok == revoked && errors.Is(err, auth.ErrTokenRevoked)) {
					t.Errorf("Verify: %v", err)
					return
				}
			}
		}()
	}
	if err := f.p.Revoke(ctx, revoked); err != nil {
		t.Error(err)
	}
	wg.Wait()
	if _, err := f.p.Verify(ctx, revoked); !errors.Is(err, auth.ErrTokenRevoked) {
		t.Fatalf("revoked token: %v", err)
	}
}
