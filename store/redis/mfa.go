package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/mfa"
	goredis "github.com/redis/go-redis/v9"
)

// MFAStore is an [mfa.Store] in Redis. Every record is one key, and every
// operation one command or one script on that key:
//
//   - "<prefix>totp:{<user>}", a hash: the TOTP enrolment; AdvanceTOTPStep
//     is a compare-and-set script (the replay guard), ConfirmTOTP and
//     PutPendingTOTP conditional scripts;
//   - "<prefix>backup:{<user>}", a set of backup-code hashes; a use is one
//     SREM inside a script that also counts what remains;
//   - "<prefix>challenge:{<token hash>}", the login challenge as JSON, with
//     a TTL; it is created with SET NX and consumed with GETDEL (Redis 6.2
//     or later);
//   - "<prefix>sent:{<user>}", a hash: the sent code, with a TTL that ends
//     a second after it neither works nor throttles resends.
//
// Enrolments and backup codes carry no TTL: they live until deleted, so run
// Redis with persistence (or keep them in PostgreSQL with [mfa.Combine]).
// Sent-code times are kept to the microsecond and TOTP steps must stay below
// 2^53 (they are about 2^26 today).
//
// It is safe for concurrent use.
type MFAStore struct {
	db *DB
}

var _ mfa.Store = (*MFAStore)(nil)

// MFA returns the store of MFA state.
func (db *DB) MFA() *MFAStore { return &MFAStore{db: db} }

// putPendingScript stores a pending enrolment unless a confirmed one is
// there. ARGV: field/value pairs. Reply {1} stored, {0} confirmed exists.
var putPendingScript = goredis.NewScript(`
local c = redis.call('HGET', KEYS[1], 'confirmed')
if c and c ~= '' then
  return {0}
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV))
return {1}
`)

// confirmScript turns on the pending enrolment with ID ARGV[1]: ARGV[2] is
// the confirmation time, ARGV[3] the step. Reply {1} or {0} (no such
// pending enrolment).
var confirmScript = goredis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'id', 'confirmed')
if not f[1] or f[1] ~= ARGV[1] or (f[2] and f[2] ~= '') then
  return {0}
end
redis.call('HSET', KEYS[1], 'confirmed', ARGV[2], 'step', ARGV[3], 'pending', '[]')
return {1}
`)

// advanceScript records step ARGV[1] if it is greater than the stored one.
// Reply {1} advanced, {0} replay, {-1} no confirmed enrolment.
var advanceScript = goredis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'confirmed', 'step')
if not f[1] or f[1] == '' then
  return {-1}
end
if tonumber(ARGV[1]) <= tonumber(f[2]) then
  return {0}
end
redis.call('HSET', KEYS[1], 'step', ARGV[1])
return {1}
`)

// replaceCodesScript replaces the set with ARGV (possibly none).
var replaceCodesScript = goredis.NewScript(`
redis.call('DEL', KEYS[1])
if #ARGV > 0 then
  redis.call('SADD', KEYS[1], unpack(ARGV))
end
return {1}
`)

// consumeCodeScript removes ARGV[1] from the set. Reply {remaining} or {-1}
// when it was not there.
var consumeCodeScript = goredis.NewScript(`
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then
  return {-1}
end
return {redis.call('SCARD', KEYS[1])}
`)

// putSentScript stores a sent code unless the stored one's resend time is
// after the new one's sending time. ARGV: hash, channel, sent, expires,
// resend, attempts (times in µs). Reply {1} or {0, stored resend}.
var putSentScript = goredis.NewScript(`
local old = redis.call('HGET', KEYS[1], 'resend')
if old and tonumber(old) > tonumber(ARGV[3]) then
  return {0, tonumber(old)}
end
redis.call('HSET', KEYS[1], 'hash', ARGV[1], 'channel', ARGV[2], 'sent', ARGV[3],
  'expires', ARGV[4], 'resend', ARGV[5], 'left', ARGV[6])
local last = math.max(tonumber(ARGV[4]), tonumber(ARGV[5]))
local ms = math.ceil((last - tonumber(ARGV[3])) / 1000)
if ms < 1 then
  ms = 1
end
redis.call('PEXPIRE', KEYS[1], string.format('%d', ms + 1000))
return {1}
`)

