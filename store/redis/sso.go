package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth2provider"
	goredis "github.com/redis/go-redis/v9"
)

// SSOReplayStore is an [oauth2provider.ReplayStore] in Redis: the replay
// guard of the OIDC client, shared by every instance of a service, so that
// a login callback completed on one instance cannot be played again on
// another.
//
// Each used flow is one key, "<prefix>sso:{<key>}", whose value is the
// flow's expiry in Unix microseconds, rounded up so that a flow is never
// forgotten early. MarkUsed is one script on that key, one round trip and
// atomic on the server: it refuses the key while the stored expiry is after
// the caller's now, and otherwise stores the new expiry. Of concurrent
// calls with one key, exactly one succeeds, on any number of instances.
//
// The decision compares the caller's times, never the server's clock, so
// it agrees with [oauth2provider.MemoryReplayStore] and a key may be used
// again as soon as the caller's clock passes its expiry. The key also
// carries a TTL of expiresAt-now plus the package's second of grace, so
// that Redis drops it once it can no longer decide anything and the key space
// stays bounded by the flows of the last few minutes. A call whose
// expiresAt is not after now stores nothing (a live key still makes it
// ErrReplayed). There is no entry limit: it never returns
// [oauth2provider.ErrStoreFull]; size maxmemory with a noeviction or
// volatile-* policy, as for every store of this package.
//
// There is deliberately no [oauth2provider.TokenStore] here: the sealed IdP
// tokens are durable records with no expiry that must survive a restart or
// a failover, while this store's keys all carry TTLs and may be lost with
// the server's memory. Keep the tokens in PostgreSQL or SQLite.
//
// It is safe for concurrent use.
type SSOReplayStore struct {
	db *DB
}

var _ oauth2provider.ReplayStore = (*SSOReplayStore)(nil)

// SSOReplay returns the replay store of the OIDC client
// ([oauth2provider.Config]'s ReplayStore).
func (db *DB) SSOReplay() *SSOReplayStore { return &SSOReplayStore{db: db} }

// markUsedScript marks KEYS[1] used. ARGV[1] is now and ARGV[2] the expiry
// (Unix µs), ARGV[3] the TTL in ms, 0 when the expiry is not after now.
// Reply {1} marked (or nothing to record), {0} replay.
var markUsedScript = goredis.NewScript(`
local old = redis.call('GET', KEYS[1])
if old and tonumber(old) > tonumber(ARGV[1]) then
  return {0}
end
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return {1}
`)

// MarkUsed implements [oauth2provider.ReplayStore.MarkUsed] as one script:
// the check and the insert are one atomic step. It returns
// [oauth2provider.ErrReplayed] if the key is stored with an expiry after
// now, and a wrapped error (never a decision) if Redis fails or ctx is done.
func (s *SSOReplayStore) MarkUsed(ctx context.Context, key string, now, expiresAt time.Time) error {
	var ttl int64
	if d := expiresAt.Sub(now); d > 0 {
		ttl = int64((d + ttlGrace + time.Millisecond - 1) / time.Millisecond)
	}
	v, err := s.db.run(ctx, markUsedScript, s.db.key("sso:", key),
		micro(now), strconv.FormatInt(ceilMicro(expiresAt), 10), ttl)
	if err != nil {
		return fmt.Errorf("redis: mark sso flow used: %w", err)
	}
	if len(v) != 1 {
		return errors.New("redis: mark sso flow used: malformed reply")
	}
	if v[0] == 0 {
		return oauth2provider.ErrReplayed
	}
	return nil
}
