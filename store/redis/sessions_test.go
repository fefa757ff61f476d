package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/session"
	"github.com/gatehouse-auth/gatehouse/session/sessiontest"
)

func TestSessionStoreConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store {
		db, _, _ := newDB(t)
		return db.Sessions()
	})
}

func TestSessionKeysExpireAndGo(t *testing.T) {
	ctx := context.Background()
	db, c, prefix := newDB(t)
	s := db.Sessions()
	now := time.Now()
	rec := session.Record{ID: "0123abcd", UserID: "user:{7}", CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(30 * time.Minute), AbsoluteExpiresAt: now.Add(12 * time.Hour)}
	if _, err := s.Create(ctx, rec, session.CreateOptions{Now: now, MaxPerUser: 3}); err != nil {
		t.Fatal(err)
	}
	recKey, idxKey := prefix+"{s}:rec:0123abcd", prefix+"{s}:user:user:{7}"
	for _, k := range []string{recKey, idxKey} {
		ttl, err := c.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 30*time.Minute || ttl > 30*time.Minute+time.Second {
			t.Errorf("TTL of %s = %v, want 30m and the second of grace", k, ttl)
		}
	}
	// Extending the session extends both keys, up to the absolute deadline.
	// TTLs count from the caller's now, here the real time.
	if err := s.Update(ctx, rec.ID, session.Update{Now: now, LastSeenAt: now, ExpiresAt: now.Add(50 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{recKey, idxKey} {
		if ttl, _ := c.PTTL(ctx, k).Result(); ttl <= 50*time.Minute || ttl > 50*time.Minute+time.Second {
			t.Errorf("TTL of %s after extension = %v, want 50m and the second of grace", k, ttl)
		}
	}
	if _, err := s.Delete(ctx, session.Query{UserID: rec.UserID}); err != nil {
		t.Fatal(err)
	}
	if keys := keysUnder(t, c, prefix); len(keys) != 0 {
		t.Fatalf("keys left after deleting every session: %q", keys)
	}
}
