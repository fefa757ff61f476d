package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	goredis "github.com/redis/go-redis/v9"
)

// Defaults of RevocationConfig.
const (
	DefaultRevocationPollInterval = jwtprovider.DefaultMirrorPollInterval
	DefaultRevocationMaxStaleness = jwtprovider.DefaultMirrorMaxStaleness
)

// RevocationConfig configures a [RevocationStore]: PollInterval is how
// often the mirror asks Redis for the revocation counter, to catch what
// pub/sub missed and to prove it is current; MaxStaleness the bound beyond
// which it refuses to answer.
type RevocationConfig = jwtprovider.MirrorConfig

// RevocationStore is a [jwtprovider.RevocationStore] shared by every
// instance through Redis, with an in-process mirror, so that verifying a
// token makes no network call.
//
// Revocations live in two hashes, "<prefix>{rev}:ids" (token and family
// IDs) and "<prefix>{rev}:subjects" (per-subject cut-offs), next to a
// counter "<prefix>{rev}:version". Revoke is one script that merges the
// record (a cut-off never moves back), increments the counter and
// publishes the merged record on the channel "<prefix>revocations"; the
// store then applies it to its own mirror before returning.
//
// Every mirror subscribes to that channel, so revocations from other
// instances usually arrive within a round trip. Behind it, a poll every
// PollInterval reads the counter; a counter ahead of what the mirror has
// applied (a message lost to a reconnection, a gap in the versions) makes
// it reload both hashes. A poll that completes proves the mirror holds
// every revocation made before it started. So a revocation is enforced on
// every instance within MaxStaleness (default 1 s) of Revoke returning, or
// the instance refuses tokens: its Check fails with ErrMirrorStale (the
// provider answers 503) once its last successful poll is older than
// MaxStaleness, for example while Redis is unreachable.
//
// Records are dropped, in Redis every 1024 revocations and in the mirror as
// it grows, once a later revocation's At has passed their Until. Cut-offs
// are kept to the microsecond, rounded up.
//
// It is safe for concurrent use. Call Close to stop its goroutine.
type RevocationStore struct {
	db      *DB
	ids     string
	subs    string
	version string
	channel string
	poll    time.Duration
	stale   time.Duration
	now     func() time.Time

	// set holds the revocations received so far; Check answers from it.
	set      *jwtprovider.MemoryRevocationStore
	mu       sync.RWMutex // guards applied
	applied  int64        // every version up to applied is in the mirror
	lastSync atomic.Int64

	ps     *goredis.PubSub
	cancel context.CancelFunc
	done   chan struct{}
	closed sync.Once
}

var (
	_ jwtprovider.RevocationStore  = (*RevocationStore)(nil)
	_ jwtprovider.RevocationMirror = (*RevocationStore)(nil)
)

// Revocations subscribes to the revocation channel, loads every stored
// revocation into a new mirror, and starts the goroutine that keeps it
// current. It fails when Redis cannot be reached within ctx: a store that
// starts without its mirror would have nothing to vouch for.
func (db *DB) Revocations(ctx context.Context, cfg RevocationConfig) (*RevocationStore, error) {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("%w: revocations: %w", ErrInvalidConfig, err)
	}
	s := &RevocationStore{
		db:      db,
		ids:     db.prefix + "{rev}:ids",
		subs:    db.prefix + "{rev}:subjects",
		version: db.prefix + "{rev}:version",
		channel: db.prefix + "revocations",
		poll:    cfg.PollInterval,
		stale:   cfg.MaxStaleness,
		now:     cfg.Now,
		set:     jwtprovider.NewMemoryRevocationStore(),
		done:    make(chan struct{}),
	}
	// Subscribe before loading, so that nothing revoked in between is
	// missed.
	ps := db.client.Subscribe(ctx, s.channel)
	if _, err := ps.Receive(ctx); err != nil {
		ps.Close()
		return nil, fmt.Errorf("redis: subscribe to revocations: %w", err)
	}
	start := s.now()
	if err := s.resync(ctx); err != nil {
		ps.Close()
		return nil, err
	}
	s.lastSync.Store(start.UnixNano())
	s.ps = ps
	bg, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.run(bg)
	return s, nil
}

