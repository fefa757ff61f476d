package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/session"
	goredis "github.com/redis/go-redis/v9"
)

// SessionStore is a [session.Store] in Redis.
//
// Each session is a hash, "<prefix>{s}:rec:<id>", whose fields hold what
// the scripts compare (user, creation, deadlines in Unix microseconds) and
// the rest of the record as JSON; each user's index is a sorted set,
// "<prefix>{s}:user:<userID>", of session IDs scored by creation time, so
// its order is the eviction order (oldest first, ties by the smaller ID).
// Both expire, a second after a session stops being live and after an
// index's longest-lived session does; the scripts also drop index entries
// whose session is gone.
//
// Create, Update, Delete and List are one Lua script each and Get is one
// HGETALL: one round trip, atomic on the server. Because Create must count
// a user's sessions, evict, replace and insert in one step, all session keys
// of a DB share the hash tag {s}: on Redis Cluster they live on one shard.
// Give tenants that need to spread over shards their own prefixes.
//
// Times are kept to the microsecond. It is safe for concurrent use.
type SessionStore struct {
	db  *DB
	rec string // key prefix of records
	idx string // key prefix of user indexes
}

var _ session.Store = (*SessionStore)(nil)

// Sessions returns the session store.
func (db *DB) Sessions() *SessionStore {
	return &SessionStore{db: db, rec: db.prefix + "{s}:rec:", idx: db.prefix + "{s}:user:"}
}

// sessionBody is the part of a record that the scripts never read. Scopes
// keeps nil (JSON null) apart from empty.
type sessionBody struct {
	Username      string    `json:"n,omitempty"`
	Email         string    `json:"m,omitempty"`
	Roles         []string  `json:"r"`
	Scopes        []string  `json:"s"`
	MFAVerified   bool      `json:"mv,omitempty"`
	MFAVerifiedAt time.Time `json:"mt,omitzero"`
	MFAMethods    []string  `json:"mm"`
	AuthMethod    string    `json:"am,omitempty"`
	ClientIP      string    `json:"ip,omitempty"`
	UserAgent     string    `json:"ua,omitempty"`
	CreatedAt     time.Time `json:"c"`
}

// sessionLib holds the Lua helpers shared by the session scripts. ARGV[1]
// and ARGV[2] are always the record and index key prefixes, ARGV[3] now in
// Unix microseconds.
const sessionLib = `
local recp, idxp, now = ARGV[1], ARGV[2], tonumber(ARGV[3])

-- live reports whether the record key k exists and is live at now.
local function live(k)
  local e = redis.call('HGET', k, 'e')
  return e and now < tonumber(e)
end

-- record returns the record at k as a flat field/value list.
local function record(k)
  return redis.call('HGETALL', k)
end

-- stretch makes key k live at least until the Unix microsecond t, plus the
-- second of grace of every key here (decisions read the stored times; the
-- TTL only collects the key).
local function stretch(k, t)
  local ms = math.ceil((t - now) / 1000)
  if ms <= 0 then
    return
  end
  ms = ms + 1000
  local cur = redis.call('PTTL', k)
  if cur < ms then
    redis.call('PEXPIRE', k, string.format('%d', ms))
  end
end

-- remove deletes the session id of user u and returns its record.
local function remove(id, u)
  local k = recp .. id
  local r = record(k)
  redis.call('DEL', k)
  redis.call('ZREM', idxp .. u, id)
  return r
end
`

// createScript implements Create. ARGV[4..]: max per user, refuse (1/0),
// replace ID (or ""), then the new record: id, user, created (µs), expires
// (µs), absolute (µs or ""), last seen (µs), data, body. The reply starts
// with a status: "ok" followed by the evicted records, or "exists",
// "notfound", "limit".
var createScript = goredis.NewScript(sessionLib + `
local max, refuse, replace = tonumber(ARGV[4]), ARGV[5] == '1', ARGV[6]
local id, u, c, e, a, l, d, body = ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12], ARGV[13], ARGV[14]
local k, idx = recp .. id, idxp .. u

if redis.call('EXISTS', k) == 1 then
  return {'exists'}
end
if replace ~= '' then
  local r = redis.call('HMGET', recp .. replace, 'u', 'e')
  if not r[1] or r[1] ~= u or now >= tonumber(r[2]) then
    return {'notfound'}
  end
end

local out = {'ok'}
if max > 0 then
  local live_ids = {}
  for _, m in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
    if redis.call('EXISTS', recp .. m) == 0 then
      redis.call('ZREM', idx, m)
    elseif m ~= replace and live(recp .. m) then
      live_ids[#live_ids + 1] = m
    end
  end
  local excess = #live_ids - max + 1
  if excess > 0 then
    if refuse then
      return {'limit'}
    end
    for i = 1, excess do
      out[#out + 1] = remove(live_ids[i], u)
    end
  end
end
if replace ~= '' then
  remove(replace, u)
end

redis.call('HSET', k, 'i', id, 'u', u, 'c', c, 'e', e, 'a', a, 'l', l, 'd', d, 'b', body)
if tonumber(e) > now then
  redis.call('PEXPIRE', k, string.format('%d', math.ceil((tonumber(e) - now) / 1000) + 1000))
else
  redis.call('PEXPIRE', k, 1)
end
redis.call('ZADD', idx, c, id)
stretch(idx, tonumber(e))
return out
`)

