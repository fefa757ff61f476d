package apikey

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Store persists key records. Implementations must be safe for concurrent
// use, and must honour ctx on every call. They hold hashes, never keys.
//
// Every method that returns a *Key returns a copy the caller owns, or an
// error: never (nil, nil). A missing key is reported as an error wrapping
// [ErrNotFound].
//
// The conformance suite in package apikeytest checks these semantics; every
// adapter should run it.
type Store interface {
	// Create inserts k. It fails with [ErrExists] if a key with k.ID or
	// k.Hash is stored, and stores nothing.
	//
	// When rot is non-nil, Create is a rotation and does two things in one
	// atomic operation: it inserts k, and it retires the key rot.OldID by
	// setting its ReplacedBy to k.ID and its ExpiresAt to the earlier of its
	// current ExpiresAt (zero meaning never) and rot.OldExpiresAt. It fails,
	// changing nothing, with [ErrNotFound] if the old key does not exist,
	// [ErrRevoked] if it is revoked, and [ErrRotated] if it already has a
	// successor; so of concurrent rotations of one key exactly one succeeds.
	Create(ctx context.Context, k *Key, rot *Rotation) error
	// Lookup returns the key whose Hash is h. It is the hot path of every
	// authenticated request and must be a single indexed read.
	Lookup(ctx context.Context, h Hash) (*Key, error)
	// Get returns the key with the given ID.
	Get(ctx context.Context, id string) (*Key, error)
	// List returns the keys of ownerID, revoked and expired ones included,
	// ordered by CreatedAt then ID. No keys is an empty result, not an
	// error.
	List(ctx context.Context, ownerID string) ([]*Key, error)
	// Update applies u to the key id atomically (see [Update] for each
	// field's rule). It fails with [ErrNotFound] if there is no such key.
	Update(ctx context.Context, id string, u Update) error
}

// Rotation asks [Store.Create] to retire an existing key in the same
// operation that inserts its successor.
type Rotation struct {
	// OldID is the ID of the key being rotated.
	OldID string
	// OldExpiresAt is the end of the old key's grace period.
	OldExpiresAt time.Time
}

// Update is a change to a stored key. Zero fields leave the key unchanged,
// and each rule is a conditional write, so that Update can run concurrently
// from several processes without losing anything.
type Update struct {
	// RevokedAt, if non-zero, revokes the key at that time unless it is
	// already revoked (the first revocation time is kept).
	RevokedAt time.Time
	// LastUsedAt, if non-zero and later than the stored LastUsedAt, is
	// stored together with LastUsedIP; an earlier or equal time is ignored.
	LastUsedAt time.Time
	// LastUsedIP is the client address of the use at LastUsedAt.
	LastUsedIP string
}

// SharedLookup is an optional capability of a [Store] that keeps its records
// in memory and never modifies a stored record in place (changes replace
// it). LookupShared is [Store.Lookup] without the copy: it returns the
// stored record itself, which the caller must neither modify nor retain. A
// [Manager] uses it, when its store has it, on the verification path; it
// hands nothing mutable of the record to its callers.
type SharedLookup interface {
	LookupShared(ctx context.Context, h Hash) (*Key, error)
}

// MemoryStore is the in-memory [Store]: maps by hash and by ID and an index
// by owner, over records that are replaced, never modified, when they change
// (so it also offers [SharedLookup]). It is safe for concurrent use. Keys
// live as long as the process; use a database adapter when several
// processes share keys.
//
// Stored records share their permission list with the other records that
// have the same one, so that a store of many keys holds fewer objects for
// the garbage collector to trace.
type MemoryStore struct {
	mu       sync.RWMutex // guards byID, byHash, byOwner and permSets (records themselves are immutable)
	byID     map[string]*Key
	byHash   map[Hash]*Key
	byOwner  map[string][]string // owner ID -> key IDs
	permSets map[string][]string // permissions joined by NUL -> one shared, never modified slice
}

var (
	_ Store        = (*MemoryStore)(nil)
	_ SharedLookup = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		byID:     make(map[string]*Key),
		byHash:   make(map[Hash]*Key),
		byOwner:  make(map[string][]string),
		permSets: make(map[string][]string),
	}
}

