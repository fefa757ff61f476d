// Package apikeytest checks implementations of apikey.Store.
//
// An adapter's tests call [Run] with a constructor of empty stores:
//
//	func TestStore(t *testing.T) {
//		apikeytest.Run(t, func(t *testing.T) apikey.Store { return newTestStore(t) })
//	}
//
// The suite depends only on the Store interface. It passes every time
// through the records it stores, uses random IDs and hashes so that stores
// sharing a database do not collide, and compares times at microsecond
// precision in UTC.
package apikeytest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/apikey"
)

// base is the reference time of the suite's records.
var base = time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.UTC)

// Run runs the conformance suite against stores made by newStore, one fresh
// store per subtest.
func Run(t *testing.T, newStore func(t *testing.T) apikey.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s apikey.Store)
	}{
		{"created key is found by ID and by hash with every field", testRoundTrip},
		{"missing ID or hash is ErrNotFound, never nil nil", testNotFound},
		{"duplicate ID is refused and the second key not stored", testDuplicateID},
		{"duplicate hash is refused and the second key not stored", testDuplicateHash},
		{"records do not alias the caller's slices and maps", testCopies},
		{"list returns only the owner's keys in creation order", testList},
		{"revoking twice keeps the first revocation time", testRevoke},
		{"last used keeps the latest time and its IP", testLastUsed},
		{"rotation inserts the successor and retires the old key", testRotate},
		{"rotation keeps an earlier expiry of the old key", testRotateKeepsEarlierExpiry},
		{"rotating a rotated key fails and inserts nothing", testRotateTwice},
		{"rotating a revoked or missing key fails and inserts nothing", testRotateRefused},
		{"rotation with a colliding successor changes nothing", testRotateCollision},
		{"50 concurrent rotations of one key: exactly one wins", testConcurrentRotate},
		{"concurrent creates lookups revocations and uses", testConcurrentMix},
		{"a canceled context is an error", testCanceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

func randomID(t *testing.T) string {
	t.Helper()
	var b [9]byte
	_, _ = rand.Read(b[:])
	return "k" + hex.EncodeToString(b[:])
}

func newKey(t *testing.T, owner string, created time.Time) *apikey.Key {
	t.Helper()
	id := randomID(t)
	return &apikey.Key{
		ID:          id,
		OwnerID:     owner,
		Name:        "pipeline " + id,
		Description: "reads predictions",
		Prefix:      "gk_" + id[1:5],
		Hash:        sha256.Sum256([]byte("key of " + id)),
		Permissions: []string{"alerts:read", "predictions:read"},
		Metadata:    map[string]string{"team": "furnace"},
		CreatedAt:   created,
	}
}

func create(t *testing.T, s apikey.Store, k *apikey.Key) {
	t.Helper()
	if err := s.Create(context.Background(), k, nil); err != nil {
		t.Fatalf("Create(%s): %v", k.ID, err)
	}
}

func get(t *testing.T, s apikey.Store, id string) *apikey.Key {
	t.Helper()
	k, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	if k == nil {
		t.Fatalf("Get(%s) returned nil, nil", id)
	}
	return k
}

func sameKey(t *testing.T, what string, got, want *apikey.Key) {
	t.Helper()
	if got.ID != want.ID || got.OwnerID != want.OwnerID || got.Name != want.Name ||
		got.Description != want.Description || got.Prefix != want.Prefix || got.Hash != want.Hash ||
		got.RotatedFrom != want.RotatedFrom || got.ReplacedBy != want.ReplacedBy ||
		got.LastUsedIP != want.LastUsedIP {
		t.Errorf("%s: got %+v, want %+v", what, got, want)
	}
	if !slices.Equal(got.Permissions, want.Permissions) {
		t.Errorf("%s: permissions %q, want %q", what, got.Permissions, want.Permissions)
	}
	if len(got.Metadata) != len(want.Metadata) {
		t.Errorf("%s: metadata %v, want %v", what, got.Metadata, want.Metadata)
	}
	for k, v := range want.Metadata {
		if got.Metadata[k] != v {
			t.Errorf("%s: metadata %v, want %v", what, got.Metadata, want.Metadata)
		}
	}
	for _, tm := range []struct {
		name      string
		got, want time.Time
	}{
		{"CreatedAt", got.CreatedAt, want.CreatedAt},
		{"ExpiresAt", got.ExpiresAt, want.ExpiresAt},
		{"RevokedAt", got.RevokedAt, want.RevokedAt},
		{"LastUsedAt", got.LastUsedAt, want.LastUsedAt},
	} {
		if !tm.got.Equal(tm.want) {
			t.Errorf("%s: %s = %v, want %v", what, tm.name, tm.got, tm.want)
		}
	}
}

func testRoundTrip(t *testing.T, s apikey.Store) {
	ctx := context.Background()
	k := newKey(t, "user-1", base)
	k.ExpiresAt = base.Add(90 * 24 * time.Hour)
	k.RotatedFrom = "k-older"
	create(t, s, k)
	sameKey(t, "Get", get(t, s, k.ID), k)
	got, err := s.Lookup(ctx, k.Hash)
	if err != nil || got == nil {
		t.Fatalf("Lookup: %v, %v", got, err)
	}
	sameKey(t, "Lookup", got, k)

	bare := &apikey.Key{ID: randomID(t), OwnerID: "user-1", Name: "bare", Prefix: "gk_abcd",
		Hash: sha256.Sum256([]byte(t.Name())), Permissions: []string{}, CreatedAt: base}
	create(t, s, bare)
	got = get(t, s, bare.ID)
	sameKey(t, "Get of a key without expiry or metadata", got, bare)
	if !got.ExpiresAt.IsZero() || !got.RevokedAt.IsZero() || !got.LastUsedAt.IsZero() {
		t.Errorf("zero times came back non-zero: %+v", got)
	}
}

func testNotFound(t *testing.T, s apikey.Store) {
	ctx := context.Background()
	create(t, s, newKey(t, "user-1", base))
	k, err := s.Get(ctx, "no-such-key")
	if !errors.Is(err, apikey.ErrNotFound) || k != nil {
		t.Errorf("Get(missing) = %v, %v; want nil, ErrNotFound", k, err)
	}
	k, err = s.Lookup(ctx, sha256.Sum256([]byte("never stored")))
	if !errors.Is(err, apikey.ErrNotFound) || k != nil {
		t.Errorf("Lookup(missing) = %v, %v; want nil, ErrNotFound", k, err)
	}
	if err := s.Update(ctx, "no-such-key", apikey.Update{RevokedAt: base}); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("Update(missing) = %v; want ErrNotFound", err)
	}
}

func testDuplicateID(t *testing.T, s apikey.Store) {
	ctx := context.Background()
	k := newKey(t, "user-1", base)
	create(t, s, k)
	dup := newKey(t, "user-2", base)
	dup.ID = k.ID
	if err := s.Create(ctx, dup, nil); !errors.Is(err, apikey.ErrExists) {
		t.Fatalf("Create(same ID) = %v; want ErrExists", err)
	}
	if _, err := s.Lookup(ctx, dup.Hash); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("the refused key is findable by hash: %v", err)
	}
	sameKey(t, "original after refused duplicate", get(t, s, k.ID), k)
}

