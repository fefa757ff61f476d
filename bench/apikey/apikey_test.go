// Package apikeybench measures API key verification against stores of
// different sizes.
package apikeybench

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/apikey"
	"github.com/gatehouse-auth/gatehouse/auth"
)

// workingSet is the number of distinct keys verified in turn, for every
// store size.
const workingSet = 1000

type owners struct{ p *auth.Principal }

func (o owners) Owner(context.Context, string) (*auth.Principal, error) { return o.p, nil }

type allowAll struct{}

func (allowAll) Has(*auth.Principal, string) bool { return true }

// BenchmarkAPIKeyVerify measures Manager.Verify of a valid key, the whole
// path of the API key authenticator after header parsing: checksum,
// HMAC-SHA256 (Config.HashKey set, the recommended setting), one lookup in
// the in-memory store, the revocation and expiry checks, the owner lookup (a
// host fake returning a fixed principal), the coalesced last-used note, and
// the principal it returns, at steady state.
//
// Both sizes verify the same 1,000 keys in turn; in the 1M store they are
// spread among 999,000 other records, so the comparison shows the effect of
// the store's size, not of how many keys a client population uses. The 1,000
// verified keys are made with Manager.Create; the other records are inserted
// directly with MemoryStore.Create (construction shortcut: no random key,
// no permission check, no event; their hashes are SHA-256 of a counter and
// match no key). Each verified key is used once before the timer starts, so
// the last-used tracker already holds its entry, as it does between flushes
// in a running server.
func BenchmarkAPIKeyVerify(b *testing.B) {
	b.Run("gatehouse", func(b *testing.B) {
		for _, size := range []struct {
			name string
			n    int
		}{{"1k", 1_000}, {"1M", 1_000_000}} {
			b.Run(size.name, func(b *testing.B) {
				m, keys := setup(b, size.n)
				ctx := auth.WithRequestMeta(context.Background(), auth.RequestMeta{ClientIP: "192.0.2.10"})
				for _, k := range keys {
					if _, err := m.Verify(ctx, k); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, err := m.Verify(ctx, keys[i]); err != nil {
						b.Fatal(err)
					}
					i++
					if i == len(keys) {
						i = 0
					}
				}
			})
		}
	})
}

func setup(b *testing.B, n int) (*apikey.Manager, []string) {
	b.Helper()
	ctx := context.Background()
	store := apikey.NewMemoryStore()
	owner := &auth.Principal{Subject: "svc-scada", Username: "scada", Roles: []string{"supervisor"}}
	m, err := apikey.New(apikey.Config{
		Store:           store,
		Owners:          owners{owner},
		Policy:          allowAll{},
		HashKey:         []byte("benchmark hash key of 32 bytes.."),
		MaxKeysPerOwner: -1,
		FlushInterval:   -1,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close(ctx) })

	perms := []string{"alerts:read", "predictions:read"}
	created := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	keys := make([]string, 0, workingSet)
	every := n / workingSet
	for i := range n {
		if i%every == 0 && len(keys) < workingSet {
			plain, _, err := m.Create(ctx, owner, apikey.Params{Name: "integration", Permissions: perms})
			if err != nil {
				b.Fatal(err)
			}
			keys = append(keys, plain)
			continue
		}
		var seed [8]byte
		binary.LittleEndian.PutUint64(seed[:], uint64(i))
		err := store.Create(ctx, &apikey.Key{
			ID:          fmt.Sprintf("fill%07d", i),
			OwnerID:     fmt.Sprintf("owner%04d", i%5000),
			Name:        "integration",
			Prefix:      "gk_fill",
			Hash:        sha256.Sum256(seed[:]),
			Permissions: perms,
			CreatedAt:   created,
		}, nil)
		if err != nil {
			b.Fatal(err)
		}
	}
	return m, keys
}
