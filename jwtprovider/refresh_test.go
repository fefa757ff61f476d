package jwtprovider_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

func TestRefreshRotates(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	p1, err := f.p.IssuePair(ctx, jwtprovider.Subject{ID: "user-7", Username: "ada", Roles: []string{"operator"},
		MFA: auth.MFAState{Verified: true, VerifiedAt: f.clock.Now(), Methods: []string{"pwd", "otp"}}})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(10 * time.Minute)
	p2, err := f.p.Refresh(ctx, p1.Refresh.Value)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if p2.SessionID != p1.SessionID || p2.Refresh.ID == p1.Refresh.ID || p2.Access.ID == p1.Access.ID {
		t.Fatalf("new pair %+v from %+v", p2, p1)
	}
	if !p2.Access.IssuedAt.Equal(f.clock.Now()) || p2.Refresh.Lifetime() != jwtprovider.DefaultRefreshTTL {
		t.Fatalf("new pair times %+v", p2)
	}
	c, err := f.p.Verify(ctx, p2.Access.Value)
	if err != nil {
		t.Fatalf("Verify new access token: %v", err)
	}
	if c.Username != "ada" || !slices.Equal(c.Roles, []string{"operator"}) || !c.MFA().Verified || !slices.Equal(c.AMR, []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("refreshed claims lost the subject: %+v", c)
	}
	if _, err := f.p.Verify(ctx, p1.Access.Value); err != nil {
		t.Fatalf("rotation revoked the previous access token: %v", err)
	}
	if _, err := f.p.Refresh(ctx, p2.Refresh.Value); err != nil {
		t.Fatalf("Refresh with the new refresh token: %v", err)
	}
	ev := f.events.of(auth.EventTokenRefreshed)
	if len(ev) != 2 || ev[0].Subject != "user-7" || ev[0].Attrs["sid"] != p1.SessionID {
		t.Fatalf("token_refreshed events %+v", ev)
	}
}

func TestRefreshReuseRevokesFamily(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	p1, err := f.p.IssuePair(ctx, jwtprovider.Subject{ID: "user-7", Username: "ada"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.p.IssuePair(ctx, jwtprovider.Subject{ID: "user-7", Username: "ada"})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := f.p.Refresh(ctx, p1.Refresh.Value)
	if err != nil {
		t.Fatal(err)
	}
	// The thief (or the client) replays the consumed token.
	_, err = f.p.Refresh(ctx, p1.Refresh.Value)
	if !errors.Is(err, auth.ErrTokenRevoked) || !errors.Is(err, jwtprovider.ErrReused) {
		t.Fatalf("reused refresh token: %v, want token_revoked caused by ErrReused", err)
	}
	ev := f.events.of(auth.EventRefreshReuseDetected)
	if len(ev) != 1 || ev[0].Subject != "user-7" || ev[0].Attrs["sid"] != p1.SessionID || ev[0].Reason == "" {
		t.Fatalf("refresh_reuse_detected events %+v", ev)
	}
	// Everything of the family is dead: the newest refresh token and every
	// access token.
	if _, err := f.p.Refresh(ctx, p2.Refresh.Value); !errors.Is(err, auth.ErrTokenRevoked) {
		t.Fatalf("newest refresh token of a reused family: %v, want token_revoked", err)
	}
	for name, tok := range map[string]string{"first": p1.Access.Value, "second": p2.Access.Value} {
		if _, err := f.p.Verify(ctx, tok); !errors.Is(err, auth.ErrTokenRevoked) {
			t.Fatalf("%s access token of a reused family: %v, want token_revoked", name, err)
		}
	}
	// Another login of the same user is untouched.
	if _, err := f.p.Verify(ctx, other.Access.Value); err != nil {
		t.Fatalf("another family's access token: %v", err)
	}
	if _, err := f.p.Refresh(ctx, other.Refresh.Value); err != nil {
		t.Fatalf("another family's refresh token: %v", err)
	}
}

// TestRefreshConcurrentExactlyOneWins races refreshes of one token, many
// rounds, for -race.
func TestRefreshConcurrentExactlyOneWins(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	const rounds, racers = 25, 16
	for round := range rounds {
		pair, err := f.p.IssuePair(ctx, jwtprovider.Subject{ID: "user-7"})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, racers)
		start := make(chan struct{})
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = f.p.Refresh(ctx, pair.Refresh.Value)
			}()
		}
		close(start)
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, auth.ErrTokenRevoked):
			default:
				t.Fatalf("round %d: a losing refresh returned %v, want token_revoked", round, err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d of %d concurrent refreshes succeeded, want exactly 1", round, wins, racers)
		}
	}
}