func testDuplicateHash(t *testing.T, s apikey.Store) {
	ctx := context.Background()
	k := newKey(t, "user-1", base)
	create(t, s, k)
	dup := newKey(t, "user-2", base)
	dup.Hash = k.Hash
	if err := s.Create(ctx, dup, nil); !errors.Is(err, apikey.ErrExists) {
		t.Fatalf("Create(same hash) = %v; want ErrExists", err)
	}
	if _, err := s.Get(ctx, dup.ID); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("the refused key is findable by ID: %v", err)
	}
	got, err := s.Lookup(ctx, k.Hash)
	if err != nil {
		t.Fatal(err)
	}
	sameKey(t, "Lookup after refused duplicate", got, k)
}

func testCopies(t *testing.T, s apikey.Store) {
	ctx := context.Background()
	k := newKey(t, "user-1", base)
	create(t, s, k)
	want := *k
	want.Permissions = slices.Clone(k.Permissions)
	want.Metadata = map[string]string{"team": "furnace"}
	k.Permissions[0] = "users:delete"
	k.Metadata["team"] = "attacker"

	got := get(t, s, k.ID)
	sameKey(t, "after modifying the created record", got, &want)
	got.Permissions[0] = "users:delete"
	got.Metadata["team"] = "attacker"
	got.Name = "renamed"
	sameKey(t, "after modifying a returned record", get(t, s, k.ID), &want)
	looked, err := s.Lookup(ctx, k.Hash)
	if err != nil {
		t.Fatal(err)
	}
	looked.Permissions[0] = "users:delete"
	sameKey(t, "after modifying a looked-up record", get(t, s, k.ID), &want)
}

