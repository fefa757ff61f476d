package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	goredis "github.com/redis/go-redis/v9"
)

// RefreshStore is a [jwtprovider.RefreshStore] in Redis: each family is a
// hash, "<prefix>family:{<id>}", that expires a second after the family.
// Every method is one script on that one key, so a rotation is a single
// atomic compare-and-set. Times are kept to the microsecond.
//
// It is safe for concurrent use.
type RefreshStore struct {
	db *DB
}

var _ jwtprovider.RefreshStore = (*RefreshStore)(nil)

// RefreshFamilies returns the store of refresh-token families.
func (db *DB) RefreshFamilies() *RefreshStore { return &RefreshStore{db: db} }

// familyCreateScript stores a family unless the key exists. ARGV: subject,
// current, created (µs), expires (µs), revoked (1/0). The TTL runs from
// the creation time to the expiry.
var familyCreateScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0}
end
redis.call('HSET', KEYS[1], 's', ARGV[1], 'j', ARGV[2], 'c', ARGV[3], 'e', ARGV[4], 'r', ARGV[5])
local ms = math.ceil((tonumber(ARGV[4]) - tonumber(ARGV[3])) / 1000)
if ms < 1 then
  ms = 1
end
redis.call('PEXPIRE', KEYS[1], string.format('%d', ms + 1000))
return {1}
`)

// familyRotateScript consumes the current token. ARGV: current, next, now
// (µs). The reply is {status, subject, created, expires}.
var familyRotateScript = goredis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 's', 'j', 'c', 'e', 'r')
if not f[2] or tonumber(ARGV[3]) >= tonumber(f[4]) then
  return {'notfound'}
end
if f[2] ~= ARGV[1] then
  redis.call('HSET', KEYS[1], 'r', '1')
  return {'reused'}
end
if f[5] == '1' then
  return {'revoked'}
end
redis.call('HSET', KEYS[1], 'j', ARGV[2])
return {'ok', f[1], f[3], f[4]}
`)

// familyRevokeScript marks an existing family revoked, and creates nothing.
var familyRevokeScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'r', '1')
end
return {1}
`)

// Create implements [jwtprovider.RefreshStore.Create].
func (s *RefreshStore) Create(ctx context.Context, f jwtprovider.Family) error {
	if f.ID == "" || f.Current == "" {
		return errors.New("redis: refresh family needs an ID and a current token ID")
	}
	revoked := "0"
	if f.Revoked {
		revoked = "1"
	}
	v, err := s.db.run(ctx, familyCreateScript, s.db.key("family:", f.ID),
		f.Subject, f.Current, micro(f.CreatedAt), micro(f.ExpiresAt), revoked)
	if err != nil {
		return fmt.Errorf("redis: create refresh family: %w", err)
	}
	if len(v) != 1 || v[0] != 1 {
		return jwtprovider.ErrExists
	}
	return nil
}

// Rotate implements [jwtprovider.RefreshStore.Rotate] as one script: the
// check of the current token, the revocation on reuse and the swap to
// nextID happen as one step.
func (s *RefreshStore) Rotate(ctx context.Context, id, currentID, nextID string, now time.Time) (jwtprovider.Family, error) {
	if nextID == "" {
		return jwtprovider.Family{}, errors.New("redis: rotation needs a next token ID")
	}
	if err := ctx.Err(); err != nil {
		return jwtprovider.Family{}, err
	}
	v, err := familyRotateScript.Run(ctx, s.db.client, []string{s.db.key("family:", id)}, currentID, nextID, micro(now)).StringSlice()
	if err != nil {
		return jwtprovider.Family{}, fmt.Errorf("redis: rotate refresh token: %w", err)
	}
	if len(v) == 0 {
		return jwtprovider.Family{}, errors.New("redis: rotate refresh token: empty reply")
	}
	switch v[0] {
	case "notfound":
		return jwtprovider.Family{}, jwtprovider.ErrNotFound
	case "reused":
		return jwtprovider.Family{}, jwtprovider.ErrReused
	case "revoked":
		return jwtprovider.Family{}, jwtprovider.ErrRevoked
	case "ok":
	default:
		return jwtprovider.Family{}, fmt.Errorf("redis: rotate refresh token: unexpected reply %q", v[0])
	}
	if len(v) != 4 {
		return jwtprovider.Family{}, fmt.Errorf("redis: rotate refresh token: reply of %d values", len(v))
	}
	created, err1 := strconv.ParseInt(v[2], 10, 64)
	expires, err2 := strconv.ParseInt(v[3], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return jwtprovider.Family{}, fmt.Errorf("redis: rotate refresh token: %w", err)
	}
	return jwtprovider.Family{
		ID: id, Subject: v[1], Current: nextID,
		CreatedAt: time.UnixMicro(created).UTC(), ExpiresAt: time.UnixMicro(expires).UTC(),
	}, nil
}

// Revoke implements [jwtprovider.RefreshStore.Revoke]: one script that
// marks an existing family and never creates one.
func (s *RefreshStore) Revoke(ctx context.Context, id string) error {
	if _, err := s.db.run(ctx, familyRevokeScript, s.db.key("family:", id)); err != nil {
		return fmt.Errorf("redis: revoke refresh family: %w", err)
	}
	return nil
}
