package jwtprovider

import (
	"context"
	"testing"
	"time"
)

func TestCacheIsBounded(t *testing.T) {
	k, err := NewHMACKey("k", HS256, []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	p, err := New(Config{Issuer: "i", Audience: []string{"a"}, Keys: []Key{k}, CacheSize: 64, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 1000 {
		tok, err := p.Issue(ctx, Subject{ID: "u"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Verify(ctx, tok.Value); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.cache.len(); n == 0 || n > 64 {
		t.Fatalf("cache holds %d entries, want 1..64", n)
	}
}

func TestCacheDisplacesExpiredEntriesFirst(t *testing.T) {
	c := newTokenCache(cacheShards) // one entry per shard
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	h := uint64(5)
	old := &cacheEntry{token: "old", exp: now.Add(-time.Second)}
	c.put(h, old, now)
	fresh := &cacheEntry{token: "fresh", exp: now.Add(time.Hour)}
	c.put(h+cacheShards, fresh, now) // same shard, full: the expired one goes
	if c.get(h, "old") != nil || c.get(h+cacheShards, "fresh") != fresh {
		t.Fatal("the expired entry was not displaced")
	}
	if c.get(h+cacheShards, "fresh-but-other-token") != nil {
		t.Fatal("a hash match with a different token was a hit")
	}
}