func testList(t *testing.T, s apikey.Store) {
	ctx := context.Background()
	a3 := newKey(t, "alice", base.Add(3*time.Second))
	a1 := newKey(t, "alice", base.Add(1*time.Second))
	b1 := newKey(t, "bob", base.Add(2*time.Second))
	a2 := newKey(t, "alice", base.Add(2*time.Second))
	for _, k := range []*apikey.Key{a3, a1, b1, a2} {
		create(t, s, k)
	}
	if err := s.Update(ctx, a2.ID, apikey.Update{RevokedAt: base.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range got {
		ids = append(ids, k.ID)
	}
	if want := []string{a1.ID, a2.ID, a3.ID}; !slices.Equal(ids, want) {
		t.Errorf("List(alice) = %v; want %v (revoked included, by creation time)", ids, want)
	}
	none, err := s.List(ctx, "nobody")
	if err != nil || len(none) != 0 {
		t.Errorf("List(unknown owner) = %v, %v; want empty, nil", none, err)
	}
}

func testRevoke(t *testing.T, s apikey.Store) {
	ctx := context.Background()
	k := newKey(t, "user-1", base)
	create(t, s, k)
	first, second := base.Add(time.Minute), base.Add(time.Hour)
	for _, at := range []time.Time{first, second} {
		if err := s.Update(ctx, k.ID, apikey.Update{RevokedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	if got := get(t, s, k.ID); !got.RevokedAt.Equal(first) {
		t.Errorf("RevokedAt = %v; want the first revocation %v", got.RevokedAt, first)
	}
	// A last-used update leaves the revocation alone, and vice versa.
	if err := s.Update(ctx, k.ID, apikey.Update{LastUsedAt: second, LastUsedIP: "192.0.2.7"}); err != nil {
		t.Fatal(err)
	}
	got := get(t, s, k.ID)
	if !got.RevokedAt.Equal(first) || !got.LastUsedAt.Equal(second) || got.LastUsedIP != "192.0.2.7" {
		t.Errorf("after last-used update: %+v", got)
	}
}

func testLastUsed(t *testing.T, s apikey.Store) {
	ctx := context.Background()
	k := newKey(t, "user-1", base)
	create(t, s, k)
	steps := []struct {
		at     time.Time
		ip     string
		wantAt time.Time
		wantIP string
	}{
		{base.Add(2 * time.Minute), "192.0.2.2", base.Add(2 * time.Minute), "192.0.2.2"},
		{base.Add(1 * time.Minute), "192.0.2.1", base.Add(2 * time.Minute), "192.0.2.2"}, // late flush from another process
		{base.Add(2 * time.Minute), "192.0.2.9", base.Add(2 * time.Minute), "192.0.2.2"}, // same time: first kept
		{base.Add(3 * time.Minute), "2001:db8::3", base.Add(3 * time.Minute), "2001:db8::3"},
	}
	for i, st := range steps {
		if err := s.Update(ctx, k.ID, apikey.Update{LastUsedAt: st.at, LastUsedIP: st.ip}); err != nil {
			t.Fatal(err)
		}
		got := get(t, s, k.ID)
		if !got.LastUsedAt.Equal(st.wantAt) || got.LastUsedIP != st.wantIP {
			t.Errorf("step %d: last used %v from %q; want %v from %q", i, got.LastUsedAt, got.LastUsedIP, st.wantAt, st.wantIP)
		}
		if !got.RevokedAt.IsZero() {
			t.Errorf("step %d: a last-used update revoked the key", i)
		}
	}
}

func rotate(t *testing.T, s apikey.Store, old *apikey.Key, graceEnd time.Time) (*apikey.Key, error) {
	t.Helper()
	next := newKey(t, old.OwnerID, base.Add(time.Minute))
	next.RotatedFrom = old.ID
	return next, s.Create(context.Background(), next, &apikey.Rotation{OldID: old.ID, OldExpiresAt: graceEnd})
}

func testRotate(t *testing.T, s apikey.Store) {
	old := newKey(t, "user-1", base)
	create(t, s, old)
	graceEnd := base.Add(24 * time.Hour)
	next, err := rotate(t, s, old, graceEnd)
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	sameKey(t, "successor", get(t, s, next.ID), next)
	got := get(t, s, old.ID)
	if got.ReplacedBy != next.ID || !got.ExpiresAt.Equal(graceEnd) {
		t.Errorf("old key after rotation: ReplacedBy %q ExpiresAt %v; want %q, %v", got.ReplacedBy, got.ExpiresAt, next.ID, graceEnd)
	}
	if !got.RevokedAt.IsZero() {
		t.Errorf("rotation revoked the old key")
	}
	// The successor can be rotated in turn; the first key keeps its deadline.
	third, err := rotate(t, s, next, base.Add(48*time.Hour))
	if err != nil {
		t.Fatalf("rotating the successor: %v", err)
	}
	if got := get(t, s, next.ID); got.ReplacedBy != third.ID {
		t.Errorf("successor ReplacedBy = %q; want %q", got.ReplacedBy, third.ID)
	}
	if got := get(t, s, old.ID); !got.ExpiresAt.Equal(graceEnd) {
		t.Errorf("first key's deadline moved to %v", got.ExpiresAt)
	}
}

func testRotateKeepsEarlierExpiry(t *testing.T, s apikey.Store) {
	old := newKey(t, "user-1", base)
	old.ExpiresAt = base.Add(time.Hour)
	create(t, s, old)
	if _, err := rotate(t, s, old, base.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, old.ID); !got.ExpiresAt.Equal(old.ExpiresAt) {
		t.Errorf("ExpiresAt = %v; want the earlier original %v", got.ExpiresAt, old.ExpiresAt)
	}
}

func testRotateTwice(t *testing.T, s apikey.Store) {
	ctx := context.Background()
	old := newKey(t, "user-1", base)
	create(t, s, old)
	first, err := rotate(t, s, old, base.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	second, err := rotate(t, s, old, base.Add(2*time.Hour))
	if !errors.Is(err, apikey.ErrRotated) {
		t.Fatalf("second rotation = %v; want ErrRotated", err)
	}
	if _, err := s.Lookup(ctx, second.Hash); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("refused successor was stored: %v", err)
	}
	got := get(t, s, old.ID)
	if got.ReplacedBy != first.ID || !got.ExpiresAt.Equal(base.Add(time.Hour)) {
		t.Errorf("old key changed by refused rotation: %+v", got)
	}
}

func testRotateRefused(t *testing.T, s apikey.Store) {
	ctx := context.Background()
	revoked := newKey(t, "user-1", base)
	create(t, s, revoked)
	if err := s.Update(ctx, revoked.ID, apikey.Update{RevokedAt: base}); err != nil {
		t.Fatal(err)
	}
	next, err := rotate(t, s, revoked, base.Add(time.Hour))
	if !errors.Is(err, apikey.ErrRevoked) {
		t.Errorf("rotating a revoked key = %v; want ErrRevoked", err)
	}
	if _, err := s.Get(ctx, next.ID); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("successor of a revoked key was stored: %v", err)
	}
	if got := get(t, s, revoked.ID); got.ReplacedBy != "" || !got.ExpiresAt.IsZero() {
		t.Errorf("revoked key changed by refused rotation: %+v", got)
	}

	ghost := newKey(t, "user-1", base)
	next, err = rotate(t, s, ghost, base.Add(time.Hour))
	if !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("rotating a missing key = %v; want ErrNotFound", err)
	}
	if _, err := s.Lookup(ctx, next.Hash); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("successor of a missing key was stored: %v", err)
	}
}

func testRotateCollision(t *testing.T, s apikey.Store) {
	ctx := context.Background()
	old := newKey(t, "user-1", base)
	other := newKey(t, "user-1", base)
	create(t, s, old)
	create(t, s, other)
	next := newKey(t, "user-1", base)
	next.Hash = other.Hash
	err := s.Create(ctx, next, &apikey.Rotation{OldID: old.ID, OldExpiresAt: base.Add(time.Hour)})
	if !errors.Is(err, apikey.ErrExists) {
		t.Fatalf("rotation to a colliding hash = %v; want ErrExists", err)
	}
	if got := get(t, s, old.ID); got.ReplacedBy != "" || !got.ExpiresAt.IsZero() {
		t.Errorf("old key retired by a failed rotation: %+v", got)
	}
	if _, err := s.Get(ctx, next.ID); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("colliding successor stored: %v", err)
	}
}

func testConcurrentRotate(t *testing.T, s apikey.Store) {
	ctx := context.Background()
	old := newKey(t, "user-1", base)
	create(t, s, old)
	const n = 50
	nexts := make([]*apikey.Key, n)
	for i := range nexts {
		nexts[i] = newKey(t, "user-1", base.Add(time.Minute))
		nexts[i].RotatedFrom = old.ID
	}
	var wins atomic.Int32
	errs := make([]error, n)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			errs[i] = s.Create(ctx, nexts[i], &apikey.Rotation{OldID: old.ID, OldExpiresAt: base.Add(time.Hour)})
			if errs[i] == nil {
				wins.Add(1)
			}
		}()
	}
	start.Done()
	wg.Wait()
	if w := wins.Load(); w != 1 {
		t.Fatalf("%d rotations succeeded; want exactly 1", w)
	}
	winner := ""
	for i, err := range errs {
		if err == nil {
			winner = nexts[i].ID
			continue
		}
		if !errors.Is(err, apikey.ErrRotated) {
			t.Errorf("losing rotation: %v; want ErrRotated", err)
		}
		if _, err := s.Lookup(ctx, nexts[i].Hash); !errors.Is(err, apikey.ErrNotFound) {
			t.Errorf("losing successor %s stored: %v", nexts[i].ID, err)
		}
	}
	if got := get(t, s, old.ID); got.ReplacedBy != winner {
		t.Errorf("ReplacedBy = %q; want the winner %q", got.ReplacedBy, winner)
	}
}

