package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/gatehouse-auth/gatehouse/session"
)

func TestDeleteExpiredSessionsAndFamilies(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	sessions := db.Sessions()
	for i, ttl := range []time.Duration{time.Minute, time.Hour} {
		rec := session.Record{ID: string(rune('a' + i)), UserID: "u", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(ttl)}
		if _, err := sessions.Create(ctx, rec, session.CreateOptions{Now: now}); err != nil {
			t.Fatal(err)
		}
	}
	gone, err := sessions.DeleteExpired(ctx, now.Add(time.Minute))
	if err != nil || len(gone) != 1 || gone[0].ID != "a" {
		t.Fatalf("DeleteExpired(sessions) = %v, %v; want session a", gone, err)
	}
	if _, err := sessions.Get(ctx, "b"); err != nil {
		t.Fatalf("live session deleted: %v", err)
	}

	families := db.RefreshFamilies()
	for i, ttl := range []time.Duration{time.Minute, time.Hour} {
		f := jwtprovider.Family{ID: string(rune('a' + i)), Subject: "u", Current: "j", CreatedAt: now, ExpiresAt: now.Add(ttl)}
		if err := families.Create(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := families.DeleteExpired(ctx, now.Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("DeleteExpired(families) = %d, %v; want 1", n, err)
	}
	if _, err := families.Rotate(ctx, "b", "j", "k", now.Add(time.Minute)); err != nil {
		t.Fatalf("live family gone: %v", err)
	}
}
