// Package servertest holds the conformance suite for implementations of
// the oauth2provider/server store interfaces. Every adapter (PostgreSQL,
// Redis, SQLite, ...) runs it from its tests:
//
//	func TestStore(t *testing.T) {
//		servertest.Run(t, func(t *testing.T) server.Store {
//			return newStoreOnACleanDatabase(t)
//		})
//	}
//
// The suite only uses the interfaces. Every time it needs is passed through
// method arguments, so it never sleeps, and every ID and hash it writes is
// random, so that a store shared between cases does not make them
// interfere.
package servertest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/internal/secure"
	"github.com/gatehouse-auth/gatehouse/oauth2provider/server"
)

// concurrency is the number of goroutines of the race cases.
const concurrency = 50

// refTime is the suite's reference time: in the future, with a sub-second
// part.
func refTime() time.Time { return time.Date(2030, 5, 17, 10, 20, 30, 250_000_000, time.UTC) }

func id() string   { return secure.Token(12) }
func hash() string { return secure.HashHex(secure.Token(32)) }

// Run checks that a Store follows the contracts of server.ClientStore and
// server.GrantStore. newStore is called once per case.
func Run(t *testing.T, newStore func(t *testing.T) server.Store) {
	t.Helper()
	t.Run("clients", func(t *testing.T) { runClients(t, newStore) })
	t.Run("grants", func(t *testing.T) { runGrants(t, newStore) })
}

func runClients(t *testing.T, newStore func(t *testing.T) server.Store) {
	ctx := context.Background()
	client := func() server.Client {
		return server.Client{
			ID: "client-" + id(), Name: "Maintenance app", AuthMethod: server.AuthSecretPost,
			SecretHash:   hash(),
			RedirectURIs: []string{"https://app.example/cb", "http://127.0.0.1/cb"},
			GrantTypes:   []server.GrantType{server.GrantAuthorizationCode, server.GrantRefreshToken, server.GrantClientCredentials},
			Scopes:       []string{"openid", "predictions:read"},
			ServiceRoles: []string{"reporter"},
			RequirePKCE:  true, Introspect: true,
		}
	}

	t.Run("put then get returns every field", func(t *testing.T) {
		s := newStore(t)
		c := client()
		if err := s.PutClient(ctx, c); err != nil {
			t.Fatalf("PutClient: %v", err)
		}
		got, err := s.GetClient(ctx, c.ID)
		if err != nil {
			t.Fatalf("GetClient: %v", err)
		}
		if !sameClient(got, c) {
			t.Fatalf("GetClient = %+v, want %+v", got, c)
		}
	})

	t.Run("unknown client is ErrNotFound", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.GetClient(ctx, "client-"+id()); !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("GetClient of an unknown ID: %v, want ErrNotFound", err)
		}
	})

	t.Run("put replaces", func(t *testing.T) {
		s := newStore(t)
		c := client()
		if err := s.PutClient(ctx, c); err != nil {
			t.Fatalf("PutClient: %v", err)
		}
		c.Scopes = []string{"alerts:read"}
		c.SecretHash = hash()
		if err := s.PutClient(ctx, c); err != nil {
			t.Fatalf("second PutClient: %v", err)
		}
		got, err := s.GetClient(ctx, c.ID)
		if err != nil || !sameClient(got, c) {
			t.Fatalf("GetClient after replace = %+v, %v; want %+v", got, err, c)
		}
	})

	t.Run("delete, and deleting a missing client is not an error", func(t *testing.T) {
		s := newStore(t)
		c := client()
		if err := s.PutClient(ctx, c); err != nil {
			t.Fatalf("PutClient: %v", err)
		}
		if err := s.DeleteClient(ctx, c.ID); err != nil {
			t.Fatalf("DeleteClient: %v", err)
		}
		if _, err := s.GetClient(ctx, c.ID); !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("GetClient after delete: %v, want ErrNotFound", err)
		}
		if err := s.DeleteClient(ctx, c.ID); err != nil {
			t.Fatalf("DeleteClient of a missing client: %v", err)
		}
	})

	t.Run("returned clients are copies", func(t *testing.T) {
		s := newStore(t)
		c := client()
		if err := s.PutClient(ctx, c); err != nil {
			t.Fatalf("PutClient: %v", err)
		}
		c.Scopes[0] = "changed"
		got, _ := s.GetClient(ctx, c.ID)
		got.RedirectURIs[0] = "https://evil.example/cb"
		again, _ := s.GetClient(ctx, c.ID)
		if again.Scopes[0] != "openid" || again.RedirectURIs[0] != "https://app.example/cb" {
			t.Fatalf("store shares slices with its callers: %+v", again)
		}
	})
}

