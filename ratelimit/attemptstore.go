package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

// AttemptStore keeps the failure records of an [AttemptsLimiter]. A store
// shared by several processes (PostgreSQL, Redis) makes the throttling hold
// across all of them.
//
// A key with no record behaves as a key with no failures: no method returns a
// not-found error.
//
// Implementations must be safe for concurrent use. [Attempt] is the one
// operation that must be atomic: reading the record, checking the lock and
// the delay, and recording the new failure happen as a single step, so that
// concurrent callers can never be allowed more attempts than the policy
// grants (100 concurrent attempts on a fresh key with no delays and
// MaxFailures 5: exactly 5 are allowed). On Redis this is one Lua script (or
// a WATCH/MULTI transaction retried on conflict); on PostgreSQL one
// transaction holding the row lock (SELECT ... FOR UPDATE, then an upsert).
// Adapters written in Go compute the transition with [AttemptPolicy.Apply];
// others must reproduce it exactly, which the conformance suite in package
// ratelimittest checks.
//
// Every method honours ctx: a slow store must give up when ctx is done.
type AttemptStore interface {
	// Attempt applies p to key's record at now with reserve set (see
	// [AttemptPolicy.Apply]), stores the resulting record (deleting it when
	// it is empty) and returns the decision, atomically.
	Attempt(ctx context.Context, key string, now time.Time, p AttemptPolicy) (AttemptDecision, error)
	// Status returns the decision [AttemptPolicy.Apply] gives for key's record
	// at now without reserving. It must not change what later calls decide
	// (it may delete a record that has expired).
	Status(ctx context.Context, key string, now time.Time, p AttemptPolicy) (AttemptDecision, error)
	// Reset deletes key's record: the failures and any lock. Resetting a key
	// that has no record is not an error.
	Reset(ctx context.Context, key string) error
}

// AttemptPolicy is the throttling policy an [AttemptsLimiter] hands to its
// [AttemptStore] on every call, defaults filled in. It is a value: stores
// must not keep it between calls. Its methods only read it, so one policy is
// safe for concurrent use as long as nobody modifies Delays.
type AttemptPolicy struct {
	// Window is how long a failure counts: a failure at time t is forgotten
	// once now-t >= Window.
	Window time.Duration
	// Delays is the delay schedule: after n counted failures the next
	// attempt must wait Delays[min(n,len(Delays))-1] after the latest one. A
	// zero entry means no delay.
	Delays []time.Duration
	// MaxFailures is the number of counted failures that locks the key for
	// LockoutDuration. Zero or negative disables locking.
	MaxFailures int
	// LockoutDuration is how long a lock lasts, from the attempt that reached
	// MaxFailures.
	LockoutDuration time.Duration
}

// AttemptRecord is the stored state of one key. Its zero value is a key with
// no failures. It is a plain value; [AttemptPolicy.Apply] never modifies the
// record it is given.
type AttemptRecord struct {
	// Failures holds the times of the counted failures, oldest first. At most
	// [AttemptPolicy.MaxTracked] are kept: the newest ones.
	Failures []time.Time
	// LockedUntil is the end of the current lock; zero when not locked.
	LockedUntil time.Time
}

// Empty reports whether r holds nothing worth storing.
func (r AttemptRecord) Empty() bool { return len(r.Failures) == 0 && r.LockedUntil.IsZero() }

// ExpiresAt returns when r stops affecting any decision under p: the end of
// the lock or the time the newest failure leaves the window, whichever is
// later. Stores may delete the record at that time (a Redis PEXPIREAT, a
// PostgreSQL sweep).
func (r AttemptRecord) ExpiresAt(p AttemptPolicy) time.Time {
	var t time.Time
	if n := len(r.Failures); n > 0 {
		t = r.Failures[n-1].Add(p.Window)
	}
	if r.LockedUntil.After(t) {
		t = r.LockedUntil
	}
	return t
}

// MaxTracked returns how many failure times a record keeps under p:
// max(MaxFailures, len(Delays), 1). Failures counts saturate there; nothing
// the policy decides depends on older ones.
func (p AttemptPolicy) MaxTracked() int {
	return max(p.MaxFailures, len(p.Delays), 1)
}

