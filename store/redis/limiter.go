package redis

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/ratelimit"
	goredis "github.com/redis/go-redis/v9"
)

// LimiterConfig configures a [Limiter]: each key may make Limit requests per
// Period, at most Burst of them at once. The fields mean what they mean in
// [ratelimit.MemoryConfig].
type LimiterConfig struct {
	// Name separates the counters of limiters that share a DB (say "login"
	// and "api"), so that each applies its own policy to its own keys.
	// Empty means "default". It must not contain '{' or '}'.
	Name string
	// Limit is the number of requests a key may make per Period. It must be
	// positive.
	Limit int
	// Period is the time over which Limit requests are allowed. Zero means
	// one minute. The allowance refills steadily, one request every
	// Period/Limit.
	Period time.Duration
	// Burst is the number of requests a key may make at once when it has
	// been idle. Zero means Limit.
	Burst int
	// Now is the clock. Nil means time.Now. Every instance sharing the
	// counters must have a clock close to the others': a decision is only
	// as precise as their agreement.
	Now func() time.Time
}

// maxTau bounds Burst*Period/Limit, in nanoseconds, so that the script's
// arithmetic on doubles stays exact (about 52 days).
const maxTau = 1 << 52

// Limiter is a [ratelimit.Limiter] in Redis implementing the generic cell
// rate algorithm, with the decisions of [ratelimit.MemoryLimiter]: per key it
// stores the theoretical arrival time of the next request
// ("<prefix>rate:<name>:{<key>}", seconds and nanoseconds), which expires a
// second after the key's allowance is full again, so idle keys cost nothing.
//
// Each decision is one EVALSHA (see the package doc): Redis runs the check
// and the update as one step, so concurrent requests through any number of
// instances never get more than the burst.
//
// It is safe for concurrent use.
type Limiter struct {
	db       *DB
	name     string
	interval int64 // nanoseconds between requests at the sustained rate
	burst    int
	now      func() time.Time
}

var _ ratelimit.Limiter = (*Limiter)(nil)

// Limiter validates cfg, fills its defaults and returns a limiter whose
// counters live in db. It returns an error wrapping
// [ratelimit.ErrInvalidConfig] when Limit is not positive, a field is
// negative, Period/Limit is under a nanosecond, Burst*Period/Limit exceeds
// about 52 days, or Name contains a brace.
func (db *DB) Limiter(cfg LimiterConfig) (*Limiter, error) {
	interval, burst, err := ratelimit.GCRAParams(cfg.Limit, cfg.Period, cfg.Burst, maxTau)
	if err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = "default"
	}
	if strings.ContainsAny(cfg.Name, "{}") {
		return nil, fmt.Errorf("%w: limiter name %q contains a brace", ratelimit.ErrInvalidConfig, cfg.Name)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Limiter{db: db, name: cfg.Name, interval: interval, burst: burst, now: cfg.Now}, nil
}

// gcraScript decides one request batch.
//
// KEYS[1] holds the theoretical arrival time (TAT) as "<unix seconds>
// <nanoseconds>". ARGV: now (unix seconds), now (nanoseconds), n, interval
// (ns), burst. The reply is {allowed, remaining, TAT after the call minus
// now (ns), retry after (ns)}, the arithmetic of ratelimit.MemoryLimiter.
// Differences from now stay below 2^53 ns, so doubles hold them exactly; a
// TAT further in the past than that is simply "idle".
var gcraScript = goredis.NewScript(`
local now_s = tonumber(ARGV[1])
local now_ns = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local interval = tonumber(ARGV[4])
local burst = tonumber(ARGV[5])
local tau = interval * burst

local t = 0
local raw = redis.call('GET', KEYS[1])
if raw then
  local s, ns = string.match(raw, '^(-?%d+) (%d+)$')
  if s then
    local ds = tonumber(s) - now_s
    if ds > -4000000 then
      t = math.max(ds * 1000000000 + (tonumber(ns) - now_ns), 0)
    end
  end
end

local nxt = t + math.min(n, burst + 1) * interval
local allowed = nxt - tau <= 0
local tat = t
if allowed and n > 0 then
  tat = nxt
  local total = now_ns + nxt
  local carry = math.floor(total / 1000000000)
  redis.call('SET', KEYS[1],
    string.format('%d %d', now_s + carry, total - carry * 1000000000),
    'PX', string.format('%d', math.ceil(nxt / 1000000) + 1000))
end
local retry = 0
if not allowed then
  retry = nxt - tau
  if n > burst then
    retry = t
  end
end
return {allowed and 1 or 0, math.floor((tau - tat) / interval), tat, retry}
`)

// Allow implements [ratelimit.Limiter].
func (l *Limiter) Allow(ctx context.Context, key string) (ratelimit.Decision, error) {
	return l.AllowN(ctx, key, 1)
}

// AllowN implements [ratelimit.Limiter] in one round trip. n larger than the
// burst is never allowed; a negative n is treated as 0, which reports the
// state without consuming anything.
func (l *Limiter) AllowN(ctx context.Context, key string, n int) (ratelimit.Decision, error) {
	n = max(n, 0)
	now := l.now()
	v, err := l.db.run(ctx, gcraScript, l.db.key("rate:"+l.name+":", key),
		now.Unix(), now.Nanosecond(), min(n, l.burst+1), l.interval, l.burst)
	if err != nil {
		return ratelimit.Decision{}, fmt.Errorf("redis: rate limit: %w", err)
	}
	if len(v) != 4 {
		return ratelimit.Decision{}, fmt.Errorf("redis: rate limit: script replied %d values, want 4", len(v))
	}
	d := ratelimit.Decision{
		Allowed:   v[0] == 1,
		Limit:     l.burst,
		Remaining: int(max(v[1], 0)),
		ResetAt:   now.Add(time.Duration(v[2])),
	}
	if !d.Allowed {
		d.RetryAfter = time.Duration(v[3])
	}
	return d, nil
}
