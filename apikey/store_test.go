package apikey_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/apikey"
	"github.com/gatehouse-auth/gatehouse/apikey/apikeytest"
)

func TestMemoryStore(t *testing.T) {
	apikeytest.Run(t, func(t *testing.T) apikey.Store { return apikey.NewMemoryStore() })
}

func TestMemoryStoreSharedRecordsAreNeverModified(t *testing.T) {
	ctx := context.Background()
	s := apikey.NewMemoryStore()
	k := &apikey.Key{ID: "k1", OwnerID: "u1", Hash: apikey.Hash{1}, Permissions: []string{"alerts:read"}}
	if err := s.Create(ctx, k, nil); err != nil {
		t.Fatal(err)
	}
	before, err := s.LookupShared(ctx, k.Hash)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.Update(ctx, "k1", apikey.Update{RevokedAt: now, LastUsedAt: now, LastUsedIP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	next := &apikey.Key{ID: "k2", OwnerID: "u1", Hash: apikey.Hash{2}}
	if err := s.Create(ctx, next, &apikey.Rotation{OldID: "k1", OldExpiresAt: now}); !errors.Is(err, apikey.ErrRevoked) {
		t.Fatalf("rotating a revoked key: %v", err)
	}
	if !before.RevokedAt.IsZero() || !before.LastUsedAt.IsZero() || before.LastUsedIP != "" {
		t.Fatalf("a shared record was modified in place: %+v", before)
	}
	after, err := s.LookupShared(ctx, k.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if !after.RevokedAt.Equal(now) || after.LastUsedIP != "192.0.2.1" {
		t.Fatalf("update not visible: %+v", after)
	}
}

// The Manager reads shared records from a MemoryStore; under -race, verify
// while revoking, rotating and flushing.
func TestManagerOverSharedLookup(t *testing.T) {
	o := newOwners()
	alice := o.add("u-alice", "alice", "supervisor")
	m, err := apikey.New(apikey.Config{Owners: o, Policy: plantPolicy, FlushInterval: -1, MaxKeysPerOwner: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				plain, k, err := m.Create(ctx, alice, apikey.Params{Name: "n", Permissions: []string{"alerts:read"}})
				if err != nil {
					t.Error(err)
					return
				}
				p, err := m.Verify(from("192.0.2.1"), plain)
				if err != nil || p.CredentialID != k.ID {
					t.Errorf("Verify: %+v, %v", p, err)
					return
				}
				p.Scopes[0] = "models:deploy" // must not reach the store
				switch (w + i) % 3 {
				case 0:
					_ = m.Revoke(ctx, k.ID)
					if _, err := m.Verify(ctx, plain); !errors.Is(err, apikey.ErrRevoked) {
						t.Errorf("after revoke: %v", err)
					}
				case 1:
					_ = m.Flush(ctx)
				case 2:
					if _, _, err := m.Rotate(ctx, k.ID, time.Minute); err != nil {
						t.Error(err)
					}
				}
				if p, err := m.Verify(ctx, plain); err == nil && p.Scopes[0] != "alerts:read" {
					t.Errorf("scopes changed through a principal: %v", p.Scopes)
				}
			}
		}()
	}
	wg.Wait()
}
