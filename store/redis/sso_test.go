package redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth2provider"
	"github.com/gatehouse-auth/gatehouse/oauth2provider/oauth2providertest"
)

func TestSSOReplayStoreConformance(t *testing.T) {
	oauth2providertest.RunReplayStore(t, func(t *testing.T) oauth2provider.ReplayStore {
		db, _, _ := newDB(t)
		return db.SSOReplay()
	})
}

func TestSSOReplayKeyCarriesTTLFromCallerClock(t *testing.T) {
	ctx := context.Background()
	db, c, prefix := newDB(t)
	s := db.SSOReplay()
	// The caller's clock runs an hour ahead of the server's: the TTL is
	// still the flow's remaining lifetime, not the distance to expiresAt.
	now := time.Now().Add(time.Hour)
	const life = 10 * time.Minute
	if err := s.MarkUsed(ctx, "flow", now, now.Add(life)); err != nil {
		t.Fatal(err)
	}
	ttl, err := c.PTTL(ctx, prefix+"sso:{flow}").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= life-time.Minute || ttl > life+time.Second {
		t.Fatalf("PTTL of the used flow = %v, want in (%v, %v]", ttl, life-time.Minute, life+time.Second)
	}
}

func TestSSOReplayExpiredFlowStoresNothing(t *testing.T) {
	ctx := context.Background()
	db, c, prefix := newDB(t)
	s := db.SSOReplay()
	now := time.Now()
	for _, exp := range []time.Time{now, now.Add(-time.Minute)} {
		if err := s.MarkUsed(ctx, "stale", now, exp); err != nil {
			t.Fatalf("MarkUsed with expiresAt %v before now: %v, want nil", now.Sub(exp), err)
		}
	}
	if keys := keysUnder(t, c, prefix); len(keys) != 0 {
		t.Fatalf("keys after marking expired flows: %q, want none", keys)
	}
	// A live key still refuses a call whose own expiry has passed, as the
	// memory store does.
	if err := s.MarkUsed(ctx, "live", now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkUsed(ctx, "live", now.Add(time.Second), now); !errors.Is(err, oauth2provider.ErrReplayed) {
		t.Fatalf("MarkUsed of a live key with a past expiry: %v, want ErrReplayed", err)
	}
}