// Apply computes one step of the attempts policy for a key whose stored
// record is rec, at time now. It returns the record to store (never sharing
// memory with rec) and the decision. With reserve false it is the read-only
// status: the returned record only drops what has expired.
//
// The rules, in order:
//
//  1. A lock still running at now denies, with Locked set and RetryAfter the
//     time left (at most LockoutDuration). A lock that has ended clears the
//     record: the failures that caused it are spent.
//  2. Failures that left the window are forgotten.
//  3. With n failures left, an attempt before the latest failure plus
//     Delays[min(n,len(Delays))-1] is denied, with RetryAfter the time left
//     (at most that delay).
//  4. Otherwise the attempt is allowed. With reserve, it is recorded as a
//     failure at now (the caller clears it on success) and, when it brings
//     the count to MaxFailures, the lock starts: LockedUntil = now +
//     LockoutDuration.
//
// Denied attempts are never counted.
func (p AttemptPolicy) Apply(rec AttemptRecord, now time.Time, reserve bool) (AttemptRecord, AttemptDecision) {
	if !rec.LockedUntil.IsZero() {
		if now.Before(rec.LockedUntil) {
			out := AttemptRecord{Failures: p.live(rec.Failures, now), LockedUntil: rec.LockedUntil}
			return out, AttemptDecision{
				Locked:     true,
				Failures:   len(out.Failures),
				RetryAfter: min(rec.LockedUntil.Sub(now), p.LockoutDuration),
			}
		}
		rec = AttemptRecord{}
	}
	fails := p.live(rec.Failures, now)
	n := len(fails)
	if n > 0 && len(p.Delays) > 0 {
		d := p.Delays[min(n, len(p.Delays))-1]
		if wait := fails[n-1].Add(d).Sub(now); wait > 0 {
			return AttemptRecord{Failures: fails}, AttemptDecision{Failures: n, RetryAfter: min(wait, d)}
		}
	}
	locks := p.MaxFailures > 0 && n+1 >= p.MaxFailures
	if !reserve {
		return AttemptRecord{Failures: fails}, AttemptDecision{Allowed: true, Failures: n, LocksOnFailure: locks}
	}
	fails = append(fails, now)
	if keep := p.MaxTracked(); len(fails) > keep {
		fails = fails[len(fails)-keep:]
	}
	out := AttemptRecord{Failures: fails}
	if locks {
		out.LockedUntil = now.Add(p.LockoutDuration)
	}
	return out, AttemptDecision{Allowed: true, Failures: min(n+1, p.MaxTracked()), LocksOnFailure: locks}
}

// live returns a fresh copy of the failures still inside the window at now.
func (p AttemptPolicy) live(fails []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(fails) && now.Sub(fails[i]) >= p.Window {
		i++
	}
	if i == len(fails) {
		return nil
	}
	out := make([]time.Time, len(fails)-i, len(fails)-i+1)
	copy(out, fails[i:])
	return out
}

// validate reports whether p is a policy a store can apply.
func (p AttemptPolicy) validate() error {
	if p.Window <= 0 {
		return fmt.Errorf("%w: attempts window must be positive", ErrInvalidConfig)
	}
	for _, d := range p.Delays {
		if d < 0 || d > p.Window {
			return fmt.Errorf("%w: attempt delay %v outside [0, window %v]", ErrInvalidConfig, d, p.Window)
		}
	}
	if p.MaxFailures > 0 && p.LockoutDuration <= 0 {
		return fmt.Errorf("%w: lockout duration must be positive", ErrInvalidConfig)
	}
	return nil
}

// ErrInvalidConfig is wrapped by constructors given an invalid configuration.
var ErrInvalidConfig = errors.New("ratelimit: invalid configuration")

// DefaultMaxAttemptKeys is the key cap of a [MemoryAttemptStore] whose
// MaxKeys is zero.
const DefaultMaxAttemptKeys = 100_000

// MemoryAttemptStoreConfig configures a [MemoryAttemptStore].
type MemoryAttemptStoreConfig struct {
	// MaxKeys caps the number of keys held. Zero means
	// [DefaultMaxAttemptKeys]. When a new key arrives at the cap, the store
	// evicts one record chosen from a small sample: an expired one if any,
	// else an unlocked one before a locked one, the one expiring soonest
	// first. A flood of fresh keys therefore displaces plain failure records
	// before running locks; an attacker who can lock more keys than the cap
	// holds can still displace locks, so size the cap (or use a shared
	// store) for the traffic you expect. Every record is small:
	// MaxTracked failure times and a lock time.
	MaxKeys int
}