// updateScript implements Update. KEYS[1] is the record. ARGV[4..]: last
// seen (µs or ""), expires (µs or ""), replace data (1/0), data. The reply
// is 1, or 0 when there is no live record.
var updateScript = goredis.NewScript(sessionLib + `
local k = KEYS[1]
if not live(k) then
  return 0
end
local f = redis.call('HMGET', k, 'u', 'e', 'a', 'l')
if ARGV[4] ~= '' and tonumber(ARGV[4]) > tonumber(f[4]) then
  redis.call('HSET', k, 'l', ARGV[4])
end
if ARGV[5] ~= '' then
  local x = tonumber(ARGV[5])
  if f[3] ~= '' and x > tonumber(f[3]) then
    x = tonumber(f[3])
  end
  if x > tonumber(f[2]) then
    redis.call('HSET', k, 'e', string.format('%d', x))
    stretch(k, x)
    stretch(idxp .. f[1], x)
  end
end
if ARGV[6] == '1' then
  redis.call('HSET', k, 'd', ARGV[7])
end
return 1
`)

// deleteScript implements Delete. ARGV[4..]: ID (or ""), user ID (or ""),
// except ID. The reply lists the deleted records.
var deleteScript = goredis.NewScript(sessionLib + `
local id, u, except = ARGV[4], ARGV[5], ARGV[6]
local out = {}
if id ~= '' then
  local owner = redis.call('HGET', recp .. id, 'u')
  if owner and (u == '' or owner == u) then
    out[1] = remove(id, owner)
  end
  return out
end
for _, m in ipairs(redis.call('ZRANGE', idxp .. u, 0, -1)) do
  if m ~= except then
    local r = remove(m, u)
    if #r > 0 then
      out[#out + 1] = r
    end
  end
end
return out
`)

// listScript implements List. ARGV[4] is the user ID. The reply lists the
// live records; index entries whose record is gone are dropped.
var listScript = goredis.NewScript(sessionLib + `
local idx = idxp .. ARGV[4]
local out = {}
for _, m in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
  local k = recp .. m
  if redis.call('EXISTS', k) == 0 then
    redis.call('ZREM', idx, m)
  elseif live(k) then
    out[#out + 1] = record(k)
  end
end
return out
`)

// Create implements [session.Store.Create] as one script: the existence
// check, the replaced session's check, the count of live sessions, the
// evictions or refusal, and the insert happen as one step on the server.
func (s *SessionStore) Create(ctx context.Context, rec session.Record, opts session.CreateOptions) ([]session.Record, error) {
	if rec.ID == "" || rec.UserID == "" {
		return nil, errors.New("redis: session record without ID or UserID")
	}
	body, err := json.Marshal(sessionBody{
		Username: rec.Username, Email: rec.Email, Roles: rec.Roles, Scopes: rec.Scopes,
		MFAVerified: rec.MFA.Verified, MFAVerifiedAt: rec.MFA.VerifiedAt, MFAMethods: rec.MFA.Methods,
		AuthMethod: string(rec.AuthMethod), ClientIP: rec.ClientIP, UserAgent: rec.UserAgent, CreatedAt: rec.CreatedAt,
	})
	if err != nil {
		return nil, fmt.Errorf("redis: create session: %w", err)
	}
	refuse := "0"
	if opts.Refuse {
		refuse = "1"
	}
	reply, err := s.eval(ctx, createScript, s.rec+rec.ID, opts.Now,
		max(opts.MaxPerUser, 0), refuse, opts.Replace,
		rec.ID, rec.UserID, micro(rec.CreatedAt), micro(rec.ExpiresAt), optMicro(rec.AbsoluteExpiresAt),
		micro(rec.LastSeenAt), rec.Data, body)
	if err != nil {
		return nil, fmt.Errorf("redis: create session: %w", err)
	}
	if len(reply) == 0 {
		return nil, errors.New("redis: create session: empty reply")
	}
	switch status, _ := reply[0].(string); status {
	case "ok":
	case "exists":
		return nil, session.ErrExists
	case "notfound":
		return nil, session.ErrNotFound
	case "limit":
		return nil, session.ErrLimitReached
	default:
		return nil, fmt.Errorf("redis: create session: unexpected reply %q", status)
	}
	evicted, err := decodeRecords(reply[1:])
	if err != nil {
		return nil, fmt.Errorf("redis: create session: %w", err)
	}
	return evicted, nil
}

// Get implements [session.Store.Get]: one HGETALL.
func (s *SessionStore) Get(ctx context.Context, id string) (session.Record, error) {
	if err := ctx.Err(); err != nil {
		return session.Record{}, err
	}
	m, err := s.db.client.HGetAll(ctx, s.rec+id).Result()
	if err != nil {
		return session.Record{}, fmt.Errorf("redis: get session: %w", err)
	}
	if len(m) == 0 {
		return session.Record{}, session.ErrNotFound
	}
	rec, err := decodeRecord(m)
	if err != nil {
		return session.Record{}, fmt.Errorf("redis: get session: %w", err)
	}
	return rec, nil
}

