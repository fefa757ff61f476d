package jwtprovider

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Family is a refresh-token family: the chain of refresh tokens issued from
// one login, of which only the newest (Current) may be used. Its ID is the
// "sid" claim of every token of the family.
//
// The store holds token IDs ("jti"), not tokens: a jti is useless without
// the signed token that carries it.
type Family struct {
	// ID identifies the family.
	ID string
	// Subject is the "sub" of the family's tokens.
	Subject string
	// Current is the jti of the one refresh token that may be used next.
	Current string
	// CreatedAt is when the family was created (the login).
	CreatedAt time.Time
	// ExpiresAt is the absolute end of the family: no refresh succeeds at
	// or after it, and the store may then forget the family.
	ExpiresAt time.Time
	// Revoked is set when the family was revoked (by [RefreshStore.Revoke]
	// or on reuse).
	Revoked bool
}

// RefreshStore keeps refresh-token families. Implementations must be safe
// for concurrent use and honour ctx. Every method is one atomic operation;
// in particular Rotate must be a single conditional write (a transaction,
// a compare-and-set, a Lua script), so that of concurrent rotations of one
// token exactly one succeeds.
//
// The conformance suite in package jwtprovidertest checks these semantics.
type RefreshStore interface {
	// Create stores a new family. It fails with [ErrExists] if the ID is
	// taken, storing nothing.
	Create(ctx context.Context, f Family) error
	// Rotate consumes the refresh token currentID of family id and makes
	// nextID current, returning the updated family. It fails with:
	//   - [ErrNotFound] if the family does not exist or now is not before
	//     its ExpiresAt;
	//   - [ErrReused] if currentID is not the family's current token, and
	//     then revokes the family in the same operation (reuse is reported
	//     even when the family was already revoked);
	//   - [ErrRevoked] if the family is revoked.
	Rotate(ctx context.Context, id, currentID, nextID string, now time.Time) (Family, error)
	// Revoke revokes family id. Revoking a missing or revoked family is
	// not an error.
	Revoke(ctx context.Context, id string) error
}

// MemoryRefreshStore is the in-memory [RefreshStore]. It is safe for
// concurrent use. Expired families are dropped as new ones are created. It
// only covers one process: several instances need a shared store.
type MemoryRefreshStore struct {
	mu       sync.Mutex // guards families and sweepAt
	families map[string]Family
	sweepAt  int
}

var _ RefreshStore = (*MemoryRefreshStore)(nil)

// NewMemoryRefreshStore returns an empty MemoryRefreshStore.
func NewMemoryRefreshStore() *MemoryRefreshStore {
	return &MemoryRefreshStore{families: make(map[string]Family), sweepAt: 1024}
}

var errBadFamily = errors.New("jwtprovider: family needs an ID and a current token ID")

// Create implements [RefreshStore.Create].
func (s *MemoryRefreshStore) Create(ctx context.Context, f Family) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if f.ID == "" || f.Current == "" {
		return errBadFamily
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.families) >= s.sweepAt {
		for id, g := range s.families {
			if !f.CreatedAt.Before(g.ExpiresAt) {
				delete(s.families, id)
			}
		}
		s.sweepAt = max(1024, 2*len(s.families))
	}
	if _, ok := s.families[f.ID]; ok {
		return ErrExists
	}
	s.families[f.ID] = f
	return nil
}

// Rotate implements [RefreshStore.Rotate].
func (s *MemoryRefreshStore) Rotate(ctx context.Context, id, currentID, nextID string, now time.Time) (Family, error) {
	if err := ctx.Err(); err != nil {
		return Family{}, err
	}
	if nextID == "" {
		return Family{}, errBadFamily
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.families[id]
	if !ok || !now.Before(f.ExpiresAt) {
		return Family{}, ErrNotFound
	}
	if f.Current != currentID {
		f.Revoked = true
		s.families[id] = f
		return Family{}, ErrReused
	}
	if f.Revoked {
		return Family{}, ErrRevoked
	}
	f.Current = nextID
	s.families[id] = f
	return f, nil
}

// Revoke implements [RefreshStore.Revoke].
func (s *MemoryRefreshStore) Revoke(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.families[id]; ok {
		f.Revoked = true
		s.families[id] = f
	}
	return nil
}
