package sqlite_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth2provider/server"
	"github.com/gatehouse-auth/gatehouse/oauth2provider/server/servertest"
)

func TestOAuthStoreConformance(t *testing.T) {
	servertest.Run(t, func(t *testing.T) server.Store { return newDB(t).OAuth() })
}

func TestOAuthStoreDeleteExpired(t *testing.T) {
	ctx := context.Background()
	s := newDB(t).OAuth()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	grant := func(id string, ttl time.Duration) server.Grant {
		return server.Grant{
			ID: id, ClientID: "client", Subject: "user", Scopes: []string{"openid"},
			CodeHash: "code-" + id, CodeExpiresAt: now.Add(time.Minute),
			CreatedAt: now, ExpiresAt: now.Add(ttl),
		}
	}
	// g1 expires exactly at the sweep time, after two refresh tokens;
	// g2 outlives it by a microsecond.
	g1, g2 := grant("g1", time.Hour), grant("g2", time.Hour+time.Microsecond)
	for _, g := range []server.Grant{g1, g2} {
		if err := s.CreateGrant(ctx, g); err != nil {
			t.Fatalf("CreateGrant %s: %v", g.ID, err)
		}
	}
	if _, err := s.RedeemCode(ctx, g1.CodeHash, server.TokenSet{RefreshHash: "refresh-1"}, now); err != nil {
		t.Fatalf("RedeemCode: %v", err)
	}
	if _, err := s.RotateRefresh(ctx, "refresh-1", server.TokenSet{RefreshHash: "refresh-2"}, now); err != nil {
		t.Fatalf("RotateRefresh: %v", err)
	}
	// While g1 is stored, its rotated-away hash is remembered: it can
	// become nobody's code.
	taker := grant("g3", 2*time.Hour)
	taker.CodeHash = "refresh-1"
	if err := s.CreateGrant(ctx, taker); !errors.Is(err, server.ErrExists) {
		t.Fatalf("CreateGrant with a remembered refresh hash as code: %v, want ErrExists", err)
	}

	sweep := g1.ExpiresAt
	if n, err := s.DeleteExpired(ctx, sweep.Add(-time.Microsecond)); err != nil || n != 0 {
		t.Fatalf("DeleteExpired before any expiry = %d, %v; want 0", n, err)
	}
	if n, err := s.DeleteExpired(ctx, sweep); err != nil || n != 1 {
		t.Fatalf("DeleteExpired at g1's ExpiresAt = %d, %v; want 1", n, err)
	}
	for _, h := range []string{g1.CodeHash, "refresh-2"} {
		if _, err := s.FindGrant(ctx, h); !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("FindGrant(%s) after DeleteExpired: %v, want ErrNotFound", h, err)
		}
	}
	if _, err := s.RotateRefresh(ctx, "refresh-1", server.TokenSet{RefreshHash: "refresh-3"}, sweep.Add(-time.Second)); !errors.Is(err, server.ErrNotFound) {
		t.Fatalf("RotateRefresh with a deleted grant's old hash: %v, want ErrNotFound", err)
	}
	// The refresh hashes went with the grant: they are free again.
	for _, h := range []string{"refresh-1", "refresh-2"} {
		g := grant("new-"+h, 2*time.Hour)
		g.CodeHash = h
		if err := s.CreateGrant(ctx, g); err != nil {
			t.Fatalf("CreateGrant with the deleted grant's refresh hash %s: %v", h, err)
		}
	}
	if got, err := s.FindGrant(ctx, g2.CodeHash); err != nil || got.ID != g2.ID {
		t.Fatalf("FindGrant of the live grant = %+v, %v", got, err)
	}
	if _, err := s.RedeemCode(ctx, g2.CodeHash, server.TokenSet{RefreshHash: "refresh-g2"}, now); err != nil {
		t.Fatalf("RedeemCode of the live grant: %v", err)
	}
	if n, err := s.DeleteExpired(ctx, sweep); err != nil || n != 0 {
		t.Fatalf("DeleteExpired again = %d, %v; want 0", n, err)
	}
}

func TestOAuthStoreListsAreNeverNil(t *testing.T) {
	ctx := context.Background()
	s := newDB(t).OAuth()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	g := server.Grant{ID: "g", ClientID: "c", Subject: "u", CodeHash: "code", CodeExpiresAt: now.Add(time.Minute), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateGrant(ctx, g); err != nil {
		t.Fatalf("CreateGrant: %v", err)
	}
	got, err := s.FindGrant(ctx, g.CodeHash)
	if err != nil {
		t.Fatalf("FindGrant: %v", err)
	}
	if got.Scopes == nil || got.Roles == nil || got.MFA.Methods == nil || got.AccessTokens == nil {
		t.Fatalf("FindGrant returned nil lists: %+v", got)
	}
	if !got.AuthTime.IsZero() || !got.MFA.VerifiedAt.IsZero() {
		t.Fatalf("zero times came back as %v and %v", got.AuthTime, got.MFA.VerifiedAt)
	}
	if err := s.PutClient(ctx, server.Client{ID: "c"}); err != nil {
		t.Fatalf("PutClient: %v", err)
	}
	c, err := s.GetClient(ctx, "c")
	if err != nil {
		t.Fatalf("GetClient: %v", err)
	}
	if c.Scopes == nil || c.RedirectURIs == nil || c.GrantTypes == nil || c.ServiceRoles == nil {
		t.Fatalf("GetClient returned nil lists: %+v", c)
	}
}
