package mfa

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Store is everything the [Manager] persists: TOTP enrolments, backup codes,
// login challenges and sent codes. The three parts are separate interfaces so
// that a deployment may keep them on different engines (enrolments in
// PostgreSQL, challenges and sent codes in Redis); [Combine] joins them.
//
// All methods must be safe for concurrent use, honour ctx, and never return
// a record together with ErrNotFound. Stores hold ciphertexts and hashes,
// never a secret in the clear. The conformance suite in package mfatest
// checks these semantics; every adapter should run it.
type Store interface {
	TOTPStore
	BackupCodeStore
	ChallengeStore
}

// TOTPStore keeps one TOTP enrolment per user: pending until confirmed, then
// on, with the last accepted time step.
type TOTPStore interface {
	// PutPendingTOTP stores r as the user's pending enrolment (r.ConfirmedAt
	// is zero), replacing a pending one. It fails with [ErrEnabled], storing
	// nothing, when the user's enrolment is confirmed.
	PutPendingTOTP(ctx context.Context, r TOTPRecord) error
	// GetTOTP returns the user's enrolment, pending or confirmed, or
	// [ErrNotFound].
	GetTOTP(ctx context.Context, userID string) (TOTPRecord, error)
	// ConfirmTOTP turns on the pending enrolment whose ID is id, in one
	// atomic step: it sets ConfirmedAt to at, LastStep to step, and clears
	// PendingBackupCodes. It fails with [ErrNotFound], changing nothing, when
	// the user has no pending enrolment with that ID (it was replaced,
	// deleted or already confirmed), so of concurrent confirmations exactly
	// one succeeds.
	ConfirmTOTP(ctx context.Context, userID, id string, step int64, at time.Time) error
	// AdvanceTOTPStep records step as the last accepted time step of the
	// user's confirmed enrolment if and only if step is greater than the
	// stored LastStep, atomically (a compare-and-set). It reports whether
	// it did: false means the code's step was already used (a replay) or a
	// later one was. It fails with [ErrNotFound] when the user has no
	// confirmed enrolment.
	AdvanceTOTPStep(ctx context.Context, userID string, step int64) (bool, error)
	// DeleteTOTP removes the user's enrolment, pending or confirmed.
	// Deleting a missing enrolment is not an error.
	DeleteTOTP(ctx context.Context, userID string) error
}

// BackupCodeStore keeps the hashes of each user's unused backup codes.
type BackupCodeStore interface {
	// ReplaceBackupCodes replaces the user's set of code hashes with hashes
	// in one atomic step: codes of the old set stop working. An empty
	// hashes removes the set. Duplicate hashes count once.
	ReplaceBackupCodes(ctx context.Context, userID string, hashes []string) error
	// ConsumeBackupCode removes hash from the user's set and returns how
	// many codes remain, atomically, so that of concurrent uses of one code
	// exactly one succeeds. It fails with [ErrNotFound] when the hash is not
	// in the set.
	ConsumeBackupCode(ctx context.Context, userID, hash string) (remaining int, err error)
	// CountBackupCodes returns how many unused codes the user has; zero when
	// the user has none.
	CountBackupCodes(ctx context.Context, userID string) (int, error)
}

// ChallengeStore keeps short-lived login challenges (by the hash of their
// mfa_token) and codes sent by email or SMS (one live code per user).
// Expired records behave as missing; stores may delete them at any time
// after they expire.
type ChallengeStore interface {
	// CreateChallenge stores c. It fails with [ErrExists] when a challenge
	// with c.TokenHash is stored.
	CreateChallenge(ctx context.Context, c ChallengeRecord) error
	// GetChallenge returns the challenge whose token hash is tokenHash, or
	// [ErrNotFound] when there is none or it expired (now >= ExpiresAt).
	GetChallenge(ctx context.Context, tokenHash string, now time.Time) (ChallengeRecord, error)
	// ConsumeChallenge removes and returns the challenge, atomically: of
	// concurrent consumptions exactly one gets it, the others get
	// [ErrNotFound], as do consumptions of a missing or expired challenge.
	ConsumeChallenge(ctx context.Context, tokenHash string, now time.Time) (ChallengeRecord, error)
	// PutSentCode stores c as the user's live sent code, replacing the
	// previous one, unless the previous one's ResendAt is after c.SentAt:
	// then it stores nothing and fails with [ErrThrottled], returning that
	// ResendAt. The check and the write are one atomic step.
	PutSentCode(ctx context.Context, c SentCode) (resendAt time.Time, err error)
	// UseSentCode checks hash against the user's live code at now, in one
	// atomic step. On a match it voids the code and returns nil. On a
	// mismatch it uses up one attempt (voiding the code when none is left)
	// and fails with [ErrCodeMismatch]. A voided code still throttles
	// PutSentCode until its ResendAt. With no live code (none, expired,
	// used, or out of attempts) it fails with [ErrNotFound].
	// On a match it returns the code's channel.
	UseSentCode(ctx context.Context, userID, hash string, now time.Time) (Method, error)
}

