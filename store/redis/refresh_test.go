package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/gatehouse-auth/gatehouse/jwtprovider/jwtprovidertest"
)

func TestRefreshStoreConformance(t *testing.T) {
	jwtprovidertest.RunRefreshStore(t, func(t *testing.T) jwtprovider.RefreshStore {
		db, _, _ := newDB(t)
		return db.RefreshFamilies()
	})
}

func TestRefreshFamilyExpiresAndRevokeCreatesNothing(t *testing.T) {
	ctx := context.Background()
	db, c, prefix := newDB(t)
	s := db.RefreshFamilies()
	now := time.Now()
	if err := s.Create(ctx, jwtprovider.Family{ID: "fam", Subject: "u", Current: "j1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if ttl, _ := c.PTTL(ctx, prefix+"family:{fam}").Result(); ttl <= time.Hour || ttl > time.Hour+time.Second {
		t.Fatalf("TTL of the family = %v, want about 1h", ttl)
	}
	if err := s.Revoke(ctx, "never-created"); err != nil {
		t.Fatal(err)
	}
	if keys := keysUnder(t, c, prefix); len(keys) != 1 {
		t.Fatalf("keys after revoking a missing family: %q, want only the created one", keys)
	}
}
