package jwtprovider_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

func TestRevokeAccessToken(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	a, _ := f.p.Issue(ctx, jwtprovider.Subject{ID: "u", Username: "ada"})
	b, _ := f.p.Issue(ctx, jwtprovider.Subject{ID: "u", Username: "ada"})
	if _, err := f.p.Verify(ctx, a.Value); err != nil { // now cached
		t.Fatal(err)
	}
	if err := f.p.Revoke(ctx, a.Value); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if _, err := f.p.Verify(ctx, a.Value); !errors.Is(err, auth.ErrTokenRevoked) || !errors.Is(err, jwtprovider.ErrRevoked) {
		t.Fatalf("revoked jti (cached before): %v, want token_revoked", err)
	}
	if _, err := f.p.Verify(ctx, b.Value); err != nil {
		t.Fatalf("another token of the subject: %v", err)
	}
	if err := f.p.Revoke(ctx, a.Value); err != nil {
		t.Fatalf("second Revoke: %v", err)
	}
	ev := f.events.of(auth.EventTokenRevoked)
	if len(ev) != 2 || ev[0].Subject != "u" || ev[0].Attrs["jti"] != a.ID {
		t.Fatalf("token_revoked events %+v", ev)
	}
}

func TestRevokeRefreshTokenRevokesFamily(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	pair, _ := f.p.IssuePair(ctx, jwtprovider.Subject{ID: "u"})
	if err := f.p.Revoke(ctx, pair.Refresh.Value); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if _, err := f.p.Refresh(ctx, pair.Refresh.Value); !errors.Is(err, auth.ErrTokenRevoked) {
		t.Fatalf("Refresh after Revoke: %v, want token_revoked", err)
	}
	if _, err := f.p.Verify(ctx, pair.Access.Value); !errors.Is(err, auth.ErrTokenRevoked) {
		t.Fatalf("access token of a revoked family: %v, want token_revoked", err)
	}
}

func TestRevokeEdgeCases(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	tok, _ := f.p.Issue(ctx, jwtprovider.Subject{ID: "u"})
	t.Run("forged token", func(t *testing.T) {
		forged := forge(t, hsHeader(), claimsAt(f.clock.Now()), jwt.SigningMethodHS256, []byte("not-the-secret-not-the-secret-not"))
		if err := f.p.Revoke(ctx, forged); !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("Revoke(forged): %v, want invalid_token", err)
		}
	})
	t.Run("unknown typ", func(t *testing.T) {
		odd := forge(t, with(hsHeader(), "typ", "JWT"), claimsAt(f.clock.Now()), jwt.SigningMethodHS256, hmacSecret)
		if err := f.p.Revoke(ctx, odd); !errors.Is(err, jwtprovider.ErrTokenType) {
			t.Fatalf("Revoke(typ JWT): %v, want ErrTokenType", err)
		}
	})
	t.Run("expired token is a no-op", func(t *testing.T) {
		g := newFixture(t, nil)
		old, _ := g.p.Issue(ctx, jwtprovider.Subject{ID: "u"})
		g.clock.Advance(time.Hour)
		if err := g.p.Revoke(ctx, old.Value); err != nil {
			t.Fatalf("Revoke(expired): %v", err)
		}
		if n := len(g.events.of(auth.EventTokenRevoked)); n != 0 {
			t.Fatalf("%d token_revoked events for an expired token", n)
		}
	})
	t.Run("store failure is not a token error", func(t *testing.T) {
		g := newFixture(t, func(c *jwtprovider.Config) {
			c.RevocationStore = &failingRevocations{MemoryRevocationStore: jwtprovider.NewMemoryRevocationStore()}
		})
		tok, _ := g.p.Issue(ctx, jwtprovider.Subject{ID: "u"})
		err := g.p.Revoke(ctx, tok.Value)
		var ae *auth.Error
		if err == nil || errors.As(err, &ae) || !errors.Is(err, errStoreDown) {
			t.Fatalf("Revoke with a failing store: %v, want a wrapped store error", err)
		}
	})
	if _, err := f.p.Verify(ctx, tok.Value); err != nil {
		t.Fatalf("untouched token: %v", err)
	}
}

var errStoreDown = errors.New("store down")

type failingRevocations struct {
	*jwtprovider.MemoryRevocationStore
}

func (failingRevocations) Revoke(context.Context, jwtprovider.Revocation) error { return errStoreDown }

// staleMirror is a RevocationStore whose mirror has lost its feed.
type staleMirror struct {
	*jwtprovider.MemoryRevocationStore
}

func (s staleMirror) Mirror() jwtprovider.RevocationMirror { return s }
func (staleMirror) Check(jwtprovider.TokenRef) error {
	return fmt.Errorf("redis feed down for 12s: %w", jwtprovider.ErrMirrorStale)
}