// attemptShards is the most shards a MemoryAttemptStore splits its keys
// over; each shard holds MaxKeys/shards keys at most.
const attemptShards = 16

// MemoryAttemptStore is an [AttemptStore] held in process memory, bounded by
// a key cap. It is safe for concurrent use. It throttles only the process
// that holds it: several instances of a service need a shared store.
type MemoryAttemptStore struct {
	seed     maphash.Seed
	perShard int
	shards   []attemptShard
}

type attemptShard struct {
	mu      sync.Mutex // guards records
	records map[string]attemptEntry
}

type attemptEntry struct {
	rec     AttemptRecord
	expires time.Time
}

var _ AttemptStore = (*MemoryAttemptStore)(nil)

// NewMemoryAttemptStore returns an empty store.
func NewMemoryAttemptStore(cfg MemoryAttemptStoreConfig) (*MemoryAttemptStore, error) {
	if cfg.MaxKeys < 0 {
		return nil, fmt.Errorf("%w: negative MaxKeys", ErrInvalidConfig)
	}
	if cfg.MaxKeys == 0 {
		cfg.MaxKeys = DefaultMaxAttemptKeys
	}
	n := min(attemptShards, cfg.MaxKeys)
	s := &MemoryAttemptStore{seed: maphash.MakeSeed(), perShard: cfg.MaxKeys / n, shards: make([]attemptShard, n)}
	for i := range s.shards {
		s.shards[i].records = make(map[string]attemptEntry)
	}
	return s, nil
}

func (s *MemoryAttemptStore) shard(key string) *attemptShard {
	return &s.shards[maphash.String(s.seed, key)%uint64(len(s.shards))]
}

// Attempt implements [AttemptStore].
func (s *MemoryAttemptStore) Attempt(ctx context.Context, key string, now time.Time, p AttemptPolicy) (AttemptDecision, error) {
	return s.apply(ctx, key, now, p, true)
}

// Status implements [AttemptStore].
func (s *MemoryAttemptStore) Status(ctx context.Context, key string, now time.Time, p AttemptPolicy) (AttemptDecision, error) {
	return s.apply(ctx, key, now, p, false)
}

func (s *MemoryAttemptStore) apply(ctx context.Context, key string, now time.Time, p AttemptPolicy, reserve bool) (AttemptDecision, error) {
	if err := ctx.Err(); err != nil {
		return AttemptDecision{}, err
	}
	if err := p.validate(); err != nil {
		return AttemptDecision{}, err
	}
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old, found := sh.records[key]
	rec, dec := p.Apply(old.rec, now, reserve)
	switch {
	case rec.Empty():
		delete(sh.records, key)
	case found || reserve:
		if !found && len(sh.records) >= s.perShard {
			sh.evict(now)
		}
		sh.records[key] = attemptEntry{rec: rec, expires: rec.ExpiresAt(p)}
	}
	return dec, nil
}

// evictSample is how many records are examined to choose an eviction.
const evictSample = 8

// evict removes one record: the first expired one met, else, among a
// sample, an unlocked record before a locked one and then the one expiring
// soonest. Go's map iteration starts at a random position, so the sample
// differs from call to call. Preferring unlocked records means a flood of
// fresh keys cannot displace a running lock unless it locks as many keys.
func (sh *attemptShard) evict(now time.Time) {
	var victim string
	var vLocked bool
	var vExpires time.Time
	n := 0
	for k, e := range sh.records {
		if !e.expires.After(now) {
			victim = k
			break
		}
		locked := e.rec.LockedUntil.After(now)
		if n == 0 || (vLocked && !locked) || (vLocked == locked && e.expires.Before(vExpires)) {
			victim, vLocked, vExpires = k, locked, e.expires
		}
		if n++; n == evictSample {
			break
		}
	}
	delete(sh.records, victim)
}

// Reset implements [AttemptStore].
func (s *MemoryAttemptStore) Reset(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh := s.shard(key)
	sh.mu.Lock()
	delete(sh.records, key)
	sh.mu.Unlock()
	return nil
}

// Len returns the number of keys held.
func (s *MemoryAttemptStore) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.records)
		sh.mu.Unlock()
	}
	return n
}