// TOTPRecord is a stored TOTP enrolment.
type TOTPRecord struct {
	// UserID is the owner.
	UserID string
	// ID identifies the enrolment: each Setup makes a new one, so that a
	// confirmation cannot turn on a secret that has since been replaced.
	ID string
	// Secret is the shared secret sealed by auth.Keyring.Encrypt with the
	// user ID as associated data.
	Secret string
	// Algorithm is the HMAC hash: "SHA1", "SHA256" or "SHA512".
	Algorithm string
	// Digits is the code length, 6 or 8.
	Digits int
	// Period is the time step in seconds (RFC 6238 §4, X).
	Period int
	// CreatedAt is when Setup ran.
	CreatedAt time.Time
	// ConfirmedAt is when the enrolment was turned on; zero while pending.
	ConfirmedAt time.Time
	// LastStep is the last accepted time step (RFC 6238 §4, T); a code is
	// accepted only for a greater step.
	LastStep int64
	// PendingBackupCodes holds the hashes of the backup codes shown at
	// Setup; Confirm moves them into the [BackupCodeStore].
	PendingBackupCodes []string
}

// Confirmed reports whether the enrolment is turned on.
func (r TOTPRecord) Confirmed() bool { return !r.ConfirmedAt.IsZero() }

func (r TOTPRecord) clone() TOTPRecord {
	r.PendingBackupCodes = slices.Clone(r.PendingBackupCodes)
	return r
}

// ChallengeRecord is a stored login challenge.
type ChallengeRecord struct {
	// TokenHash is the hex SHA-256 of the mfa_token; the token itself is
	// never stored.
	TokenHash string
	// User is the user who passed the first step.
	User User
	// FirstFactor is the "amr" value of the first step ("pwd").
	FirstFactor string
	// CreatedAt is when the first step succeeded.
	CreatedAt time.Time
	// ExpiresAt is when the token stops working.
	ExpiresAt time.Time
}

func (c ChallengeRecord) clone() ChallengeRecord {
	c.User.Roles = slices.Clone(c.User.Roles)
	return c
}

// SentCode is a stored code sent by email or SMS.
type SentCode struct {
	// UserID is the owner.
	UserID string
	// Hash is the hash of the code (see [Manager]); never the code.
	Hash string
	// Channel is [MethodEmail] or [MethodSMS].
	Channel Method
	// SentAt is when it was sent.
	SentAt time.Time
	// ExpiresAt is when it stops working.
	ExpiresAt time.Time
	// ResendAt is the earliest time another code may replace it.
	ResendAt time.Time
	// AttemptsLeft is how many wrong guesses void it.
	AttemptsLeft int
}

// Combine returns a [Store] made of three parts, for example TOTP
// enrolments in a database and challenges in Redis.
func Combine(t TOTPStore, b BackupCodeStore, c ChallengeStore) Store {
	return combined{t, b, c}
}

type combined struct {
	TOTPStore
	BackupCodeStore
	ChallengeStore
}

