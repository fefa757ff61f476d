package oauth2provider

import (
	"context"
	"sync"
	"time"
)

// ReplayStore remembers which login flows have completed, so that a
// callback URL and flow cookie captured by an attacker (from a proxy log, a
// shared machine, a browser history sync) cannot be played a second time.
//
// The provider calls it once per callback whose state already matched, with
// a key derived by SHA-256 from the flow's random ID (the store never sees
// the ID itself) and the flow's expiry: keys need to be remembered only until
// then, because an expired flow is refused before the store is asked.
//
// Implementations must be safe for concurrent use.
type ReplayStore interface {
	// MarkUsed records key as used until expiresAt. It returns ErrReplayed
	// if key is already recorded with an expiry after now, and nil
	// otherwise. Check and insert are one atomic step: of several
	// concurrent calls with one key, exactly one returns nil (Redis: a
	// script that compares the stored expiry with now, then SET ... PX;
	// SQL: INSERT ... ON CONFLICT DO UPDATE ... WHERE expires_at <= now).
	// Expiry is decided in the caller's clock now; a store that also drops
	// keys itself (a Redis TTL of expiresAt-now) must not drop them
	// earlier than that.
	MarkUsed(ctx context.Context, key string, now, expiresAt time.Time) error
}

// TokenStore keeps the IdP's tokens of each user (access and refresh token)
// for later calls to the IdP's APIs. The provider hands it only ciphertexts
// sealed with the Config.Keyring and bound to the IdP name and subject, so
// that a stolen store reveals no token and a ciphertext moved to another
// row does not open.
//
// Implementations must be safe for concurrent use.
type TokenStore interface {
	// SaveToken stores sealed for (idp, subject), replacing any earlier one.
	SaveToken(ctx context.Context, idp, subject, sealed string) error
	// LoadToken returns what SaveToken stored for (idp, subject), or
	// ErrNotFound; never "", nil.
	LoadToken(ctx context.Context, idp, subject string) (string, error)
	// DeleteToken removes the token of (idp, subject); deleting a missing
	// token is not an error.
	DeleteToken(ctx context.Context, idp, subject string) error
}

var (
	_ ReplayStore = (*MemoryReplayStore)(nil)
	_ TokenStore  = (*MemoryTokenStore)(nil)
)

// DefaultReplayStoreLimit is the number of live entries a
// [MemoryReplayStore] from [NewMemoryReplayStore] holds at most.
const DefaultReplayStoreLimit = 100_000

// MemoryReplayStore is the in-memory [ReplayStore]: a map of key to expiry,
// swept of expired keys as it grows, and capped at a number of live entries
// beyond which MarkUsed fails with ErrStoreFull (the login then fails with
// 503 rather than forgetting used flows). It serves one process only; hosts
// running several instances behind a load balancer need a shared store.
//
// A MemoryReplayStore is safe for concurrent use.
type MemoryReplayStore struct {
	limit int

	mu        sync.Mutex // guards used and nextSweep
	used      map[string]time.Time
	nextSweep int
}

// NewMemoryReplayStore returns an empty store capped at
// DefaultReplayStoreLimit live entries.
func NewMemoryReplayStore() *MemoryReplayStore {
	return &MemoryReplayStore{limit: DefaultReplayStoreLimit, used: map[string]time.Time{}, nextSweep: 1024}
}

// MarkUsed implements [ReplayStore].
func (s *MemoryReplayStore) MarkUsed(ctx context.Context, key string, now, expiresAt time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if exp, ok := s.used[key]; ok && exp.After(now) {
		return ErrReplayed
	}
	if len(s.used) >= s.nextSweep || len(s.used) >= s.limit {
		for k, exp := range s.used {
			if !exp.After(now) {
				delete(s.used, k)
			}
		}
		s.nextSweep = max(1024, 2*len(s.used))
	}
	if _, ok := s.used[key]; !ok && len(s.used) >= s.limit {
		return ErrStoreFull
	}
	s.used[key] = expiresAt
	return nil
}

// Len returns the number of keys held, expired ones not yet swept included.
func (s *MemoryReplayStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.used)
}

// MemoryTokenStore is the in-memory [TokenStore].
//
// A MemoryTokenStore is safe for concurrent use.
type MemoryTokenStore struct {
	mu     sync.Mutex // guards tokens
	tokens map[[2]string]string
}

// NewMemoryTokenStore returns an empty store.
func NewMemoryTokenStore() *MemoryTokenStore {
	return &MemoryTokenStore{tokens: map[[2]string]string{}}
}

// SaveToken implements [TokenStore].
func (s *MemoryTokenStore) SaveToken(ctx context.Context, idp, subject, sealed string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[[2]string{idp, subject}] = sealed
	return nil
}

// LoadToken implements [TokenStore].
func (s *MemoryTokenStore) LoadToken(ctx context.Context, idp, subject string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.tokens[[2]string{idp, subject}]
	if !ok {
		return "", ErrNotFound
	}
	return v, nil
}

// DeleteToken implements [TokenStore].
func (s *MemoryTokenStore) DeleteToken(ctx context.Context, idp, subject string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, [2]string{idp, subject})
	return nil
}