var errBadRecord = errors.New("apikey: key record needs an ID and a hash")

// Create implements [Store.Create].
func (s *MemoryStore) Create(ctx context.Context, k *Key, rot *Rotation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if k == nil || k.ID == "" || k.Hash.IsZero() {
		return errBadRecord
	}
	rec := *k
	rec.Metadata = maps.Clone(k.Metadata)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[rec.ID]; ok {
		return ErrExists
	}
	if _, ok := s.byHash[rec.Hash]; ok {
		return ErrExists
	}
	if rot != nil {
		old, ok := s.byID[rot.OldID]
		switch {
		case !ok:
			return ErrNotFound
		case !old.RevokedAt.IsZero():
			return ErrRevoked
		case old.ReplacedBy != "":
			return ErrRotated
		}
		retired := *old
		retired.ReplacedBy = rec.ID
		if retired.ExpiresAt.IsZero() || rot.OldExpiresAt.Before(retired.ExpiresAt) {
			retired.ExpiresAt = rot.OldExpiresAt
		}
		s.replace(&retired)
	}
	rec.Permissions = s.internPermissions(k.Permissions)
	s.byID[rec.ID] = &rec
	s.byHash[rec.Hash] = &rec
	s.byOwner[rec.OwnerID] = append(s.byOwner[rec.OwnerID], rec.ID)
	return nil
}

// internPermissions returns a shared copy of perms. s.mu must be held.
func (s *MemoryStore) internPermissions(perms []string) []string {
	if perms == nil {
		return nil
	}
	key := strings.Join(perms, "\x00")
	if shared, ok := s.permSets[key]; ok && len(shared) == len(perms) {
		return shared
	}
	shared := slices.Clip(slices.Clone(perms))
	s.permSets[key] = shared
	return shared
}

// replace swaps in a new version of a stored record. s.mu must be held.
func (s *MemoryStore) replace(rec *Key) {
	s.byID[rec.ID] = rec
	s.byHash[rec.Hash] = rec
}

// LookupShared implements [SharedLookup].
func (s *MemoryStore) LookupShared(ctx context.Context, h Hash) (*Key, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	rec, ok := s.byHash[h]
	s.mu.RUnlock()
	if !ok {
		return nil, ErrNotFound
	}
	return rec, nil
}

// Lookup implements [Store.Lookup].
func (s *MemoryStore) Lookup(ctx context.Context, h Hash) (*Key, error) {
	rec, err := s.LookupShared(ctx, h)
	if err != nil {
		return nil, err
	}
	return rec.Clone(), nil
}

// Get implements [Store.Get].
func (s *MemoryStore) Get(ctx context.Context, id string) (*Key, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	rec, ok := s.byID[id]
	s.mu.RUnlock()
	if !ok {
		return nil, ErrNotFound
	}
	return rec.Clone(), nil
}

// List implements [Store.List].
func (s *MemoryStore) List(ctx context.Context, ownerID string) ([]*Key, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	ids := s.byOwner[ownerID]
	recs := make([]*Key, 0, len(ids))
	for _, id := range ids {
		recs = append(recs, s.byID[id])
	}
	s.mu.RUnlock()
	out := make([]*Key, len(recs))
	for i, rec := range recs {
		out[i] = rec.Clone()
	}
	slices.SortFunc(out, func(a, b *Key) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Update implements [Store.Update].
func (s *MemoryStore) Update(ctx context.Context, id string, u Update) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.byID[id]
	if !ok {
		return ErrNotFound
	}
	revoke := !u.RevokedAt.IsZero() && rec.RevokedAt.IsZero()
	use := !u.LastUsedAt.IsZero() && u.LastUsedAt.After(rec.LastUsedAt)
	if !revoke && !use {
		return nil
	}
	next := *rec
	if revoke {
		next.RevokedAt = u.RevokedAt
	}
	if use {
		next.LastUsedAt = u.LastUsedAt
		next.LastUsedIP = u.LastUsedIP
	}
	s.replace(&next)
	return nil
}