func testConcurrentMix(t *testing.T, s apikey.Store) {
	ctx := context.Background()
	const n = 50
	keys := make([]*apikey.Key, n)
	for i := range keys {
		keys[i] = newKey(t, "shared-owner", base.Add(time.Duration(i)*time.Second))
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := keys[i]
			if err := s.Create(ctx, k, nil); err != nil {
				t.Errorf("Create: %v", err)
				return
			}
			for j := range 5 {
				got, err := s.Lookup(ctx, k.Hash)
				if err != nil || got.ID != k.ID {
					t.Errorf("Lookup: %v, %v", got, err)
					return
				}
				at := base.Add(time.Duration(j+1) * time.Minute)
				if err := s.Update(ctx, k.ID, apikey.Update{LastUsedAt: at, LastUsedIP: "192.0.2.1"}); err != nil {
					t.Errorf("Update: %v", err)
				}
				// Read another goroutine's key, which may or may not exist yet.
				if _, err := s.Get(ctx, keys[(i+j+1)%n].ID); err != nil && !errors.Is(err, apikey.ErrNotFound) {
					t.Errorf("Get: %v", err)
				}
			}
			if i%2 == 0 {
				if err := s.Update(ctx, k.ID, apikey.Update{RevokedAt: base.Add(time.Hour)}); err != nil {
					t.Errorf("revoke: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	list, err := s.List(ctx, "shared-owner")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != n {
		t.Fatalf("List has %d keys; want %d", len(list), n)
	}
	for i, k := range keys {
		got := get(t, s, k.ID)
		if revoked := !got.RevokedAt.IsZero(); revoked != (i%2 == 0) {
			t.Errorf("key %d revoked = %v", i, revoked)
		}
		if want := base.Add(5 * time.Minute); !got.LastUsedAt.Equal(want) {
			t.Errorf("key %d LastUsedAt = %v; want %v", i, got.LastUsedAt, want)
		}
	}
}

func testCanceled(t *testing.T, s apikey.Store) {
	k := newKey(t, "user-1", base)
	create(t, s, k)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := s.Lookup(ctx, k.Hash); err == nil {
		t.Errorf("Lookup with a canceled context = %v, nil; want an error", got)
	}
}