// Close stops the mirror's goroutine and its subscription. The mirror then
// goes stale. Close is idempotent.
func (s *RevocationStore) Close() error {
	var err error
	s.closed.Do(func() {
		s.cancel()
		err = s.ps.Close()
		<-s.done
	})
	return err
}

// revokeScript merges one revocation. KEYS: ids, subjects, version. ARGV:
// kind ("I" or "S"), key, at (µs), until (µs), channel. It publishes and
// returns "<version> <kind> <at> <until> <key>" with the merged values.
var revokeScript = goredis.NewScript(`
local kind, key, at, untl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if kind == 'I' then
  local old = redis.call('HGET', KEYS[1], key)
  if old and tonumber(old) > untl then
    untl = tonumber(old)
  end
  redis.call('HSET', KEYS[1], key, string.format('%d', untl))
else
  local old = redis.call('HGET', KEYS[2], key)
  if old then
    local oa, ou = string.match(old, '^(-?%d+) (-?%d+)$')
    if tonumber(oa) > at then at = tonumber(oa) end
    if tonumber(ou) > untl then untl = tonumber(ou) end
  end
  redis.call('HSET', KEYS[2], key, string.format('%d %d', at, untl))
end
local v = redis.call('INCR', KEYS[3])
if v % 1024 == 0 then
  local now = tonumber(ARGV[3])
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    if tonumber(all[i + 1]) < now then redis.call('HDEL', KEYS[1], all[i]) end
  end
  all = redis.call('HGETALL', KEYS[2])
  for i = 1, #all, 2 do
    local _, u = string.match(all[i + 1], '^(-?%d+) (-?%d+)$')
    if tonumber(u) < now then redis.call('HDEL', KEYS[2], all[i]) end
  end
end
local msg = string.format('%d %s %d %d ', v, kind, at, untl) .. key
redis.call('PUBLISH', ARGV[5], msg)
return msg
`)

// snapshotScript returns the counter and both hashes, read as one state.
var snapshotScript = goredis.NewScript(`
local v = redis.call('GET', KEYS[3]) or '0'
return {v, redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
`)

// Revoke implements [jwtprovider.RevocationStore.Revoke]: one script, then
// the merged record is applied to this store's mirror, so this instance
// enforces it before Revoke returns.
func (s *RevocationStore) Revoke(ctx context.Context, r jwtprovider.Revocation) error {
	if r.ID == "" && r.Subject == "" {
		return errors.New("redis: revocation needs an ID or a subject")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	kind, key := "I", r.ID
	if r.ID == "" {
		kind, key = "S", r.Subject
	}
	msg, err := revokeScript.Run(ctx, s.db.client, []string{s.ids, s.subs, s.version},
		kind, key, ceilMicro(r.At), ceilMicro(r.Until), s.channel).Text()
	if err != nil {
		return fmt.Errorf("redis: revoke: %w", err)
	}
	if _, err := s.apply(msg); err != nil {
		return fmt.Errorf("redis: revoke: %w", err)
	}
	return nil
}

// Mirror implements [jwtprovider.RevocationStore.Mirror]: the store itself.
func (s *RevocationStore) Mirror() jwtprovider.RevocationMirror { return s }

// Check implements [jwtprovider.RevocationMirror.Check] from memory. It
// fails with ErrMirrorStale when the last successful poll is older than
// MaxStaleness.
func (s *RevocationStore) Check(ref jwtprovider.TokenRef) error {
	if age := s.now().UnixNano() - s.lastSync.Load(); age > int64(s.stale) {
		return fmt.Errorf("redis: revocations last confirmed %v ago: %w", time.Duration(age), jwtprovider.ErrMirrorStale)
	}
	return s.set.Check(ref)
}

// run keeps the mirror current until ctx ends: it applies published
// records, reloads on a version gap or a reconnection, and polls the
// counter.
func (s *RevocationStore) run(ctx context.Context) {
	defer close(s.done)
	msgs := s.ps.ChannelWithSubscriptions()
	tick := time.NewTicker(s.poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-msgs:
			if !ok {
				return
			}
			switch m := m.(type) {
			case *goredis.Message:
				if gap, err := s.apply(m.Payload); err != nil || gap {
					s.pollOnce(ctx, true)
				}
			case *goredis.Subscription:
				// Subscribed again after a reconnection: what was
				// published meanwhile is lost.
				s.pollOnce(ctx, true)
			}
		case <-tick.C:
			s.pollOnce(ctx, false)
		}
	}
}

