package jwtprovider

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// DefaultCacheSize is the default number of verified access tokens the
// cache holds. An entry takes about 1 KiB for a typical token.
const DefaultCacheSize = 10_000

const cacheShards = 16

// tokenCache remembers access tokens that passed full verification, keyed
// by a hash of the whole token string, so that a token presented again
// skips base64, JSON and signature work. Safe for concurrent use.
//
// A hit requires the stored token to equal the presented one byte for byte
// (the hash only picks the slot), the entry to have been verified against
// the current key set, and the token not to have reached its "exp". The
// caller still checks revocation on every hit.
//
// The hash is hash/maphash with a per-cache random seed: an attacker cannot
// aim tokens at a slot, and a collision only costs a miss, since the full
// token is compared.
type tokenCache struct {
	seed     maphash.Seed
	perShard int
	shards   [cacheShards]cacheShard
}

type cacheShard struct {
	mu sync.RWMutex // guards m
	m  map[uint64]*cacheEntry
	_  [40]byte // keep shards on separate cache lines
}

// cacheEntry is immutable once stored, except for the lazily built
// principal.
type cacheEntry struct {
	token     string
	claims    *Claims
	ks        *keySet // the key set the token was verified with
	exp       time.Time
	principal atomic.Pointer[auth.Principal]
}

func newTokenCache(size int) *tokenCache {
	c := &tokenCache{seed: maphash.MakeSeed(), perShard: max(1, size/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[uint64]*cacheEntry)
	}
	return c
}

func (c *tokenCache) hash(token string) uint64 { return maphash.String(c.seed, token) }

func (c *tokenCache) shard(h uint64) *cacheShard { return &c.shards[h%cacheShards] }

// get returns the entry for token, or nil.
func (c *tokenCache) get(h uint64, token string) *cacheEntry {
	s := c.shard(h)
	s.mu.RLock()
	e := s.m[h]
	s.mu.RUnlock()
	if e == nil || e.token != token {
		return nil
	}
	return e
}

// put stores e, displacing an expired entry or, failing that, an arbitrary
// one when the shard is full.
func (c *tokenCache) put(h uint64, e *cacheEntry, now time.Time) {
	s := c.shard(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[h]; !ok && len(s.m) >= c.perShard {
		// Map iteration starts at a random place; look at a few entries.
		var victim uint64
		n := 0
		for k, old := range s.m {
			victim = k
			if !now.Before(old.exp) || n == 7 {
				break
			}
			n++
		}
		delete(s.m, victim)
	}
	s.m[h] = e
}

// remove drops the entry for h if it is e.
func (c *tokenCache) remove(h uint64, e *cacheEntry) {
	s := c.shard(h)
	s.mu.Lock()
	if s.m[h] == e {
		delete(s.m, h)
	}
	s.mu.Unlock()
}

// purge empties the cache.
func (c *tokenCache) purge() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.m)
		s.mu.Unlock()
	}
}

// len returns the number of entries.
func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