// useSentScript checks hash ARGV[1] at now ARGV[2] (µs). Reply {1,
// channel} match, {0} mismatch, {-1} no live code.
var useSentScript = goredis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'hash', 'expires', 'left', 'channel')
if not f[1] or f[1] == '' or tonumber(f[3]) <= 0 or tonumber(ARGV[2]) >= tonumber(f[2]) then
  return {-1}
end
if f[1] == ARGV[1] then
  redis.call('HSET', KEYS[1], 'hash', '', 'left', '0')
  return {1, f[4]}
end
local left = tonumber(f[3]) - 1
if left <= 0 then
  redis.call('HSET', KEYS[1], 'hash', '', 'left', '0')
else
  redis.call('HSET', KEYS[1], 'left', string.format('%d', left))
end
return {0}
`)

func (s *MFAStore) totpKey(userID string) string { return s.db.key("totp:", userID) }

// PutPendingTOTP implements [mfa.TOTPStore.PutPendingTOTP] as one script.
func (s *MFAStore) PutPendingTOTP(ctx context.Context, r mfa.TOTPRecord) error {
	pending, err := json.Marshal(nonNil(r.PendingBackupCodes))
	if err != nil {
		return fmt.Errorf("redis: put pending totp: %w", err)
	}
	v, err := s.db.run(ctx, putPendingScript, s.totpKey(r.UserID),
		"user", r.UserID, "id", r.ID, "secret", r.Secret, "alg", r.Algorithm,
		"digits", r.Digits, "period", r.Period, "created", r.CreatedAt.Format(time.RFC3339Nano),
		"confirmed", "", "step", r.LastStep, "pending", pending)
	if err != nil {
		return fmt.Errorf("redis: put pending totp: %w", err)
	}
	if len(v) != 1 || v[0] != 1 {
		return mfa.ErrEnabled
	}
	return nil
}

// GetTOTP implements [mfa.TOTPStore.GetTOTP]: one HGETALL.
func (s *MFAStore) GetTOTP(ctx context.Context, userID string) (mfa.TOTPRecord, error) {
	if err := ctx.Err(); err != nil {
		return mfa.TOTPRecord{}, err
	}
	m, err := s.db.client.HGetAll(ctx, s.totpKey(userID)).Result()
	if err != nil {
		return mfa.TOTPRecord{}, fmt.Errorf("redis: get totp: %w", err)
	}
	if len(m) == 0 {
		return mfa.TOTPRecord{}, mfa.ErrNotFound
	}
	r := mfa.TOTPRecord{UserID: m["user"], ID: m["id"], Secret: m["secret"], Algorithm: m["alg"]}
	var errs []error
	var err1, err2, err3, err4 error
	r.Digits, err1 = strconv.Atoi(m["digits"])
	r.Period, err2 = strconv.Atoi(m["period"])
	r.LastStep, err3 = strconv.ParseInt(m["step"], 10, 64)
	r.CreatedAt, err4 = time.Parse(time.RFC3339Nano, m["created"])
	errs = append(errs, err1, err2, err3, err4)
	if c := m["confirmed"]; c != "" {
		var err error
		r.ConfirmedAt, err = time.Parse(time.RFC3339Nano, c)
		errs = append(errs, err)
	}
	errs = append(errs, json.Unmarshal([]byte(m["pending"]), &r.PendingBackupCodes))
	if err := errors.Join(errs...); err != nil {
		return mfa.TOTPRecord{}, fmt.Errorf("redis: get totp: malformed record: %w", err)
	}
	if len(r.PendingBackupCodes) == 0 {
		r.PendingBackupCodes = nil
	}
	return r, nil
}

// ConfirmTOTP implements [mfa.TOTPStore.ConfirmTOTP] as one script.
func (s *MFAStore) ConfirmTOTP(ctx context.Context, userID, id string, step int64, at time.Time) error {
	v, err := s.db.run(ctx, confirmScript, s.totpKey(userID), id, at.Format(time.RFC3339Nano), step)
	if err != nil {
		return fmt.Errorf("redis: confirm totp: %w", err)
	}
	if len(v) != 1 || v[0] != 1 {
		return mfa.ErrNotFound
	}
	return nil
}

// AdvanceTOTPStep implements [mfa.TOTPStore.AdvanceTOTPStep] as one
// compare-and-set script: of concurrent uses of one code, one advances.
func (s *MFAStore) AdvanceTOTPStep(ctx context.Context, userID string, step int64) (bool, error) {
	v, err := s.db.run(ctx, advanceScript, s.totpKey(userID), step)
	if err != nil {
		return false, fmt.Errorf("redis: advance totp step: %w", err)
	}
	if len(v) != 1 {
		return false, errors.New("redis: advance totp step: malformed reply")
	}
	switch v[0] {
	case 1:
		return true, nil
	case 0:
		return false, nil
	}
	return false, mfa.ErrNotFound
}

// DeleteTOTP implements [mfa.TOTPStore.DeleteTOTP]: one DEL.
func (s *MFAStore) DeleteTOTP(ctx context.Context, userID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.db.client.Del(ctx, s.totpKey(userID)).Err(); err != nil {
		return fmt.Errorf("redis: delete totp: %w", err)
	}
	return nil
}

// ReplaceBackupCodes implements [mfa.BackupCodeStore.ReplaceBackupCodes] as
// one script (DEL then SADD).
func (s *MFAStore) ReplaceBackupCodes(ctx context.Context, userID string, hashes []string) error {
	args := make([]any, len(hashes))
	for i, h := range hashes {
		args[i] = h
	}
	if _, err := s.db.run(ctx, replaceCodesScript, s.db.key("backup:", userID), args...); err != nil {
		return fmt.Errorf("redis: replace backup codes: %w", err)
	}
	return nil
}

// ConsumeBackupCode implements [mfa.BackupCodeStore.ConsumeBackupCode] as
// one script: SREM decides which of concurrent uses wins.
func (s *MFAStore) ConsumeBackupCode(ctx context.Context, userID, hash string) (int, error) {
	v, err := s.db.run(ctx, consumeCodeScript, s.db.key("backup:", userID), hash)
	if err != nil {
		return 0, fmt.Errorf("redis: consume backup code: %w", err)
	}
	if len(v) != 1 {
		return 0, errors.New("redis: consume backup code: malformed reply")
	}
	if v[0] < 0 {
		return 0, mfa.ErrNotFound
	}
	return int(v[0]), nil
}

// CountBackupCodes implements [mfa.BackupCodeStore.CountBackupCodes]: one
// SCARD.
func (s *MFAStore) CountBackupCodes(ctx context.Context, userID string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n, err := s.db.client.SCard(ctx, s.db.key("backup:", userID)).Result()
	if err != nil {
		return 0, fmt.Errorf("redis: count backup codes: %w", err)
	}
	return int(n), nil
}

// challengeJSON is the stored form of an mfa.ChallengeRecord.
type challengeJSON struct {
	UserID      string    `json:"uid"`
	Name        string    `json:"name,omitempty"`
	Email       string    `json:"email,omitempty"`
	Phone       string    `json:"phone,omitempty"`
	Roles       []string  `json:"roles"`
	UserCreated time.Time `json:"ucreated"`
	FirstFactor string    `json:"ff"`
	CreatedAt   time.Time `json:"created"`
	ExpiresAt   time.Time `json:"expires"`
}

// CreateChallenge implements [mfa.ChallengeStore.CreateChallenge]: one SET
// NX with a TTL ending a second after ExpiresAt (counted from CreatedAt).
func (s *MFAStore) CreateChallenge(ctx context.Context, c mfa.ChallengeRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := json.Marshal(challengeJSON{
		UserID: c.User.ID, Name: c.User.Name, Email: c.User.Email, Phone: c.User.Phone, Roles: c.User.Roles,
		UserCreated: c.User.CreatedAt, FirstFactor: c.FirstFactor, CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt,
	})
	if err != nil {
		return fmt.Errorf("redis: create challenge: %w", err)
	}
	ttl := max(c.ExpiresAt.Sub(c.CreatedAt), time.Millisecond) + ttlGrace
	ok, err := s.db.client.SetNX(ctx, s.db.key("challenge:", c.TokenHash), b, ttl).Result()
	if err != nil {
		return fmt.Errorf("redis: create challenge: %w", err)
	}
	if !ok {
		return mfa.ErrExists
	}
	return nil
}

// GetChallenge implements [mfa.ChallengeStore.GetChallenge]: one GET.
func (s *MFAStore) GetChallenge(ctx context.Context, tokenHash string, now time.Time) (mfa.ChallengeRecord, error) {
	if err := ctx.Err(); err != nil {
		return mfa.ChallengeRecord{}, err
	}
	b, err := s.db.client.Get(ctx, s.db.key("challenge:", tokenHash)).Bytes()
	return s.challenge(tokenHash, b, err, now, "get")
}

// ConsumeChallenge implements [mfa.ChallengeStore.ConsumeChallenge]: one
// GETDEL, so of concurrent consumptions exactly one gets the record.
func (s *MFAStore) ConsumeChallenge(ctx context.Context, tokenHash string, now time.Time) (mfa.ChallengeRecord, error) {
	if err := ctx.Err(); err != nil {
		return mfa.ChallengeRecord{}, err
	}
	b, err := s.db.client.GetDel(ctx, s.db.key("challenge:", tokenHash)).Bytes()
	return s.challenge(tokenHash, b, err, now, "consume")
}

func (s *MFAStore) challenge(tokenHash string, b []byte, err error, now time.Time, op string) (mfa.ChallengeRecord, error) {
	if errors.Is(err, goredis.Nil) {
		return mfa.ChallengeRecord{}, mfa.ErrNotFound
	}
	if err != nil {
		return mfa.ChallengeRecord{}, fmt.Errorf("redis: %s challenge: %w", op, err)
	}
	var c challengeJSON
	if err := json.Unmarshal(b, &c); err != nil {
		return mfa.ChallengeRecord{}, fmt.Errorf("redis: %s challenge: %w", op, err)
	}
	if !now.Before(c.ExpiresAt) {
		return mfa.ChallengeRecord{}, mfa.ErrNotFound
	}
	return mfa.ChallengeRecord{
		TokenHash:   tokenHash,
		User:        mfa.User{ID: c.UserID, Name: c.Name, Email: c.Email, Phone: c.Phone, Roles: c.Roles, CreatedAt: c.UserCreated},
		FirstFactor: c.FirstFactor, CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt,
	}, nil
}

// PutSentCode implements [mfa.ChallengeStore.PutSentCode] as one script:
// the throttle check and the write are one step.
func (s *MFAStore) PutSentCode(ctx context.Context, c mfa.SentCode) (time.Time, error) {
	v, err := s.db.run(ctx, putSentScript, s.db.key("sent:", c.UserID),
		c.Hash, string(c.Channel), micro(c.SentAt), micro(c.ExpiresAt), micro(c.ResendAt), c.AttemptsLeft)
	if err != nil {
		return time.Time{}, fmt.Errorf("redis: put sent code: %w", err)
	}
	if len(v) == 2 && v[0] == 0 {
		return time.UnixMicro(v[1]).UTC(), mfa.ErrThrottled
	}
	if len(v) != 1 || v[0] != 1 {
		return time.Time{}, errors.New("redis: put sent code: malformed reply")
	}
	return time.Time{}, nil
}

// UseSentCode implements [mfa.ChallengeStore.UseSentCode] as one script:
// exactly one right guess wins, and wrong guesses never use more attempts
// than there are.
func (s *MFAStore) UseSentCode(ctx context.Context, userID, hash string, now time.Time) (mfa.Method, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	v, err := useSentScript.Run(ctx, s.db.client, []string{s.db.key("sent:", userID)}, hash, micro(now)).Slice()
	if err != nil {
		return "", fmt.Errorf("redis: use sent code: %w", err)
	}
	if len(v) == 0 {
		return "", errors.New("redis: use sent code: empty reply")
	}
	switch v[0] {
	case int64(0):
		return "", mfa.ErrCodeMismatch
	case int64(-1):
		return "", mfa.ErrNotFound
	}
	if len(v) != 2 {
		return "", errors.New("redis: use sent code: malformed reply")
	}
	ch, _ := v[1].(string)
	return mfa.Method(ch), nil
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