// pollOnce reads the counter and reloads when the mirror is behind it (or
// when force is set). On success it records the time it started as the
// time up to which the mirror is known to be complete.
func (s *RevocationStore) pollOnce(ctx context.Context, force bool) {
	ctx, cancel := context.WithTimeout(ctx, s.stale)
	defer cancel()
	start := s.now()
	if !force {
		v, err := s.db.client.Get(ctx, s.version).Int64()
		if err != nil && !errors.Is(err, goredis.Nil) {
			return
		}
		s.mu.RLock()
		force = v > s.applied
		s.mu.RUnlock()
	}
	if force {
		if err := s.resync(ctx); err != nil {
			return
		}
	}
	s.lastSync.Store(start.UnixNano())
}

// resync merges a snapshot of every stored revocation into the mirror.
func (s *RevocationStore) resync(ctx context.Context) error {
	v, err := snapshotScript.Run(ctx, s.db.client, []string{s.ids, s.subs, s.version}).Slice()
	if err != nil {
		return fmt.Errorf("redis: load revocations: %w", err)
	}
	if len(v) != 3 {
		return errors.New("redis: load revocations: malformed snapshot")
	}
	verStr, _ := v[0].(string)
	version, err := strconv.ParseInt(verStr, 10, 64)
	if err != nil {
		return fmt.Errorf("redis: load revocations: version %q", verStr)
	}
	ids, _ := v[1].([]any)
	subs, _ := v[2].([]any)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i+1 < len(ids); i += 2 {
		k, _ := ids[i].(string)
		u, _ := ids[i+1].(string)
		if until, err := strconv.ParseInt(u, 10, 64); err == nil {
			// The hash keeps no At for IDs; the zero time sweeps nothing.
			s.merge(jwtprovider.Revocation{ID: k, Until: time.UnixMicro(until)})
		}
	}
	for i := 0; i+1 < len(subs); i += 2 {
		k, _ := subs[i].(string)
		val, _ := subs[i+1].(string)
		a, u, _ := strings.Cut(val, " ")
		at, err1 := strconv.ParseInt(a, 10, 64)
		until, err2 := strconv.ParseInt(u, 10, 64)
		if err1 == nil && err2 == nil {
			s.merge(jwtprovider.Revocation{Subject: k, At: time.UnixMicro(at), Until: time.UnixMicro(until)})
		}
	}
	s.applied = max(s.applied, version)
	return nil
}

// apply merges one published record and reports whether versions before it
// are missing.
func (s *RevocationStore) apply(msg string) (gap bool, err error) {
	f := strings.SplitN(msg, " ", 5)
	if len(f) != 5 {
		return false, fmt.Errorf("malformed revocation message %q", msg)
	}
	version, err1 := strconv.ParseInt(f[0], 10, 64)
	at, err2 := strconv.ParseInt(f[2], 10, 64)
	until, err3 := strconv.ParseInt(f[3], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return false, fmt.Errorf("malformed revocation message %q", msg)
	}
	r := jwtprovider.Revocation{At: time.UnixMicro(at), Until: time.UnixMicro(until)}
	switch f[1] {
	case "I":
		r.ID = f[4]
	case "S":
		r.Subject = f[4]
	default:
		return false, fmt.Errorf("malformed revocation message %q", msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.merge(r)
	if version == s.applied+1 {
		s.applied = version
	}
	return version > s.applied, nil
}

// merge applies one record to the mirror. The set merges it as Revoke does
// (a cut-off never moves back) and drops records whose Until a later
// revocation's At has passed.
func (s *RevocationStore) merge(r jwtprovider.Revocation) {
	// It fails only for an empty key, which revokes nothing.
	_ = s.set.Revoke(context.Background(), r)
}

// ceilMicro returns t in Unix microseconds, rounded up, so that a cut-off
// never moves back.
func ceilMicro(t time.Time) int64 {
	us := t.UnixMicro()
	if time.UnixMicro(us).Before(t) {
		us++
	}
	return us
}
