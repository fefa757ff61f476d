package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/ratelimit"
	goredis "github.com/redis/go-redis/v9"
)

// AttemptStore is a [ratelimit.AttemptStore] in Redis: each key's record is
// one string key, "<prefix>attempt:{<key>}", that expires one second after
// the record stops affecting decisions ([ratelimit.AttemptRecord.ExpiresAt]),
// so that a request whose clock lags a little still finds a lock that has
// not ended for it.
//
// Attempt and Status are one Lua script each, which reproduces
// [ratelimit.AttemptPolicy.Apply] step for step; Redis runs scripts one at a
// time, so an Attempt is atomic without locks or retries. Times are kept in
// whole Unix microseconds (see the package doc).
//
// It is safe for concurrent use.
type AttemptStore struct {
	db *DB
}

var _ ratelimit.AttemptStore = (*AttemptStore)(nil)

// Attempts returns the store of authentication attempt records.
func (db *DB) Attempts() *AttemptStore { return &AttemptStore{db: db} }

// attemptScript applies the attempts policy to one record.
//
// KEYS[1] is the record: "<lockedUntil or -> <failure> <failure> ...", every
// time in Unix microseconds, failures oldest first. ARGV: now, reserve (1 or
// 0), window, max failures, lockout duration, then the delays; all in
// microseconds. The reply is {allowed, locked, failures, retryAfter (µs),
// locksOnFailure}. A status call (reserve 0) writes nothing.
//
// The numbered rules are those of ratelimit.AttemptPolicy.Apply. Integers
// are formatted with %d: tostring would round them to 14 digits.
var attemptScript = goredis.NewScript(`
local now = tonumber(ARGV[1])
local reserve = ARGV[2] == '1'
local window = tonumber(ARGV[3])
local maxf = tonumber(ARGV[4])
local lockout = tonumber(ARGV[5])
local ndelays = #ARGV - 5
local keep = math.max(maxf, ndelays, 1)

local locked = nil
local fails = {}
local raw = redis.call('GET', KEYS[1])
if raw then
  local first = true
  for tok in string.gmatch(raw, '%S+') do
    if first then
      locked = tonumber(tok)
      first = false
    else
      fails[#fails + 1] = tonumber(tok)
    end
  end
end

-- live drops the failures that left the window, scanning from the oldest.
local function live(fs)
  local i = 1
  while i <= #fs and now - fs[i] >= window do
    i = i + 1
  end
  local out = {}
  for j = i, #fs do
    out[#out + 1] = fs[j]
  end
  return out
end

-- store writes the record with a TTL ending when it stops mattering, or
-- deletes it when it is empty or already over.
local function store(lk, fs)
  local expires = nil
  if #fs > 0 then
    expires = fs[#fs] + window
  end
  if lk and (expires == nil or lk > expires) then
    expires = lk
  end
  if expires == nil or expires <= now then
    redis.call('DEL', KEYS[1])
    return
  end
  local parts = {'-'}
  if lk then
    parts[1] = string.format('%d', lk)
  end
  for i = 1, #fs do
    parts[#parts + 1] = string.format('%d', fs[i])
  end
  -- Decisions come from the stored times; the TTL only collects the key.
  -- A second of grace keeps it for callers whose clock or request lags.
  local ttl = math.ceil((expires - now) / 1000) + 1000
  redis.call('SET', KEYS[1], table.concat(parts, ' '), 'PX', string.format('%d', ttl))
end

-- Rule 1: a running lock denies; an ended one clears the record.
if locked then
  if now < locked then
    local fs = live(fails)
    if reserve then
      store(locked, fs)
    end
    return {0, 1, #fs, math.min(locked - now, lockout), 0}
  end
  locked = nil
  fails = {}
end

-- Rule 2: forget failures outside the window.
local fs = live(fails)
local n = #fs

-- Rule 3: the delay after the latest failure.
if n > 0 and ndelays > 0 then
  local d = tonumber(ARGV[5 + math.min(n, ndelays)])
  local wait = fs[n] + d - now
  if wait > 0 then
    if reserve then
      store(nil, fs)
    end
    return {0, 0, n, math.min(wait, d), 0}
  end
end

-- Rule 4: allowed; a reservation counts as a failure and may start the lock.
local locks = 0
if maxf > 0 and n + 1 >= maxf then
  locks = 1
end
if not reserve then
  return {1, 0, n, 0, locks}
end
fs[n + 1] = now
if #fs > keep then
  local trimmed = {}
  for i = #fs - keep + 1, #fs do
    trimmed[#trimmed + 1] = fs[i]
  end
  fs = trimmed
end
local lk = nil
if locks == 1 then
  lk = now + lockout
end
store(lk, fs)
return {1, 0, math.min(n + 1, keep), 0, locks}
`)

// Attempt implements [ratelimit.AttemptStore]: one script run, atomic.
func (s *AttemptStore) Attempt(ctx context.Context, key string, now time.Time, p ratelimit.AttemptPolicy) (ratelimit.AttemptDecision, error) {
	return s.apply(ctx, key, now, p, true)
}

// Status implements [ratelimit.AttemptStore]. It only reads the record.
func (s *AttemptStore) Status(ctx context.Context, key string, now time.Time, p ratelimit.AttemptPolicy) (ratelimit.AttemptDecision, error) {
	return s.apply(ctx, key, now, p, false)
}

func (s *AttemptStore) apply(ctx context.Context, key string, now time.Time, p ratelimit.AttemptPolicy, reserve bool) (ratelimit.AttemptDecision, error) {
	if err := validatePolicy(p); err != nil {
		return ratelimit.AttemptDecision{}, err
	}
	args := make([]any, 0, 5+len(p.Delays))
	r := "0"
	if reserve {
		r = "1"
	}
	args = append(args, now.UnixMicro(), r, p.Window.Microseconds(), p.MaxFailures, p.LockoutDuration.Microseconds())
	for _, d := range p.Delays {
		args = append(args, d.Microseconds())
	}
	v, err := s.db.run(ctx, attemptScript, s.db.key("attempt:", key), args...)
	if err != nil {
		return ratelimit.AttemptDecision{}, fmt.Errorf("redis: attempt: %w", err)
	}
	if len(v) != 5 {
		return ratelimit.AttemptDecision{}, fmt.Errorf("redis: attempt: script replied %d values, want 5", len(v))
	}
	return ratelimit.AttemptDecision{
		Allowed:        v[0] == 1,
		Locked:         v[1] == 1,
		Failures:       int(v[2]),
		RetryAfter:     time.Duration(v[3]) * time.Microsecond,
		LocksOnFailure: v[4] == 1,
	}, nil
}

// Reset implements [ratelimit.AttemptStore]: one DEL.
func (s *AttemptStore) Reset(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.db.client.Del(ctx, s.db.key("attempt:", key)).Err(); err != nil {
		return fmt.Errorf("redis: reset attempts: %w", err)
	}
	return nil
}

// validatePolicy rejects policies no store can apply, like the in-memory
// store does.
func validatePolicy(p ratelimit.AttemptPolicy) error {
	if p.Window <= 0 {
		return fmt.Errorf("%w: attempts window must be positive", ratelimit.ErrInvalidConfig)
	}
	for _, d := range p.Delays {
		if d < 0 || d > p.Window {
			return fmt.Errorf("%w: attempt delay %v outside [0, window %v]", ratelimit.ErrInvalidConfig, d, p.Window)
		}
	}
	if p.MaxFailures > 0 && p.LockoutDuration <= 0 {
		return fmt.Errorf("%w: lockout duration must be positive", ratelimit.ErrInvalidConfig)
	}
	return nil
}
