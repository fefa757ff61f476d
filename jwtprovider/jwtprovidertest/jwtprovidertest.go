// Package jwtprovidertest holds conformance suites for implementations of
// the jwtprovider store interfaces. Every adapter (PostgreSQL, Redis,
// SQLite, ...) runs them from its tests:
//
//	func TestRefreshStore(t *testing.T) {
//		jwtprovidertest.RunRefreshStore(t, func(t *testing.T) jwtprovider.RefreshStore {
//			return newStoreOnACleanDatabase(t)
//		})
//	}
//
// The suites only use the interfaces. Every time they need is passed through
// method arguments, so they never sleep, and every ID they write is random,
// so that a store shared between cases does not make them interfere.
package jwtprovidertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/secure"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

// concurrency is the number of goroutines of the race cases.
const concurrency = 50

// refTime is the suites' reference time: in the future, with a sub-second
// part.
func refTime() time.Time { return time.Date(2030, 5, 17, 10, 20, 30, 250_000_000, time.UTC) }

func id() string { return secure.Token(12) }

// RunRefreshStore checks that a RefreshStore follows the contract of
// jwtprovider.RefreshStore. newStore is called once per case.
func RunRefreshStore(t *testing.T, newStore func(t *testing.T) jwtprovider.RefreshStore) {
	t.Helper()
	ctx := context.Background()
	base := refTime()
	family := func(t *testing.T, s jwtprovider.RefreshStore) jwtprovider.Family {
		t.Helper()
		f := jwtprovider.Family{
			ID: id(), Subject: "user-" + id(), Current: id(),
			CreatedAt: base, ExpiresAt: base.Add(24 * time.Hour),
		}
		if err := s.Create(ctx, f); err != nil {
			t.Fatalf("Create: %v", err)
		}
		return f
	}

	t.Run("rotate makes the next token current", func(t *testing.T) {
		s := newStore(t)
		f := family(t, s)
		next := id()
		got, err := s.Rotate(ctx, f.ID, f.Current, next, base.Add(time.Minute))
		if err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		if got.ID != f.ID || got.Subject != f.Subject || got.Current != next || got.Revoked {
			t.Fatalf("Rotate returned %+v, want family %q of %q with current %q", got, f.ID, f.Subject, next)
		}
		if !got.CreatedAt.Equal(f.CreatedAt) || !got.ExpiresAt.Equal(f.ExpiresAt) {
			t.Fatalf("Rotate changed the family times: %+v, created as %+v", got, f)
		}
		third := id()
		if _, err := s.Rotate(ctx, f.ID, next, third, base.Add(2*time.Minute)); err != nil {
			t.Fatalf("second Rotate with the new current token: %v", err)
		}
	})

	t.Run("reusing a consumed token revokes the family", func(t *testing.T) {
		s := newStore(t)
		f := family(t, s)
		next := id()
		if _, err := s.Rotate(ctx, f.ID, f.Current, next, base); err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		_, err := s.Rotate(ctx, f.ID, f.Current, id(), base)
		if !errors.Is(err, jwtprovider.ErrReused) {
			t.Fatalf("Rotate with the consumed token: %v, want ErrReused", err)
		}
		// The legitimate holder of the newest token is cut off too.
		_, err = s.Rotate(ctx, f.ID, next, id(), base)
		if !errors.Is(err, jwtprovider.ErrRevoked) {
			t.Fatalf("Rotate with the current token after reuse: %v, want ErrRevoked", err)
		}
		// Reuse stays reuse once the family is revoked.
		_, err = s.Rotate(ctx, f.ID, f.Current, id(), base)
		if !errors.Is(err, jwtprovider.ErrReused) {
			t.Fatalf("Rotate with the consumed token on a revoked family: %v, want ErrReused", err)
		}
	})

	t.Run("a token that was never current is reuse", func(t *testing.T) {
		s := newStore(t)
		f := family(t, s)
		if _, err := s.Rotate(ctx, f.ID, id(), id(), base); !errors.Is(err, jwtprovider.ErrReused) {
			t.Fatalf("Rotate with a foreign token ID: %v, want ErrReused", err)
		}
	})

	t.Run("unknown family is not found", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Rotate(ctx, id(), id(), id(), base); !errors.Is(err, jwtprovider.ErrNotFound) {
			t.Fatalf("Rotate on an unknown family: %v, want ErrNotFound", err)
		}
	})

	t.Run("expired family is not found", func(t *testing.T) {
		s := newStore(t)
		f := family(t, s)
		if _, err := s.Rotate(ctx, f.ID, f.Current, id(), f.ExpiresAt); !errors.Is(err, jwtprovider.ErrNotFound) {
			t.Fatalf("Rotate at ExpiresAt: %v, want ErrNotFound", err)
		}
		f2 := family(t, s)
		if _, err := s.Rotate(ctx, f2.ID, f2.Current, id(), f2.ExpiresAt.Add(-time.Millisecond)); err != nil {
			t.Fatalf("Rotate 1ms before ExpiresAt: %v", err)
		}
	})

	t.Run("revoked family cannot rotate", func(t *testing.T) {
		s := newStore(t)
		f := family(t, s)
		if err := s.Revoke(ctx, f.ID); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		if err := s.Revoke(ctx, f.ID); err != nil {
			t.Fatalf("second Revoke: %v", err)
		}
		if _, err := s.Rotate(ctx, f.ID, f.Current, id(), base); !errors.Is(err, jwtprovider.ErrRevoked) {
			t.Fatalf("Rotate on a revoked family: %v, want ErrRevoked", err)
		}
	})

	t.Run("revoking a missing family is not an error", func(t *testing.T) {
		s := newStore(t)
		if err := s.Revoke(ctx, id()); err != nil {
			t.Fatalf("Revoke of a missing family: %v", err)
		}
	})

	t.Run("create with a taken ID fails and keeps the first", func(t *testing.T) {
		s := newStore(t)
		f := family(t, s)
		dup := f
		dup.Current = id()
		if err := s.Create(ctx, dup); !errors.Is(err, jwtprovider.ErrExists) {
			t.Fatalf("Create with a taken ID: %v, want ErrExists", err)
		}
		if _, err := s.Rotate(ctx, f.ID, f.Current, id(), base); err != nil {
			t.Fatalf("the first family's token no longer rotates: %v", err)
		}
	})

	t.Run("families are independent", func(t *testing.T) {
		s := newStore(t)
		a, b := family(t, s), family(t, s)
		if _, err := s.Rotate(ctx, a.ID, b.Current, id(), base); !errors.Is(err, jwtprovider.ErrReused) {
			t.Fatalf("Rotate of family a with b's token: %v, want ErrReused", err)
		}
		if _, err := s.Rotate(ctx, b.ID, b.Current, id(), base); err != nil {
			t.Fatalf("family b was affected by a's reuse: %v", err)
		}
	})

	t.Run("concurrent rotations of one token: exactly one wins", func(t *testing.T) {
		s := newStore(t)
		f := family(t, s)
		var wg sync.WaitGroup
		errs := make([]error, concurrency)
		start := make(chan struct{})
		for i := range concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = s.Rotate(ctx, f.ID, f.Current, fmt.Sprintf("next-%d-%s", i, id()), base)
			}()
		}
		close(start)
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, jwtprovider.ErrReused):
			default:
				t.Errorf("a losing Rotate returned %v, want ErrReused", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d of %d concurrent rotations succeeded, want exactly 1", wins, concurrency)
		}
	})

	t.Run("concurrent creates of one ID: exactly one wins", func(t *testing.T) {
		s := newStore(t)
		fid := id()
		var wg sync.WaitGroup
		errs := make([]error, concurrency)
		for i := range concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.Create(ctx, jwtprovider.Family{ID: fid, Subject: "u", Current: id(), CreatedAt: base, ExpiresAt: base.Add(time.Hour)})
			}()
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
			} else if !errors.Is(err, jwtprovider.ErrExists) {
				t.Errorf("a losing Create returned %v, want ErrExists", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d of %d concurrent creates succeeded, want exactly 1", wins, concurrency)
		}
	})

	t.Run("a cancelled context fails", func(t *testing.T) {
		s := newStore(t)
		f := family(t, s)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Rotate(cctx, f.ID, f.Current, id(), base); !errors.Is(err, context.Canceled) {
			t.Fatalf("Rotate with a cancelled context: %v, want context.Canceled", err)
		}
		if _, err := s.Rotate(ctx, f.ID, f.Current, id(), base); err != nil {
			t.Fatalf("a cancelled Rotate consumed the token: %v", err)
		}
	})
}