func sameClient(a, b server.Client) bool {
	return a.ID == b.ID && a.Name == b.Name && a.AuthMethod == b.AuthMethod && a.SecretHash == b.SecretHash &&
		slices.Equal(a.RedirectURIs, b.RedirectURIs) && slices.Equal(a.GrantTypes, b.GrantTypes) &&
		slices.Equal(a.Scopes, b.Scopes) && slices.Equal(a.ServiceRoles, b.ServiceRoles) &&
		a.RequirePKCE == b.RequirePKCE && a.Introspect == b.Introspect
}

func runGrants(t *testing.T, newStore func(t *testing.T) server.Store) {
	ctx := context.Background()
	base := refTime()
	newGrant := func() server.Grant {
		return server.Grant{
			ID: id(), ClientID: "client-" + id(),
			Subject: "user-" + id(), Username: "alice", Email: "alice@plant.example",
			Roles:    []string{"engineer"},
			MFA:      auth.MFAState{Verified: true, VerifiedAt: base.Add(-time.Hour), Methods: []string{"pwd", "otp"}},
			AuthTime: base.Add(-time.Hour), Scopes: []string{"openid", "predictions:read"},
			RedirectURI: "https://app.example/cb", CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
			CodeChallengeMethod: "S256", Nonce: "n-" + id(),
			CodeHash: hash(), CodeExpiresAt: base.Add(time.Minute),
			CreatedAt: base, ExpiresAt: base.Add(24 * time.Hour),
		}
	}
	create := func(t *testing.T, s server.Store) server.Grant {
		t.Helper()
		g := newGrant()
		if err := s.CreateGrant(ctx, g); err != nil {
			t.Fatalf("CreateGrant: %v", err)
		}
		return g
	}
	access := func(at time.Time) server.AccessTokenRef {
		return server.AccessTokenRef{ID: id(), ExpiresAt: at.Add(15 * time.Minute)}
	}
	redeem := func(t *testing.T, s server.Store, g server.Grant) server.TokenSet {
		t.Helper()
		next := server.TokenSet{RefreshHash: hash(), Access: access(base)}
		if _, err := s.RedeemCode(ctx, g.CodeHash, next, base.Add(time.Second)); err != nil {
			t.Fatalf("RedeemCode: %v", err)
		}
		return next
	}

	t.Run("find by code hash returns every field", func(t *testing.T) {
		s := newStore(t)
		g := create(t, s)
		got, err := s.FindGrant(ctx, g.CodeHash)
		if err != nil {
			t.Fatalf("FindGrant: %v", err)
		}
		if !sameGrant(got, g) {
			t.Fatalf("FindGrant = %+v\nwant %+v", got, g)
		}
	})

	t.Run("unknown hash is ErrNotFound", func(t *testing.T) {
		s := newStore(t)
		create(t, s)
		if _, err := s.FindGrant(ctx, hash()); !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("FindGrant of an unknown hash: %v, want ErrNotFound", err)
		}
	})

	t.Run("duplicate ID or code hash is ErrExists", func(t *testing.T) {
		s := newStore(t)
		g := create(t, s)
		dupID := newGrant()
		dupID.ID = g.ID
		if err := s.CreateGrant(ctx, dupID); !errors.Is(err, server.ErrExists) {
			t.Fatalf("CreateGrant with a taken ID: %v, want ErrExists", err)
		}
		if _, err := s.FindGrant(ctx, dupID.CodeHash); !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("a refused CreateGrant stored its code: %v", err)
		}
		dupCode := newGrant()
		dupCode.CodeHash = g.CodeHash
		if err := s.CreateGrant(ctx, dupCode); !errors.Is(err, server.ErrExists) {
			t.Fatalf("CreateGrant with a taken code hash: %v, want ErrExists", err)
		}
		got, err := s.FindGrant(ctx, g.CodeHash)
		if err != nil || got.ID != g.ID {
			t.Fatalf("the first grant was changed by a refused CreateGrant: %+v, %v", got, err)
		}
	})

	t.Run("redeem sets the refresh token and records the access token", func(t *testing.T) {
		s := newStore(t)
		g := create(t, s)
		next := server.TokenSet{RefreshHash: hash(), Access: access(base)}
		got, err := s.RedeemCode(ctx, g.CodeHash, next, base.Add(time.Second))
		if err != nil {
			t.Fatalf("RedeemCode: %v", err)
		}
		if !got.Redeemed || got.RefreshHash != next.RefreshHash || got.Revoked || got.Subject != g.Subject {
			t.Fatalf("RedeemCode returned %+v", got)
		}
		if len(got.AccessTokens) != 1 || got.AccessTokens[0].ID != next.Access.ID || !got.AccessTokens[0].ExpiresAt.Equal(next.Access.ExpiresAt) {
			t.Fatalf("RedeemCode recorded access tokens %+v, want %+v", got.AccessTokens, next.Access)
		}
		byRefresh, err := s.FindGrant(ctx, next.RefreshHash)
		if err != nil || byRefresh.ID != g.ID || !byRefresh.Redeemed {
			t.Fatalf("FindGrant by the new refresh hash = %+v, %v", byRefresh, err)
		}
		byCode, err := s.FindGrant(ctx, g.CodeHash)
		if err != nil || !byCode.Redeemed {
			t.Fatalf("FindGrant by the redeemed code = %+v, %v; want the redeemed grant", byCode, err)
		}
	})

	t.Run("redeem without a refresh token", func(t *testing.T) {
		s := newStore(t)
		g := create(t, s)
		got, err := s.RedeemCode(ctx, g.CodeHash, server.TokenSet{Access: access(base)}, base)
		if err != nil || got.RefreshHash != "" || !got.Redeemed {
			t.Fatalf("RedeemCode without refresh = %+v, %v", got, err)
		}
	})

	t.Run("second redemption is ErrCodeReused and revokes the grant", func(t *testing.T) {
		s := newStore(t)
		g := create(t, s)
		first := redeem(t, s, g)
		got, err := s.RedeemCode(ctx, g.CodeHash, server.TokenSet{RefreshHash: hash(), Access: access(base)}, base.Add(2*time.Second))
		if !errors.Is(err, server.ErrCodeReused) {
			t.Fatalf("second RedeemCode: %v, want ErrCodeReused", err)
		}
		if got.ID != g.ID || !got.Revoked {
			t.Fatalf("second RedeemCode returned %+v, want the revoked grant", got)
		}
		if len(got.AccessTokens) != 1 || got.AccessTokens[0].ID != first.Access.ID {
			t.Fatalf("second RedeemCode returned access tokens %+v, want the first redemption's %q", got.AccessTokens, first.Access.ID)
		}
		if _, err := s.RotateRefresh(ctx, first.RefreshHash, server.TokenSet{RefreshHash: hash()}, base.Add(3*time.Second)); !errors.Is(err, server.ErrRevoked) {
			t.Fatalf("RotateRefresh after code reuse: %v, want ErrRevoked", err)
		}
	})

	t.Run("expired code is ErrNotFound", func(t *testing.T) {
		s := newStore(t)
		g := create(t, s)
		_, err := s.RedeemCode(ctx, g.CodeHash, server.TokenSet{Access: access(base)}, g.CodeExpiresAt)
		if !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("RedeemCode at CodeExpiresAt: %v, want ErrNotFound", err)
		}
		if _, err := s.RedeemCode(ctx, g.CodeHash, server.TokenSet{Access: access(base)}, g.CodeExpiresAt.Add(-time.Millisecond)); err != nil {
			t.Fatalf("RedeemCode just before CodeExpiresAt: %v", err)
		}
	})

	t.Run("redeeming a revoked grant's code is ErrRevoked", func(t *testing.T) {
		s := newStore(t)
		g := create(t, s)
		if _, err := s.RevokeGrant(ctx, g.ID); err != nil {
			t.Fatalf("RevokeGrant: %v", err)
		}
		if _, err := s.RedeemCode(ctx, g.CodeHash, server.TokenSet{Access: access(base)}, base); !errors.Is(err, server.ErrRevoked) {
			t.Fatalf("RedeemCode of a revoked grant: %v, want ErrRevoked", err)
		}
	})

	t.Run("a refresh hash is not a code and a code hash is not a refresh token", func(t *testing.T) {
		s := newStore(t)
		g := create(t, s)
		next := redeem(t, s, g)
		if _, err := s.RedeemCode(ctx, next.RefreshHash, server.TokenSet{Access: access(base)}, base); !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("RedeemCode with a refresh hash: %v, want ErrNotFound", err)
		}
		if _, err := s.RotateRefresh(ctx, g.CodeHash, server.TokenSet{RefreshHash: hash()}, base); !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("RotateRefresh with a code hash: %v, want ErrNotFound", err)
		}
		got, err := s.FindGrant(ctx, next.RefreshHash)
		if err != nil || got.Revoked {
			t.Fatalf("grant after the mix-ups = %+v, %v; want it intact", got, err)
		}
	})

	t.Run("rotate makes the next refresh token current", func(t *testing.T) {
		s := newStore(t)
		g := create(t, s)
		first := redeem(t, s, g)
		second := server.TokenSet{RefreshHash: hash(), Access: access(base.Add(time.Minute))}
		got, err := s.RotateRefresh(ctx, first.RefreshHash, second, base.Add(time.Minute))
		if err != nil {
			t.Fatalf("RotateRefresh: %v", err)
		}
		if got.RefreshHash != second.RefreshHash || got.Revoked || got.ID != g.ID {
			t.Fatalf("RotateRefresh returned %+v", got)
		}
		ids := refIDs(got.AccessTokens)
		if !slices.Contains(ids, first.Access.ID) || !slices.Contains(ids, second.Access.ID) {
			t.Fatalf("access tokens after rotation = %v, want both %q and %q", ids, first.Access.ID, second.Access.ID)
		}
		if _, err := s.FindGrant(ctx, first.RefreshHash); !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("FindGrant with the rotated-away hash: %v, want ErrNotFound", err)
		}
		if got, err := s.FindGrant(ctx, second.RefreshHash); err != nil || got.ID != g.ID {
			t.Fatalf("FindGrant with the current hash = %+v, %v", got, err)
		}
	})

	t.Run("rotation keeps the new access token", func(t *testing.T) {
		s := newStore(t)
		g := create(t, s)
		first := redeem(t, s, g)
		later := first.Access.ExpiresAt.Add(time.Second)
		got, err := s.RotateRefresh(ctx, first.RefreshHash, server.TokenSet{RefreshHash: hash(), Access: access(later)}, later)
		if err != nil {
			t.Fatalf("RotateRefresh: %v", err)
		}
		// Dropping the expired ref is allowed, not required; the live one
		// must be there.
		if len(got.AccessTokens) == 0 || got.AccessTokens[len(got.AccessTokens)-1].ExpiresAt.Before(later) {
			t.Fatalf("the new access token is missing: %+v", got.AccessTokens)
		}
	})

	t.Run("reusing a rotated-away refresh token is ErrReused and revokes", func(t *testing.T) {
		s := newStore(t)
		g := create(t, s)
		first := redeem(t, s, g)
		second := server.TokenSet{RefreshHash: hash(), Access: access(base)}
		if _, err := s.RotateRefresh(ctx, first.RefreshHash, second, base.Add(time.Minute)); err != nil {
			t.Fatalf("RotateRefresh: %v", err)
		}
		got, err := s.RotateRefresh(ctx, first.RefreshHash, server.TokenSet{RefreshHash: hash()}, base.Add(2*time.Minute))
		if !errors.Is(err, server.ErrReused) {
			t.Fatalf("RotateRefresh with the old token: %v, want ErrReused", err)
		}
		if got.ID != g.ID || !got.Revoked {
			t.Fatalf("reuse returned %+v, want the revoked grant", got)
		}
		ids := refIDs(got.AccessTokens)
		if !slices.Contains(ids, first.Access.ID) || !slices.Contains(ids, second.Access.ID) {
			t.Fatalf("reuse returned access tokens %v, want %q and %q", ids, first.Access.ID, second.Access.ID)
		}
		if _, err := s.RotateRefresh(ctx, second.RefreshHash, server.TokenSet{RefreshHash: hash()}, base.Add(3*time.Minute)); !errors.Is(err, server.ErrRevoked) {
			t.Fatalf("RotateRefresh with the current token after reuse: %v, want ErrRevoked", err)
		}
		if _, err := s.RotateRefresh(ctx, first.RefreshHash, server.TokenSet{RefreshHash: hash()}, base.Add(4*time.Minute)); !errors.Is(err, server.ErrReused) {
			t.Fatalf("reuse of a revoked grant: %v, want ErrReused again", err)
		}
	})

	t.Run("unknown refresh hash is ErrNotFound and revokes nothing", func(t *testing.T) {
		s := newStore(t)
		g := create(t, s)
		first := redeem(t, s, g)
		if _, err := s.RotateRefresh(ctx, hash(), server.TokenSet{RefreshHash: hash()}, base); !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("RotateRefresh with a forged hash: %v, want ErrNotFound", err)
		}
		if _, err := s.RotateRefresh(ctx, first.RefreshHash, server.TokenSet{RefreshHash: hash()}, base.Add(time.Minute)); err != nil {
			t.Fatalf("RotateRefresh after a forged attempt: %v", err)
		}
	})

	t.Run("expired grant is ErrNotFound", func(t *testing.T) {
		s := newStore(t)
		g := create(t, s)
		first := redeem(t, s, g)
		if _, err := s.RotateRefresh(ctx, first.RefreshHash, server.TokenSet{RefreshHash: hash()}, g.ExpiresAt); !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("RotateRefresh at ExpiresAt: %v, want ErrNotFound", err)
		}
	})

	t.Run("revoke returns the access tokens and stops rotation", func(t *testing.T) {
		s := newStore(t)
		g := create(t, s)
		first := redeem(t, s, g)
		refs, err := s.RevokeGrant(ctx, g.ID)
		if err != nil {
			t.Fatalf("RevokeGrant: %v", err)
		}
		if !slices.Contains(refIDs(refs), first.Access.ID) {
			t.Fatalf("RevokeGrant returned %+v, want %q", refs, first.Access.ID)
		}
		if _, err := s.RotateRefresh(ctx, first.RefreshHash, server.TokenSet{RefreshHash: hash()}, base.Add(time.Minute)); !errors.Is(err, server.ErrRevoked) {
			t.Fatalf("RotateRefresh of a revoked grant: %v, want ErrRevoked", err)
		}
		got, err := s.FindGrant(ctx, first.RefreshHash)
		if err != nil || !got.Revoked {
			t.Fatalf("FindGrant of a revoked grant = %+v, %v; want it, revoked", got, err)
		}
		if _, err := s.RevokeGrant(ctx, g.ID); err != nil {
			t.Fatalf("RevokeGrant twice: %v", err)
		}
		if _, err := s.RevokeGrant(ctx, id()); err != nil {
			t.Fatalf("RevokeGrant of a missing grant: %v", err)
		}
	})

	t.Run("returned grants are copies", func(t *testing.T) {
		s := newStore(t)
		g := create(t, s)
		g.Scopes[0] = "changed"
		got, _ := s.FindGrant(ctx, g.CodeHash)
		got.Roles[0] = "admin"
		again, _ := s.FindGrant(ctx, g.CodeHash)
		if again.Scopes[0] != "openid" || again.Roles[0] != "engineer" {
			t.Fatalf("store shares slices with its callers: %+v", again)
		}
	})

	t.Run("concurrent redemptions of one code: exactly one wins", func(t *testing.T) {
		s := newStore(t)
		g := create(t, s)
		var wg sync.WaitGroup
		results := make([]error, concurrency)
		for i := range concurrency {
			wg.Go(func() {
				_, results[i] = s.RedeemCode(ctx, g.CodeHash, server.TokenSet{RefreshHash: hash(), Access: access(base)}, base.Add(time.Second))
			})
		}
		wg.Wait()
		wins, reused := 0, 0
		for _, err := range results {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, server.ErrCodeReused):
				reused++
			default:
				t.Errorf("RedeemCode: unexpected %v", err)
			}
		}
		if wins != 1 || reused != concurrency-1 {
			t.Fatalf("%d redemptions won and %d saw reuse, want 1 and %d", wins, reused, concurrency-1)
		}
		got, err := s.FindGrant(ctx, g.CodeHash)
		if err != nil || !got.Revoked {
			t.Fatalf("grant after concurrent redemptions = %+v, %v; want revoked", got, err)
		}
	})

	t.Run("concurrent rotations of one refresh token: exactly one wins", func(t *testing.T) {
		s := newStore(t)
		g := create(t, s)
		first := redeem(t, s, g)
		var wg sync.WaitGroup
		results := make([]error, concurrency)
		for i := range concurrency {
			wg.Go(func() {
				_, results[i] = s.RotateRefresh(ctx, first.RefreshHash, server.TokenSet{RefreshHash: hash(), Access: access(base)}, base.Add(time.Minute))
			})
		}
		wg.Wait()
		wins := 0
		for _, err := range results {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, server.ErrReused):
			default:
				t.Errorf("RotateRefresh: unexpected %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d rotations won, want exactly 1", wins)
		}
	})

	t.Run("concurrent grants on one store", func(t *testing.T) {
		s := newStore(t)
		var wg sync.WaitGroup
		errs := make([]error, concurrency)
		for i := range concurrency {
			wg.Go(func() {
				g := newGrant()
				if errs[i] = s.CreateGrant(ctx, g); errs[i] != nil {
					return
				}
				next := server.TokenSet{RefreshHash: hash(), Access: access(base)}
				if _, errs[i] = s.RedeemCode(ctx, g.CodeHash, next, base); errs[i] != nil {
					return
				}
				_, errs[i] = s.RotateRefresh(ctx, next.RefreshHash, server.TokenSet{RefreshHash: hash(), Access: access(base)}, base.Add(time.Second))
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("independent grants interfered: %v", err)
			}
		}
	})
}