// Update implements [session.Store.Update] as one script that changes the
// record only if it exists and is live at u.Now, so it never recreates a
// deleted session.
func (s *SessionStore) Update(ctx context.Context, id string, u session.Update) error {
	replace := "0"
	if u.ReplaceData {
		replace = "1"
	}
	reply, err := s.eval(ctx, updateScript, s.rec+id, u.Now,
		optMicro(u.LastSeenAt), optMicro(u.ExpiresAt), replace, u.Data)
	if err != nil {
		return fmt.Errorf("redis: update session: %w", err)
	}
	if len(reply) != 1 || reply[0] != int64(1) {
		return session.ErrNotFound
	}
	return nil
}

// Delete implements [session.Store.Delete] as one script.
func (s *SessionStore) Delete(ctx context.Context, q session.Query) ([]session.Record, error) {
	if q.ID == "" && q.UserID == "" {
		return nil, errors.New("redis: session delete query without ID or UserID")
	}
	key := s.rec + q.ID
	if q.ID == "" {
		key = s.idx + q.UserID
	}
	reply, err := s.eval(ctx, deleteScript, key, time.Time{}, q.ID, q.UserID, q.Except)
	if err != nil {
		return nil, fmt.Errorf("redis: delete sessions: %w", err)
	}
	recs, err := decodeRecords(reply)
	if err != nil {
		return nil, fmt.Errorf("redis: delete sessions: %w", err)
	}
	return recs, nil
}

// List implements [session.Store.List] as one script over the user's index.
func (s *SessionStore) List(ctx context.Context, userID string, now time.Time) ([]session.Record, error) {
	reply, err := s.eval(ctx, listScript, s.idx+userID, now, userID)
	if err != nil {
		return nil, fmt.Errorf("redis: list sessions: %w", err)
	}
	recs, err := decodeRecords(reply)
	if err != nil {
		return nil, fmt.Errorf("redis: list sessions: %w", err)
	}
	if recs == nil {
		recs = []session.Record{}
	}
	return recs, nil
}

// eval runs a session script. key is the main key it touches, declared so
// that a cluster client routes the script to the shard of {s}; the scripts
// derive the other keys, all in the same slot, from the prefixes.
func (s *SessionStore) eval(ctx context.Context, script *goredis.Script, key string, now time.Time, args ...any) ([]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	all := append([]any{s.rec, s.idx, micro(now)}, args...)
	v, err := script.Run(ctx, s.db.client, []string{key}, all...).Result()
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case []any:
		return v, nil
	case int64:
		return []any{v}, nil
	}
	return nil, fmt.Errorf("unexpected reply %T", v)
}

// decodeRecords decodes script replies, each a flat field/value list.
func decodeRecords(reply []any) ([]session.Record, error) {
	var out []session.Record
	for _, r := range reply {
		flat, ok := r.([]any)
		if !ok || len(flat)%2 != 0 {
			return nil, fmt.Errorf("malformed record in reply: %T", r)
		}
		m := make(map[string]string, len(flat)/2)
		for i := 0; i < len(flat); i += 2 {
			k, _ := flat[i].(string)
			v, _ := flat[i+1].(string)
			m[k] = v
		}
		rec, err := decodeRecord(m)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// decodeRecord builds a record from its hash fields.
func decodeRecord(m map[string]string) (session.Record, error) {
	var b sessionBody
	if err := json.Unmarshal([]byte(m["b"]), &b); err != nil {
		return session.Record{}, fmt.Errorf("session %s: %w", m["i"], err)
	}
	rec := session.Record{
		ID: m["i"], UserID: m["u"], Username: b.Username, Email: b.Email, Roles: b.Roles, Scopes: b.Scopes,
		MFA:        auth.MFAState{Verified: b.MFAVerified, VerifiedAt: b.MFAVerifiedAt, Methods: b.MFAMethods},
		AuthMethod: auth.Method(b.AuthMethod), ClientIP: b.ClientIP, UserAgent: b.UserAgent,
		CreatedAt: b.CreatedAt, Data: m["d"],
	}
	var err error
	if rec.ExpiresAt, err = parseMicro(m["e"]); err != nil {
		return session.Record{}, err
	}
	if rec.LastSeenAt, err = parseMicro(m["l"]); err != nil {
		return session.Record{}, err
	}
	if rec.AbsoluteExpiresAt, err = parseMicro(m["a"]); err != nil {
		return session.Record{}, err
	}
	return rec, nil
}

// micro returns t in Unix microseconds, as the scripts compare times.
func micro(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

// optMicro is micro with the zero time as "".
func optMicro(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return micro(t)
}

// parseMicro reverses optMicro.
func parseMicro(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	us, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("malformed time %q", s)
	}
	return time.UnixMicro(us).UTC(), nil
}