// RunRevocationStore checks that a RevocationStore and its mirror follow
// the contract of jwtprovider.RevocationStore: in particular that a
// revocation is visible in the store's own mirror as soon as Revoke
// returns. newStore is called once per case.
func RunRevocationStore(t *testing.T, newStore func(t *testing.T) jwtprovider.RevocationStore) {
	t.Helper()
	ctx := context.Background()
	base := refTime()
	revoked := func(t *testing.T, m jwtprovider.RevocationMirror, ref jwtprovider.TokenRef) bool {
		t.Helper()
		err := m.Check(ref)
		if err != nil && !errors.Is(err, jwtprovider.ErrRevoked) {
			t.Fatalf("Check(%+v): %v", ref, err)
		}
		return err != nil
	}

	t.Run("revoked ID is rejected, others are not", func(t *testing.T) {
		s := newStore(t)
		m := s.Mirror()
		jti, other := id(), id()
		if err := s.Revoke(ctx, jwtprovider.Revocation{ID: jti, At: base, Until: base.Add(time.Hour)}); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		if !revoked(t, m, jwtprovider.TokenRef{ID: jti, Subject: "u", IssuedAt: base}) {
			t.Fatal("revoked jti accepted")
		}
		if revoked(t, m, jwtprovider.TokenRef{ID: other, Subject: "u", IssuedAt: base}) {
			t.Fatal("a jti that was never revoked is rejected")
		}
	})

	t.Run("revoked family ID rejects its tokens", func(t *testing.T) {
		s := newStore(t)
		fam := id()
		if err := s.Revoke(ctx, jwtprovider.Revocation{ID: fam, At: base, Until: base.Add(time.Hour)}); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		if !revoked(t, s.Mirror(), jwtprovider.TokenRef{ID: id(), FamilyID: fam, Subject: "u", IssuedAt: base}) {
			t.Fatal("token of a revoked family accepted")
		}
		if revoked(t, s.Mirror(), jwtprovider.TokenRef{ID: id(), FamilyID: id(), Subject: "u", IssuedAt: base}) {
			t.Fatal("token of another family rejected")
		}
	})

	t.Run("revoking twice is not an error", func(t *testing.T) {
		s := newStore(t)
		r := jwtprovider.Revocation{ID: id(), At: base, Until: base.Add(time.Hour)}
		for i := range 2 {
			if err := s.Revoke(ctx, r); err != nil {
				t.Fatalf("Revoke #%d: %v", i+1, err)
			}
		}
		if !revoked(t, s.Mirror(), jwtprovider.TokenRef{ID: r.ID}) {
			t.Fatal("twice revoked jti accepted")
		}
	})

	t.Run("subject cut-off rejects tokens issued at or before it", func(t *testing.T) {
		s := newStore(t)
		sub := "user-" + id()
		cut := base // has a 250ms part
		if err := s.Revoke(ctx, jwtprovider.Revocation{Subject: sub, At: cut, Until: cut.Add(time.Hour)}); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		m := s.Mirror()
		for _, tc := range []struct {
			name    string
			iat     time.Time
			revoked bool
		}{
			{"issued an hour before", cut.Add(-time.Hour), true},
			{"issued in the same second, earlier (whole-second iat)", cut.Truncate(time.Second), true},
			{"issued exactly at the cut-off", cut, true},
			{"issued 1ms after the cut-off", cut.Add(time.Millisecond), false},
			{"issued in the next second", cut.Truncate(time.Second).Add(time.Second), false},
		} {
			if got := revoked(t, m, jwtprovider.TokenRef{ID: id(), Subject: sub, IssuedAt: tc.iat}); got != tc.revoked {
				t.Errorf("%s: revoked = %v, want %v", tc.name, got, tc.revoked)
			}
		}
		if revoked(t, m, jwtprovider.TokenRef{ID: id(), Subject: "other-" + id(), IssuedAt: cut.Add(-time.Hour)}) {
			t.Error("another subject's token rejected")
		}
	})

	t.Run("a cut-off never moves back", func(t *testing.T) {
		s := newStore(t)
		sub := "user-" + id()
		late, early := base.Add(time.Hour), base
		for _, at := range []time.Time{late, early} {
			if err := s.Revoke(ctx, jwtprovider.Revocation{Subject: sub, At: at, Until: at.Add(time.Hour)}); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
		}
		if !revoked(t, s.Mirror(), jwtprovider.TokenRef{ID: id(), Subject: sub, IssuedAt: late.Add(-time.Minute)}) {
			t.Fatal("an earlier RevokeAll lowered the later cut-off")
		}
		later := late.Add(time.Hour)
		if err := s.Revoke(ctx, jwtprovider.Revocation{Subject: sub, At: later, Until: later.Add(time.Hour)}); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		if !revoked(t, s.Mirror(), jwtprovider.TokenRef{ID: id(), Subject: sub, IssuedAt: later.Add(-time.Second)}) {
			t.Fatal("a later RevokeAll did not move the cut-off forward")
		}
	})

	t.Run("empty reference fields are not checked", func(t *testing.T) {
		s := newStore(t)
		if err := s.Revoke(ctx, jwtprovider.Revocation{ID: id(), At: base, Until: base.Add(time.Hour)}); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		if revoked(t, s.Mirror(), jwtprovider.TokenRef{}) {
			t.Fatal("an empty reference is reported revoked")
		}
	})

	t.Run("concurrent revocations are all kept", func(t *testing.T) {
		s := newStore(t)
		ids := make([]string, concurrency)
		var wg sync.WaitGroup
		errs := make([]error, concurrency)
		for i := range concurrency {
			ids[i] = id()
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.Revoke(ctx, jwtprovider.Revocation{ID: ids[i], At: base, Until: base.Add(time.Hour)})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("Revoke #%d: %v", i, err)
			}
			if !revoked(t, s.Mirror(), jwtprovider.TokenRef{ID: ids[i]}) {
				t.Fatalf("concurrently revoked jti #%d accepted", i)
			}
		}
	})

	t.Run("records outlive their tokens", func(t *testing.T) {
		// A record may only be dropped after Until: writing more
		// revocations before then must keep it.
		s := newStore(t)
		jti := id()
		if err := s.Revoke(ctx, jwtprovider.Revocation{ID: jti, At: base, Until: base.Add(time.Hour)}); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		for i := range 3000 {
			at := base.Add(time.Duration(i) * time.Millisecond)
			if err := s.Revoke(ctx, jwtprovider.Revocation{ID: id(), At: at, Until: at.Add(time.Second)}); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
		}
		if !revoked(t, s.Mirror(), jwtprovider.TokenRef{ID: jti}) {
			t.Fatal("a revocation was dropped before its Until")
		}
	})

	t.Run("a cancelled context fails", func(t *testing.T) {
		s := newStore(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		err := s.Revoke(cctx, jwtprovider.Revocation{ID: id(), At: base, Until: base.Add(time.Hour)})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Revoke with a cancelled context: %v, want context.Canceled", err)
		}
	})
}