func refIDs(refs []server.AccessTokenRef) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.ID
	}
	return out
}

func sameGrant(a, b server.Grant) bool {
	return a.ID == b.ID && a.ClientID == b.ClientID && a.Subject == b.Subject && a.Username == b.Username &&
		a.Email == b.Email && slices.Equal(a.Roles, b.Roles) && a.MFA.Verified == b.MFA.Verified &&
		a.MFA.VerifiedAt.Equal(b.MFA.VerifiedAt) && slices.Equal(a.MFA.Methods, b.MFA.Methods) &&
		a.AuthTime.Equal(b.AuthTime) && slices.Equal(a.Scopes, b.Scopes) && a.RedirectURI == b.RedirectURI &&
		a.CodeChallenge == b.CodeChallenge && a.CodeChallengeMethod == b.CodeChallengeMethod && a.Nonce == b.Nonce &&
		a.CodeHash == b.CodeHash && a.CodeExpiresAt.Equal(b.CodeExpiresAt) && a.Redeemed == b.Redeemed &&
		a.RefreshHash == b.RefreshHash && len(a.AccessTokens) == len(b.AccessTokens) &&
		a.CreatedAt.Equal(b.CreatedAt) && a.ExpiresAt.Equal(b.ExpiresAt) && a.Revoked == b.Revoked
}