func TestRefreshRejects(t *testing.T) {
	ctx := context.Background()
	t.Run("access token used for refresh", func(t *testing.T) {
		f := newFixture(t, nil)
		pair, _ := f.p.IssuePair(ctx, jwtprovider.Subject{ID: "u"})
		if _, err := f.p.Refresh(ctx, pair.Access.Value); !errors.Is(err, jwtprovider.ErrTokenType) {
			t.Fatalf("Refresh(access token): %v, want ErrTokenType", err)
		}
		if _, err := f.p.Refresh(ctx, pair.Refresh.Value); err != nil {
			t.Fatalf("the failed attempt consumed the family: %v", err)
		}
	})
	t.Run("expired refresh token", func(t *testing.T) {
		f := newFixture(t, nil)
		pair, _ := f.p.IssuePair(ctx, jwtprovider.Subject{ID: "u"})
		f.clock.Advance(jwtprovider.DefaultRefreshTTL + jwtprovider.DefaultLeeway)
		if _, err := f.p.Refresh(ctx, pair.Refresh.Value); !errors.Is(err, auth.ErrTokenExpired) {
			t.Fatalf("Refresh(expired): %v, want token_expired", err)
		}
	})
	t.Run("refresh token after RevokeAll", func(t *testing.T) {
		f := newFixture(t, nil)
		pair, _ := f.p.IssuePair(ctx, jwtprovider.Subject{ID: "u"})
		f.clock.Advance(time.Minute)
		if err := f.p.RevokeAll(ctx, "u"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.p.Refresh(ctx, pair.Refresh.Value); !errors.Is(err, auth.ErrTokenRevoked) {
			t.Fatalf("Refresh after RevokeAll: %v, want token_revoked", err)
		}
	})
	t.Run("refresh token of another issuer's key", func(t *testing.T) {
		f := newFixture(t, nil)
		stranger := newFixture(t, func(c *jwtprovider.Config) {
			k, _ := jwtprovider.NewHMACKey("hs-1", jwtprovider.HS256, []byte("a-different-secret-a-different-secret"))
			c.Keys = []jwtprovider.Key{k}
		})
		pair, _ := stranger.p.IssuePair(ctx, jwtprovider.Subject{ID: "u"})
		if _, err := f.p.Refresh(ctx, pair.Refresh.Value); !errors.Is(err, jwtprovider.ErrSignature) {
			t.Fatalf("Refresh(foreign token): %v, want ErrSignature", err)
		}
	})
	t.Run("refresh family forgotten by the store", func(t *testing.T) {
		f := newFixture(t, nil)
		pair, _ := f.p.IssuePair(ctx, jwtprovider.Subject{ID: "u"})
		// A provider sharing the keys but not the store.
		g := newFixture(t, nil)
		g.clock.Set(f.clock.Now())
		if _, err := g.p.Refresh(ctx, pair.Refresh.Value); !errors.Is(err, auth.ErrInvalidToken) || !errors.Is(err, jwtprovider.ErrNotFound) {
			t.Fatalf("Refresh with an unknown family: %v, want invalid_token caused by ErrNotFound", err)
		}
	})
}

func TestRefreshFamilyLifetimeCapsRefreshTokens(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *jwtprovider.Config) { c.FamilyLifetime = 48 * time.Hour })
	login := f.clock.Now()
	end := login.Add(48 * time.Hour)
	pair, err := f.p.IssuePair(ctx, jwtprovider.Subject{ID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Duration{20 * time.Hour, 40 * time.Hour} {
		f.clock.Set(login.Add(at))
		if pair, err = f.p.Refresh(ctx, pair.Refresh.Value); err != nil {
			t.Fatalf("Refresh at +%v: %v", at, err)
		}
	}
	if !pair.Refresh.ExpiresAt.Equal(end) {
		t.Fatalf("refresh token at +40h expires %v, want the family end %v", pair.Refresh.ExpiresAt, end)
	}
	f.clock.Set(end)
	if _, err := f.p.Refresh(ctx, pair.Refresh.Value); err == nil {
		t.Fatal("Refresh at the family end succeeded")
	}
}

func TestRefreshReloadSubject(t *testing.T) {
	ctx := context.Background()
	errDisabled := auth.NewError(auth.CodeInvalidCredentials, "account disabled")
	var mu sync.Mutex
	disabled := false
	f := newFixture(t, func(c *jwtprovider.Config) {
		c.ReloadSubject = func(_ context.Context, s jwtprovider.Subject) (jwtprovider.Subject, error) {
			mu.Lock()
			defer mu.Unlock()
			if disabled {
				return s, errDisabled
			}
			s.Roles = []string{"supervisor"}
			return s, nil
		}
	})
	pair, _ := f.p.IssuePair(ctx, jwtprovider.Subject{ID: "u", Roles: []string{"operator"}})
	mu.Lock()
	disabled = true
	mu.Unlock()
	if _, err := f.p.Refresh(ctx, pair.Refresh.Value); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("Refresh of a disabled account: %v", err)
	}
	mu.Lock()
	disabled = false
	mu.Unlock()
	// The refused attempt did not consume the token.
	next, err := f.p.Refresh(ctx, pair.Refresh.Value)
	if err != nil {
		t.Fatalf("Refresh after re-enabling: %v", err)
	}
	c, err := f.p.Verify(ctx, next.Access.Value)
	if err != nil || !slices.Equal(c.Roles, []string{"supervisor"}) {
		t.Fatalf("reloaded roles: %v, %v", c, err)
	}

	g := newFixture(t, func(c *jwtprovider.Config) {
		c.ReloadSubject = func(_ context.Context, s jwtprovider.Subject) (jwtprovider.Subject, error) {
			s.ID = "admin"
			return s, nil
		}
	})
	gp, _ := g.p.IssuePair(ctx, jwtprovider.Subject{ID: "u"})
	if _, err := g.p.Refresh(ctx, gp.Refresh.Value); err == nil {
		t.Fatal("ReloadSubject was allowed to change the subject")
	}
}
