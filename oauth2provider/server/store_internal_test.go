package server

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/secure"
)

// TestMemoryStoreSweepsAndCaps: expired grants are dropped with their
// index entries as new ones arrive, and live grants are capped.
func TestMemoryStoreSweepsAndCaps(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore()
	s.limit = 3000
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	grant := func(at time.Time) Grant {
		return Grant{ID: secure.Token(16), CodeHash: secure.HashHex(secure.Token(32)), CreatedAt: at,
			CodeExpiresAt: at.Add(time.Minute), ExpiresAt: at.Add(time.Hour)}
	}
	old := grant(base)
	if err := s.CreateGrant(ctx, old); err != nil {
		t.Fatal(err)
	}
	for range 2000 {
		if err := s.CreateGrant(ctx, grant(base.Add(2*time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.FindGrant(ctx, old.CodeHash); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired grant still indexed: %v", err)
	}
	s.mu.Lock()
	n, idx := len(s.grants), len(s.index)
	s.mu.Unlock()
	if n != 2000 || idx != 2000 {
		t.Fatalf("%d grants and %d index entries after the sweep, want 2000 each", n, idx)
	}
	for range 1000 {
		if err := s.CreateGrant(ctx, grant(base.Add(2*time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateGrant(ctx, grant(base.Add(2*time.Hour))); !errors.Is(err, ErrStoreFull) {
		t.Fatalf("CreateGrant over the limit: %v, want ErrStoreFull", err)
	}
}
