package postgres_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/oauth2provider/server"
	"github.com/gatehouse-auth/gatehouse/oauth2provider/server/servertest"
)

func TestOAuthStoreConformance(t *testing.T) {
	servertest.Run(t, func(t *testing.T) server.Store {
		db, _ := newDB(t)
		return db.OAuth()
	})
}

// oauthGrant returns a grant created at now, live for ttl, whose code and
// ID derive from name.
func oauthGrant(name string, now time.Time, ttl time.Duration) server.Grant {
	return server.Grant{
		ID: "grant-" + name, ClientID: "client-1", Subject: "user-1",
		Scopes:   []string{"openid"},
		CodeHash: "code-" + name, CodeExpiresAt: now.Add(time.Minute),
		CreatedAt: now, ExpiresAt: now.Add(ttl),
	}
}

func TestOAuthDeleteExpiredRemovesGrantsAndTheirHashes(t *testing.T) {
	ctx := context.Background()
	db, pool := newDB(t)
	s := db.OAuth()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	short, long := oauthGrant("short", now, time.Hour), oauthGrant("long", now, 2*time.Hour)
	for _, g := range []server.Grant{short, long} {
		if err := s.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RedeemCode(ctx, g.CodeHash, server.TokenSet{RefreshHash: "r1-" + g.ID}, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RotateRefresh(ctx, "r1-"+g.ID, server.TokenSet{RefreshHash: "r2-" + g.ID}, now); err != nil {
			t.Fatal(err)
		}
	}

	if n, err := s.DeleteExpired(ctx, short.ExpiresAt.Add(-time.Microsecond)); err != nil || n != 0 {
		t.Fatalf("DeleteExpired a microsecond before the first expiry = %d, %v; want 0", n, err)
	}
	if n, err := s.DeleteExpired(ctx, short.ExpiresAt); err != nil || n != 1 {
		t.Fatalf("DeleteExpired at the first expiry = %d, %v; want 1", n, err)
	}
	for _, h := range []string{short.CodeHash, "r2-" + short.ID} {
		if _, err := s.FindGrant(ctx, h); !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("FindGrant(%s) of a deleted grant: %v, want ErrNotFound", h, err)
		}
	}
	var left int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM gatehouse_oauth_grant_hashes WHERE grant_id = $1`, short.ID).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d hashes of the deleted grant remain", left)
	}

	// The live grant keeps its whole history: the old refresh hash is
	// still told apart as reuse.
	if got, err := s.FindGrant(ctx, long.CodeHash); err != nil || got.ID != long.ID {
		t.Fatalf("live grant after DeleteExpired = %+v, %v", got, err)
	}
	if _, err := s.RotateRefresh(ctx, "r1-"+long.ID, server.TokenSet{RefreshHash: "r3-" + long.ID}, now); !errors.Is(err, server.ErrReused) {
		t.Fatalf("reuse on the live grant after DeleteExpired: %v, want ErrReused", err)
	}
	if n, err := s.DeleteExpired(ctx, short.ExpiresAt); err != nil || n != 0 {
		t.Fatalf("second DeleteExpired = %d, %v; want 0", n, err)
	}
}

func TestOAuthListsRoundTrip(t *testing.T) {
	ctx := context.Background()
	db, _ := newDB(t)
	s := db.OAuth()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

	empty := oauthGrant("empty", now, time.Hour)
	empty.Roles, empty.MFA.Methods, empty.Scopes = []string{}, []string{}, []string{}
	empty.AccessTokens = []server.AccessTokenRef{}
	nilLists := oauthGrant("nil", now, time.Hour)
	nilLists.Roles, nilLists.MFA.Methods, nilLists.Scopes = nil, nil, nil
	full := oauthGrant("full", now, time.Hour)
	full.Roles = []string{"engineer", "viewer"}
	full.MFA = auth.MFAState{Verified: true, VerifiedAt: now.Add(-time.Minute), Methods: []string{"pwd", "otp"}}
	full.AuthTime = now.Add(-time.Minute)
	// Access token expiries keep their nanoseconds.
	full.AccessTokens = []server.AccessTokenRef{{ID: "at-1", ExpiresAt: now.Add(15*time.Minute + 123)}}

	for _, g := range []server.Grant{empty, nilLists, full} {
		if err := s.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
		got, err := s.FindGrant(ctx, g.CodeHash)
		if err != nil {
			t.Fatal(err)
		}
		if (got.Roles == nil) != (g.Roles == nil) || !slices.Equal(got.Roles, g.Roles) {
			t.Errorf("%s: Roles = %#v, want %#v", g.ID, got.Roles, g.Roles)
		}
		if (got.MFA.Methods == nil) != (g.MFA.Methods == nil) || !slices.Equal(got.MFA.Methods, g.MFA.Methods) {
			t.Errorf("%s: MFA.Methods = %#v, want %#v", g.ID, got.MFA.Methods, g.MFA.Methods)
		}
		if got.Scopes == nil || !slices.Equal(got.Scopes, g.Scopes) {
			t.Errorf("%s: Scopes = %#v, want %#v and never nil", g.ID, got.Scopes, g.Scopes)
		}
		if (got.AccessTokens == nil) != (g.AccessTokens == nil) || !slices.Equal(got.AccessTokens, g.AccessTokens) {
			t.Errorf("%s: AccessTokens = %#v, want %#v", g.ID, got.AccessTokens, g.AccessTokens)
		}
		if !got.MFA.VerifiedAt.Equal(g.MFA.VerifiedAt) || !got.AuthTime.Equal(g.AuthTime) ||
			got.ExpiresAt.Location() != time.UTC || got.CreatedAt.Location() != time.UTC {
			t.Errorf("%s: times = %v, %v, %v, %v", g.ID, got.MFA.VerifiedAt, got.AuthTime, got.CreatedAt, got.ExpiresAt)
		}
	}

	clients := []server.Client{
		{ID: "nil-lists", AuthMethod: server.AuthNone},
		{ID: "empty-lists", RedirectURIs: []string{}, GrantTypes: []server.GrantType{}, Scopes: []string{}, ServiceRoles: []string{}},
	}
	for _, c := range clients {
		if err := s.PutClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetClient(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, pair := range [][2][]string{
			{got.RedirectURIs, c.RedirectURIs}, {got.Scopes, c.Scopes}, {got.ServiceRoles, c.ServiceRoles},
		} {
			if (pair[0] == nil) != (pair[1] == nil) {
				t.Errorf("%s: list %#v read back as %#v", c.ID, pair[1], pair[0])
			}
		}
		if (got.GrantTypes == nil) != (c.GrantTypes == nil) || got.AuthMethod != c.AuthMethod {
			t.Errorf("%s: read back %+v", c.ID, got)
		}
	}
}

func TestOAuthRedeemWithATakenRefreshHashChangesNothing(t *testing.T) {
	ctx := context.Background()
	db, _ := newDB(t)
	s := db.OAuth()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := oauthGrant("a", now, time.Hour), oauthGrant("b", now, time.Hour)
	for _, g := range []server.Grant{a, b} {
		if err := s.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.RedeemCode(ctx, a.CodeHash, server.TokenSet{RefreshHash: "shared"}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RedeemCode(ctx, b.CodeHash, server.TokenSet{RefreshHash: "shared"}, now); !errors.Is(err, server.ErrExists) {
		t.Fatalf("RedeemCode with another grant's refresh hash: %v, want ErrExists", err)
	}
	if _, err := s.RedeemCode(ctx, b.CodeHash, server.TokenSet{RefreshHash: a.CodeHash}, now); !errors.Is(err, server.ErrExists) {
		t.Fatalf("RedeemCode with another grant's code hash as refresh hash: %v, want ErrExists", err)
	}
	got, err := s.FindGrant(ctx, b.CodeHash)
	if err != nil || got.Redeemed || got.Revoked || got.RefreshHash != "" {
		t.Fatalf("grant after refused redemptions = %+v, %v; want it unchanged", got, err)
	}
	if got, err := s.FindGrant(ctx, "shared"); err != nil || got.ID != a.ID {
		t.Fatalf("FindGrant(shared) = %+v, %v; want grant a", got, err)
	}
	if _, err := s.RedeemCode(ctx, b.CodeHash, server.TokenSet{RefreshHash: "own"}, now); err != nil {
		t.Fatalf("RedeemCode after the refusals: %v", err)
	}
}
