package ratelimit

import (
	"context"
	"fmt"
	"hash/maphash"
	"math/bits"
	"sync"
	"time"
)

// DefaultMaxKeys is the key cap of a [MemoryLimiter] whose MaxKeys is zero.
const DefaultMaxKeys = 1 << 20

// MemoryConfig configures a [MemoryLimiter]: each key may make Limit requests
// per Period, at most Burst of them at once.
type MemoryConfig struct {
	// Limit is the number of requests a key may make per Period. It must be
	// positive: a limiter without a limit is a configuration mistake, so the
	// zero value is rejected rather than guessed.
	Limit int
	// Period is the time over which Limit requests are allowed. Zero means
	// one minute. A key's allowance refills steadily, one request every
	// Period/Limit, not all at once at the end of the period.
	Period time.Duration
	// Burst is the number of requests a key may make at once when it has
	// been idle. Zero means Limit.
	Burst int
	// MaxKeys is the hard cap on keys tracked at once. Zero means
	// [DefaultMaxKeys] (about 1 million keys; see [MemoryLimiter] for the
	// memory this takes). At the cap a new key displaces an idle one, or
	// failing that the one closest to idle among a small sample.
	MaxKeys int
	// Now is the clock. Nil means time.Now (its monotonic reading, so that
	// wall-clock jumps do not move limits).
	Now func() time.Time
}

// memoryShards is the most shards a MemoryLimiter splits its keys over, so
// that parallel requests on different keys rarely wait on the same mutex.
const memoryShards = 64

// MemoryLimiter is an in-process [Limiter] implementing the generic cell rate
// algorithm (GCRA): per key it stores one number, the theoretical arrival time
// of the next request, which makes each decision a few arithmetic steps under
// a shard mutex, with no allocation once the key is known.
//
// Keys are identified by a 64-bit hash keyed with a random per-limiter seed
// (hash/maphash), never stored as strings: memory per key does not depend on
// the key's length. Two distinct keys share a bucket only if their hashes
// collide, which for n keys happens with probability about n²/2⁶⁵ and cannot
// be aimed at without the seed.
//
// Memory is bounded by MaxKeys. A key is idle when its allowance is full
// again; forgetting an idle key changes no decision, so idle keys are the
// first to go when a new key arrives at the cap. If none of the sampled keys
// is idle, the one closest to idle is dropped, which can give that key up to
// a fresh Burst early. The cap is split evenly over the shards, so a shard
// may displace keys slightly before the whole limiter holds MaxKeys. A
// tracked key costs at most [MemoryBytesPerKey] bytes of heap, so the default
// cap bounds the limiter to about 48 MiB.
//
// A MemoryLimiter limits only the process that holds it; never returns an
// error; and is safe for concurrent use.
type MemoryLimiter struct {
	seed     maphash.Seed
	interval int64 // nanoseconds between requests at the sustained rate
	tau      int64 // interval * burst: how far the arrival time may run ahead
	burst    int
	perShard int
	mask     uint64
	epoch    time.Time
	now      func() time.Time // nil: time.Since(epoch)
	shards   []memoryShard
}

// elapsed returns the current time in nanoseconds since l.epoch. Without an
// injected clock it reads only the monotonic clock (time.Since), which costs
// about half of time.Now.
func (l *MemoryLimiter) elapsed() int64 {
	if l.now == nil {
		return int64(time.Since(l.epoch))
	}
	return int64(l.now().Sub(l.epoch))
}

// MemoryBytesPerKey is an upper bound on the heap a [MemoryLimiter] uses per
// tracked key, checked by the package's tests with runtime.MemStats. A key
// takes one 16-byte slot (hash and arrival time) in a table kept between 3/8
// and 3/4 full, so 21 to 43 bytes; the tests measure 23 bytes at 10,000 keys
// and 35 to 41 at 100,000 to 200,000. Tables grow but never shrink: the heap
// stays at the high-water mark, which the key cap bounds.
const MemoryBytesPerKey = 48

type memoryShard struct {
	mu    sync.Mutex // guards slots and n
	slots []slot     // open addressing with linear probing; len is a power of two
	n     int        // occupied slots
	_     [64 - 40]byte
}

// slot is one tracked key: its hash (0 marks an empty slot) and its
// theoretical arrival time in nanoseconds since the limiter's epoch.
type slot struct {
	h   uint64
	tat int64
}

var _ Limiter = (*MemoryLimiter)(nil)

// NewMemoryLimiter validates cfg, fills its defaults and returns the
// limiter. It returns an error wrapping [ErrInvalidConfig] when Limit is not
// positive, a field is negative, or Period/Limit is under a nanosecond.
func NewMemoryLimiter(cfg MemoryConfig) (*MemoryLimiter, error) {
	interval, burst, err := GCRAParams(cfg.Limit, cfg.Period, cfg.Burst, 1<<62)
	if err != nil {
		return nil, err
	}
	if cfg.MaxKeys < 0 {
		return nil, fmt.Errorf("%w: negative MaxKeys", ErrInvalidConfig)
	}
	if cfg.MaxKeys == 0 {
		cfg.MaxKeys = DefaultMaxKeys
	}
	epoch := time.Now()
	if cfg.Now != nil {
		epoch = cfg.Now()
	}
	n := 1 << (bits.Len(uint(min(memoryShards, cfg.MaxKeys))) - 1) // a power of two <= MaxKeys
	l := &MemoryLimiter{
		seed:     maphash.MakeSeed(),
		interval: interval,
		tau:      interval * int64(burst),
		burst:    burst,
		perShard: cfg.MaxKeys / n,
		mask:     uint64(n - 1),
		epoch:    epoch,
		now:      cfg.Now,
		shards:   make([]memoryShard, n),
	}
	for i := range l.shards {
		l.shards[i].slots = make([]slot, minSlots)
	}
	return l, nil
}