// MemoryStore is the in-memory [Store]. It is safe for concurrent use. Its
// records live as long as the process; expired challenges and sent codes are
// swept as new ones are added, so memory stays proportional to the live ones.
// Several processes need a shared store (database, Redis).
type MemoryStore struct {
	totpMu sync.Mutex // guards totp
	totp   map[string]*TOTPRecord

	backupMu sync.Mutex // guards backup
	backup   map[string]map[string]struct{}

	chMu       sync.Mutex // guards challenges, sent, nextSweepC and nextSweepS
	challenges map[string]ChallengeRecord
	sent       map[string]SentCode
	nextSweepC int
	nextSweepS int
}

var (
	_ Store           = (*MemoryStore)(nil)
	_ TOTPStore       = (*MemoryStore)(nil)
	_ BackupCodeStore = (*MemoryStore)(nil)
	_ ChallengeStore  = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		totp:       make(map[string]*TOTPRecord),
		backup:     make(map[string]map[string]struct{}),
		challenges: make(map[string]ChallengeRecord),
		sent:       make(map[string]SentCode),
		nextSweepC: 64,
		nextSweepS: 64,
	}
}

// PutPendingTOTP implements [TOTPStore.PutPendingTOTP].
func (s *MemoryStore) PutPendingTOTP(ctx context.Context, r TOTPRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rec := r.clone()
	rec.ConfirmedAt = time.Time{}
	s.totpMu.Lock()
	defer s.totpMu.Unlock()
	if old, ok := s.totp[r.UserID]; ok && old.Confirmed() {
		return ErrEnabled
	}
	s.totp[r.UserID] = &rec
	return nil
}

// GetTOTP implements [TOTPStore.GetTOTP].
func (s *MemoryStore) GetTOTP(ctx context.Context, userID string) (TOTPRecord, error) {
	if err := ctx.Err(); err != nil {
		return TOTPRecord{}, err
	}
	s.totpMu.Lock()
	defer s.totpMu.Unlock()
	r, ok := s.totp[userID]
	if !ok {
		return TOTPRecord{}, ErrNotFound
	}
	return r.clone(), nil
}

// ConfirmTOTP implements [TOTPStore.ConfirmTOTP].
func (s *MemoryStore) ConfirmTOTP(ctx context.Context, userID, id string, step int64, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.totpMu.Lock()
	defer s.totpMu.Unlock()
	r, ok := s.totp[userID]
	if !ok || r.Confirmed() || r.ID != id {
		return ErrNotFound
	}
	r.ConfirmedAt = at
	r.LastStep = step
	r.PendingBackupCodes = nil
	return nil
}

// AdvanceTOTPStep implements [TOTPStore.AdvanceTOTPStep].
func (s *MemoryStore) AdvanceTOTPStep(ctx context.Context, userID string, step int64) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.totpMu.Lock()
	defer s.totpMu.Unlock()
	r, ok := s.totp[userID]
	if !ok || !r.Confirmed() {
		return false, ErrNotFound
	}
	if step <= r.LastStep {
		return false, nil
	}
	r.LastStep = step
	return true, nil
}

// DeleteTOTP implements [TOTPStore.DeleteTOTP].
func (s *MemoryStore) DeleteTOTP(ctx context.Context, userID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.totpMu.Lock()
	defer s.totpMu.Unlock()
	delete(s.totp, userID)
	return nil
}

// ReplaceBackupCodes implements [BackupCodeStore.ReplaceBackupCodes].
func (s *MemoryStore) ReplaceBackupCodes(ctx context.Context, userID string, hashes []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	set := make(map[string]struct{}, len(hashes))
	for _, h := range hashes {
		set[h] = struct{}{}
	}
	s.backupMu.Lock()
	defer s.backupMu.Unlock()
	if len(set) == 0 {
		delete(s.backup, userID)
		return nil
	}
	s.backup[userID] = set
	return nil
}

// ConsumeBackupCode implements [BackupCodeStore.ConsumeBackupCode].
func (s *MemoryStore) ConsumeBackupCode(ctx context.Context, userID, hash string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.backupMu.Lock()
	defer s.backupMu.Unlock()
	set := s.backup[userID]
	if _, ok := set[hash]; !ok {
		return 0, ErrNotFound
	}
	delete(set, hash)
	if len(set) == 0 {
		delete(s.backup, userID)
	}
	return len(set), nil
}