func TestVerifyFailsClosedWhenMirrorIsStale(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *jwtprovider.Config) { c.RevocationStore = staleMirror{jwtprovider.NewMemoryRevocationStore()} })
	tok, _ := f.p.Issue(ctx, jwtprovider.Subject{ID: "u"})
	for i := range 2 { // the second time through the cache path, if it were cached
		_, err := f.p.Verify(ctx, tok.Value)
		var ae *auth.Error
		if err == nil || errors.As(err, &ae) || !errors.Is(err, jwtprovider.ErrMirrorStale) {
			t.Fatalf("Verify #%d with a stale mirror: %v, want a wrapped ErrMirrorStale", i+1, err)
		}
		if got := auth.AsError(err).Code; got != auth.CodeUnavailable {
			t.Fatalf("a stale mirror maps to %q, want unavailable", got)
		}
	}
}

func TestRevokeAllCutOff(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	sec := f.clock.Now() // a whole second
	f.clock.Set(sec.Add(-10 * time.Minute))
	old, _ := f.p.IssuePair(ctx, jwtprovider.Subject{ID: "u"})
	f.clock.Set(sec.Add(100 * time.Millisecond))
	sameSecond, _ := f.p.Issue(ctx, jwtprovider.Subject{ID: "u"})
	other, _ := f.p.Issue(ctx, jwtprovider.Subject{ID: "someone-else"})
	if _, err := f.p.Verify(ctx, sameSecond.Value); err != nil { // cached
		t.Fatal(err)
	}

	f.clock.Set(sec.Add(300 * time.Millisecond))
	if err := f.p.RevokeAll(ctx, "u"); err != nil {
		t.Fatalf("RevokeAll: %v", err)
	}
	for name, tok := range map[string]string{
		"a 10-minute-old access token":         old.Access.Value,
		"an access token from the same second": sameSecond.Value,
	} {
		if _, err := f.p.Verify(ctx, tok); !errors.Is(err, auth.ErrTokenRevoked) {
			t.Errorf("%s after RevokeAll: %v, want token_revoked", name, err)
		}
	}
	if _, err := f.p.Refresh(ctx, old.Refresh.Value); !errors.Is(err, auth.ErrTokenRevoked) {
		t.Errorf("refresh token after RevokeAll: %v, want token_revoked", err)
	}
	if _, err := f.p.Verify(ctx, other.Value); err != nil {
		t.Errorf("another subject's token: %v", err)
	}

	// A new login later in the same second (the password-change flow) must
	// work at once.
	f.clock.Set(sec.Add(700 * time.Millisecond))
	fresh, err := f.p.IssuePair(ctx, jwtprovider.Subject{ID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if !fresh.Access.IssuedAt.Equal(sec.Add(time.Second)) {
		t.Errorf("fresh token iat %v, want the next second %v", fresh.Access.IssuedAt, sec.Add(time.Second))
	}
	if _, err := f.p.Verify(ctx, fresh.Access.Value); err != nil {
		t.Errorf("token issued after RevokeAll in the same second: %v", err)
	}
	if _, err := f.p.Refresh(ctx, fresh.Refresh.Value); err != nil {
		t.Errorf("refresh token issued after RevokeAll in the same second: %v", err)
	}
	ev := f.events.of(auth.EventTokenRevoked)
	if len(ev) != 1 || ev[0].Subject != "u" || ev[0].Reason != "revoke_all" {
		t.Errorf("token_revoked events %+v", ev)
	}
}

func TestRevokeAllWithoutLeewayDelaysSameSecondTokens(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *jwtprovider.Config) { c.Leeway = -1 })
	sec := f.clock.Now()
	f.clock.Set(sec.Add(300 * time.Millisecond))
	if err := f.p.RevokeAll(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	f.clock.Set(sec.Add(700 * time.Millisecond))
	fresh, _ := f.p.Issue(ctx, jwtprovider.Subject{ID: "u"})
	if _, err := f.p.Verify(ctx, fresh.Value); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("without leeway, a token issued in the cut-off second is not valid yet: %v", err)
	}
	f.clock.Set(sec.Add(time.Second))
	if _, err := f.p.Verify(ctx, fresh.Value); err != nil {
		t.Fatalf("at the next second: %v", err)
	}
}

func TestRevokeAllRejectsEmptySubject(t *testing.T) {
	f := newFixture(t, nil)
	if err := f.p.RevokeAll(context.Background(), ""); !errors.Is(err, jwtprovider.ErrSubject) {
		t.Fatalf("RevokeAll(\"\"): %v", err)
	}
}