// Allow implements [Limiter]. It never returns an error.
func (l *MemoryLimiter) Allow(ctx context.Context, key string) (Decision, error) {
	return l.AllowN(ctx, key, 1)
}

// AllowN implements [Limiter]. It never returns an error. n larger than the
// burst is never allowed; a negative n is treated as 0.
func (l *MemoryLimiter) AllowN(_ context.Context, key string, n int) (Decision, error) {
	n = max(n, 0)
	now := l.elapsed()
	h := maphash.String(l.seed, key) | 1<<63 // never 0, the empty mark
	sh := &l.shards[h&l.mask]
	cost := int64(min(n, l.burst+1)) * l.interval

	sh.mu.Lock()
	i, found := sh.find(h)
	tat := now
	if found && sh.slots[i].tat > now {
		tat = sh.slots[i].tat
	}
	next := tat + cost
	allowed := next-l.tau <= now
	if allowed && n > 0 {
		if found {
			sh.slots[i].tat = next
		} else {
			sh.insert(h, next, now, l.perShard)
		}
		tat = next
	}
	sh.mu.Unlock()

	d := Decision{
		Allowed:   allowed,
		Limit:     l.burst,
		Remaining: int((l.tau - (tat - now)) / l.interval),
		ResetAt:   l.epoch.Add(time.Duration(tat)),
	}
	if !allowed {
		d.RetryAfter = time.Duration(next - l.tau - now)
		if n > l.burst {
			d.RetryAfter = time.Duration(tat - now) // never allowed; retry when full
		}
	}
	return d, nil
}

// minSlots is the initial table size of a shard.
const minSlots = 8

// evictSampleKeys is how many keys eviction examines.
const evictSampleKeys = 8

// find returns the index of h's slot and true, or the index of the empty slot
// that ends its probe sequence and false.
func (sh *memoryShard) find(h uint64) (int, bool) {
	m := uint64(len(sh.slots) - 1)
	for i := (h >> 8) & m; ; i = (i + 1) & m {
		switch sh.slots[i].h {
		case h:
			return int(i), true
		case 0:
			return int(i), false
		}
	}
}

// insert adds h, known to be absent, keeping the shard within capacity keys
// (evicting one when full) and the table at most 3/4 full (growing it).
func (sh *memoryShard) insert(h uint64, tat, now int64, capacity int) {
	if sh.n >= capacity {
		sh.evict(h, now)
	}
	if (sh.n+1)*4 > len(sh.slots)*3 {
		sh.grow()
	}
	i, _ := sh.find(h)
	sh.slots[i] = slot{h: h, tat: tat}
	sh.n++
}

// grow doubles the table and reinserts every key.
func (sh *memoryShard) grow() {
	old := sh.slots
	sh.slots = make([]slot, 2*len(old))
	for _, s := range old {
		if s.h != 0 {
			i, _ := sh.find(s.h)
			sh.slots[i] = s
		}
	}
}

// evict removes one key: the first idle one met (its allowance is full, so
// forgetting it changes nothing), else the one with the earliest arrival time
// among a sample of evictSampleKeys keys. The sample starts at a position
// derived from the incoming key's hash, which varies from call to call and
// cannot be predicted without the seed.
func (sh *memoryShard) evict(h uint64, now int64) {
	m := len(sh.slots) - 1
	victim, seen, sample := -1, 0, min(evictSampleKeys, sh.n)
	for i := int(h>>32) & m; seen < sample; i = (i + 1) & m {
		s := sh.slots[i]
		if s.h == 0 {
			continue
		}
		if s.tat <= now {
			victim = i
			break
		}
		if victim < 0 || s.tat < sh.slots[victim].tat {
			victim = i
		}
		seen++
	}
	sh.remove(victim)
}

// remove empties slot i, shifting later members of its probe run back so
// that no lookup stops early at the new hole (no tombstones are needed).
func (sh *memoryShard) remove(i int) {
	m := len(sh.slots) - 1
	for j := (i + 1) & m; sh.slots[j].h != 0; j = (j + 1) & m {
		home := int(sh.slots[j].h>>8) & m
		// The key at j may move to i unless its home lies cyclically in (i, j].
		if (i <= j && i < home && home <= j) || (i > j && (i < home || home <= j)) {
			continue
		}
		sh.slots[i] = sh.slots[j]
		i = j
	}
	sh.slots[i] = slot{}
	sh.n--
}

// Len returns the number of keys tracked.
func (l *MemoryLimiter) Len() int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += sh.n
		sh.mu.Unlock()
	}
	return n
}