// CountBackupCodes implements [BackupCodeStore.CountBackupCodes].
func (s *MemoryStore) CountBackupCodes(ctx context.Context, userID string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.backupMu.Lock()
	defer s.backupMu.Unlock()
	return len(s.backup[userID]), nil
}

// CreateChallenge implements [ChallengeStore.CreateChallenge].
func (s *MemoryStore) CreateChallenge(ctx context.Context, c ChallengeRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rec := c.clone()
	s.chMu.Lock()
	defer s.chMu.Unlock()
	if _, ok := s.challenges[c.TokenHash]; ok {
		return ErrExists
	}
	if len(s.challenges) >= s.nextSweepC {
		for k, v := range s.challenges {
			if !c.CreatedAt.Before(v.ExpiresAt) {
				delete(s.challenges, k)
			}
		}
		s.nextSweepC = max(64, 2*len(s.challenges))
	}
	s.challenges[c.TokenHash] = rec
	return nil
}

// GetChallenge implements [ChallengeStore.GetChallenge].
func (s *MemoryStore) GetChallenge(ctx context.Context, tokenHash string, now time.Time) (ChallengeRecord, error) {
	if err := ctx.Err(); err != nil {
		return ChallengeRecord{}, err
	}
	s.chMu.Lock()
	defer s.chMu.Unlock()
	c, ok := s.challenges[tokenHash]
	if !ok {
		return ChallengeRecord{}, ErrNotFound
	}
	if !now.Before(c.ExpiresAt) {
		delete(s.challenges, tokenHash)
		return ChallengeRecord{}, ErrNotFound
	}
	return c.clone(), nil
}

// ConsumeChallenge implements [ChallengeStore.ConsumeChallenge].
func (s *MemoryStore) ConsumeChallenge(ctx context.Context, tokenHash string, now time.Time) (ChallengeRecord, error) {
	if err := ctx.Err(); err != nil {
		return ChallengeRecord{}, err
	}
	s.chMu.Lock()
	defer s.chMu.Unlock()
	c, ok := s.challenges[tokenHash]
	if !ok {
		return ChallengeRecord{}, ErrNotFound
	}
	delete(s.challenges, tokenHash)
	if !now.Before(c.ExpiresAt) {
		return ChallengeRecord{}, ErrNotFound
	}
	return c.clone(), nil
}

// PutSentCode implements [ChallengeStore.PutSentCode].
func (s *MemoryStore) PutSentCode(ctx context.Context, c SentCode) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	s.chMu.Lock()
	defer s.chMu.Unlock()
	if old, ok := s.sent[c.UserID]; ok && old.ResendAt.After(c.SentAt) {
		return old.ResendAt, ErrThrottled
	}
	if len(s.sent) >= s.nextSweepS {
		for k, v := range s.sent {
			if !c.SentAt.Before(v.ExpiresAt) && !v.ResendAt.After(c.SentAt) {
				delete(s.sent, k)
			}
		}
		s.nextSweepS = max(64, 2*len(s.sent))
	}
	s.sent[c.UserID] = c
	return time.Time{}, nil
}

// UseSentCode implements [ChallengeStore.UseSentCode].
func (s *MemoryStore) UseSentCode(ctx context.Context, userID, hash string, now time.Time) (Method, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.chMu.Lock()
	defer s.chMu.Unlock()
	c, ok := s.sent[userID]
	if !ok || c.Hash == "" || c.AttemptsLeft <= 0 || !now.Before(c.ExpiresAt) {
		return "", ErrNotFound
	}
	if c.Hash == hash {
		s.consumeSent(userID, c)
		return c.Channel, nil
	}
	c.AttemptsLeft--
	if c.AttemptsLeft <= 0 {
		s.consumeSent(userID, c)
	} else {
		s.sent[userID] = c
	}
	return "", ErrCodeMismatch
}

// consumeSent voids the user's code but keeps its ResendAt, so that using a
// code does not lift the resend throttle. s.chMu must be held.
func (s *MemoryStore) consumeSent(userID string, c SentCode) {
	c.Hash = ""
	c.AttemptsLeft = 0
	s.sent[userID] = c
}
