package sqlite_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"

	"github.com/gatehouse-auth/gatehouse/apikey"
	"github.com/gatehouse-auth/gatehouse/apikey/apikeytest"
)

func TestAPIKeyStoreConformance(t *testing.T) {
	apikeytest.Run(t, func(t *testing.T) apikey.Store {
		db := newDB(t)
		return db.APIKeys()
	})
}

// owners is a fixed owner lookup for the manager tests.
type owners struct{}

func (owners) Owner(_ context.Context, id string) (*auth.Principal, error) {
	return &auth.Principal{Subject: id, Username: id, Roles: []string{"engineer"}}, nil
}

// allowAll lets creators grant any permission.
type allowAll struct{}

func (allowAll) Has(*auth.Principal, string) bool { return true }

// TestAPIKeysSharedByTwoManagers plays two instances of a service on one
// database: a key made on A verifies on B, a rotation on B retires it
// everywhere, and a revocation on A is refused on B at once.
func TestAPIKeysSharedByTwoManagers(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	newManager := func() *apikey.Manager {
		m, err := apikey.New(apikey.Config{Store: db.APIKeys(), Owners: owners{}, Policy: allowAll{}, FlushInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close(context.Background()) })
		return m
	}
	a, b := newManager(), newManager()
	plain, rec, err := a.Create(ctx, &auth.Principal{Subject: "user-7"}, apikey.Params{Name: "ci", Permissions: []string{"predictions:read"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(ctx, plain); err != nil {
		t.Fatalf("key made on A, verified on B: %v", err)
	}
	next, _, err := b.Rotate(ctx, rec.ID, time.Hour)
	if err != nil {
		t.Fatalf("Rotate on B: %v", err)
	}
	if _, err := a.Verify(ctx, plain); err != nil {
		t.Fatalf("key rotated on B, inside its grace period, on A: %v", err)
	}
	if _, _, err := a.Rotate(ctx, rec.ID, time.Hour); !errors.Is(err, apikey.ErrRotated) {
		t.Fatalf("second rotation on A: %v, want ErrRotated", err)
	}
	if _, err := a.Verify(ctx, next); err != nil {
		t.Fatalf("successor made on B, verified on A: %v", err)
	}
	keys, err := a.List(ctx, "user-7")
	if err != nil || len(keys) != 2 {
		t.Fatalf("List: %d keys, %v; want 2", len(keys), err)
	}
	for _, k := range keys {
		if err := a.Revoke(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{plain, next} {
		if _, err := b.Verify(ctx, k); !errors.Is(err, apikey.ErrRevoked) {
			t.Fatalf("key revoked on A, verified on B: %v, want ErrRevoked", err)
		}
	}
}
