package jwtprovider

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Revocation is one revocation record: either an ID (a token's "jti" or a
// refresh family's ID) or a per-subject cut-off.
type Revocation struct {
	// ID is the revoked token ID or family ID. Empty for a subject cut-off.
	ID string
	// Subject, when ID is empty, is the subject whose tokens issued at or
	// before At are revoked.
	Subject string
	// At is when the revocation was made. For a subject it is the cut-off.
	At time.Time
	// Until is when the record may be forgotten: the latest expiry of any
	// token it covers. A store may drop the record once a later
	// revocation's At has passed Until.
	Until time.Time
}

// TokenRef names what a revocation check looks at: a token's ID, its
// refresh family (session) ID, its subject and its issue time. Empty fields
// are not checked.
type TokenRef struct {
	ID       string
	FamilyID string
	Subject  string
	IssuedAt time.Time
}

// RevocationMirror answers revocation checks from process memory, without
// I/O. The provider consults it on every verification, cache hits included,
// so it must be fast and safe for concurrent use.
//
// Check returns nil when the token is not revoked, an error wrapping
// [ErrRevoked] when its ID or family ID was revoked or it was issued at or
// before its subject's cut-off (IssuedAt <= cut-off), and any other error
// (typically wrapping [ErrMirrorStale]) when the mirror cannot vouch for its
// freshness; the provider then refuses the token as a store failure, never
// as valid.
type RevocationMirror interface {
	Check(ref TokenRef) error
}

// RevocationStore records revocations and shares them between the
// instances of a deployment. Implementations must be safe for concurrent
// use and honour ctx.
//
// The staleness contract, which adapters document with their bound:
//   - A revocation written through a store is visible in that store's
//     Mirror before Revoke returns (an instance enforces its own
//     revocations at once).
//   - A revocation written by another instance is visible in the mirror
//     within the adapter's documented bound (for example one pub/sub delay,
//     with a periodic full resynchronisation behind it).
//   - When the mirror cannot guarantee that bound (its feed is disconnected
//     for longer than the bound), Check fails with an error wrapping
//     [ErrMirrorStale] instead of answering from old data.
//   - Subject cut-offs keep at least millisecond precision.
//
// The conformance suite in package jwtprovidertest checks these semantics
// (except the cross-instance bound, which each adapter measures).
type RevocationStore interface {
	// Revoke records r. Revoking an ID twice is not an error. For a
	// subject, the stored cut-off is the later of the stored one and
	// r.At (a cut-off never moves back), and its Until the later of both.
	Revoke(ctx context.Context, r Revocation) error
	// Mirror returns the in-process view the verifier reads. It is called
	// once, by New.
	Mirror() RevocationMirror
}

// MemoryRevocationStore is the in-memory [RevocationStore]; it is its own
// exact mirror (no staleness). It is safe for concurrent use. Records are
// dropped once a later revocation is made after their Until. It only covers
// one process: several instances need a shared store.
type MemoryRevocationStore struct {
	mu       sync.RWMutex // guards ids, subjects, sweepAt
	ids      map[string]time.Time
	subjects map[string]cutoff
	sweepAt  int // sweep when len(ids)+len(subjects) reaches this
}

type cutoff struct{ at, until time.Time }

var (
	_ RevocationStore  = (*MemoryRevocationStore)(nil)
	_ RevocationMirror = (*MemoryRevocationStore)(nil)
)

// NewMemoryRevocationStore returns an empty MemoryRevocationStore.
func NewMemoryRevocationStore() *MemoryRevocationStore {
	return &MemoryRevocationStore{
		ids:      make(map[string]time.Time),
		subjects: make(map[string]cutoff),
		sweepAt:  1024,
	}
}

var errBadRevocation = errors.New("jwtprovider: revocation needs an ID or a subject")

// Revoke implements [RevocationStore.Revoke].
func (s *MemoryRevocationStore) Revoke(ctx context.Context, r Revocation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if r.ID == "" && r.Subject == "" {
		return errBadRevocation
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.ids) + len(s.subjects); n >= s.sweepAt {
		s.sweep(r.At)
		s.sweepAt = max(1024, 2*(len(s.ids)+len(s.subjects)))
	}
	if r.ID != "" {
		if u, ok := s.ids[r.ID]; !ok || r.Until.After(u) {
			s.ids[r.ID] = r.Until
		}
		return nil
	}
	c, ok := s.subjects[r.Subject]
	if !ok {
		s.subjects[r.Subject] = cutoff{at: r.At, until: r.Until}
		return nil
	}
	if r.At.After(c.at) {
		c.at = r.At
	}
	if r.Until.After(c.until) {
		c.until = r.Until
	}
	s.subjects[r.Subject] = c
	return nil
}

// sweep drops records whose Until is before now. The caller holds s.mu.
func (s *MemoryRevocationStore) sweep(now time.Time) {
	for id, u := range s.ids {
		if u.Before(now) {
			delete(s.ids, id)
		}
	}
	for sub, c := range s.subjects {
		if c.until.Before(now) {
			delete(s.subjects, sub)
		}
	}
}

// Mirror implements [RevocationStore.Mirror]: the store itself.
func (s *MemoryRevocationStore) Mirror() RevocationMirror { return s }

// Check implements [RevocationMirror.Check].
func (s *MemoryRevocationStore) Check(ref TokenRef) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if ref.ID != "" {
		if _, ok := s.ids[ref.ID]; ok {
			return ErrRevoked
		}
	}
	if ref.FamilyID != "" {
		if _, ok := s.ids[ref.FamilyID]; ok {
			return ErrRevoked
		}
	}
	if ref.Subject != "" {
		if c, ok := s.subjects[ref.Subject]; ok && !ref.IssuedAt.After(c.at) {
			return ErrRevoked
		}
	}
	return nil
}
