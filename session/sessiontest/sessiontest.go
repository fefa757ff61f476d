// Package sessiontest is the conformance suite for implementations of
// session.Store. Adapters (PostgreSQL, Redis, ...) run it in their own tests:
//
//	func TestStore(t *testing.T) {
//		sessiontest.Run(t, func(t *testing.T) session.Store { return newStore(t) })
//	}
package sessiontest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/session"
)

// base is the suite's clock origin. Every time the suite passes is base plus
// a whole number of milliseconds, so stores that keep times at millisecond or
// microsecond precision pass unchanged. It lies in the future, so a store
// that wrongly consults its own clock instead of the time it is given keeps
// records the suite expects gone, or loses ones it expects kept.
var base = time.Date(2031, 3, 14, 15, 9, 26, 0, time.UTC)

func at(ms int64) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }

// ID returns a well-formed session ID (a hex SHA-256) derived from label.
func ID(label string) string {
	sum := sha256.Sum256([]byte("sessiontest:" + label))
	return hex.EncodeToString(sum[:])
}

// Record returns a complete record for user, created at createdMs, live until
// createdMs+30 minutes and at most until createdMs+12 hours.
func Record(label, user string, createdMs int64) session.Record {
	return session.Record{
		ID:       ID(label),
		UserID:   user,
		Username: user + "-name",
		Email:    user + "@example.test",
		Roles:    []string{"operator", "supervisor"},
		Scopes:   nil,
		MFA: auth.MFAState{
			Verified:   true,
			VerifiedAt: at(createdMs - 1000),
			Methods:    []string{"pwd", "otp"},
		},
		AuthMethod:        auth.MethodBasic,
		ClientIP:          "203.0.113.7",
		UserAgent:         "Mozilla/5.0 (sessiontest)",
		CreatedAt:         at(createdMs),
		LastSeenAt:        at(createdMs),
		ExpiresAt:         at(createdMs + 30*60*1000),
		AbsoluteExpiresAt: at(createdMs + 12*3600*1000),
		Data:              `{"k":"v"}`,
	}
}

// Run checks that stores made by newStore behave as session.Store requires.
// newStore is called once per subtest and must return a store with no
// sessions (for a shared engine: a fresh namespace or key prefix). The suite
// controls time: it passes every "now" explicitly, and its times lie in the
// future, so stores must use the time they are given, never their own clock.
// It runs concurrent cases; run it with -race.
func Run(t *testing.T, newStore func(t *testing.T) session.Store) {
	t.Helper()
	ctx := context.Background()

	t.Run("round trip keeps every field", func(t *testing.T) {
		s := newStore(t)
		rec := Record("a1", "alice", 0)
		mustCreate(t, s, rec, session.CreateOptions{Now: at(0)})
		got := mustGet(t, s, rec.ID)
		same(t, "get after create", got, rec)
	})

	t.Run("nil and empty scopes stay apart", func(t *testing.T) {
		s := newStore(t)
		narrowed := Record("empty-scopes", "alice", 0)
		narrowed.Scopes = []string{}
		mustCreate(t, s, narrowed, session.CreateOptions{Now: at(0)})
		wide := Record("nil-scopes", "alice", 1)
		mustCreate(t, s, wide, session.CreateOptions{Now: at(1)})
		if got := mustGet(t, s, narrowed.ID); got.Scopes == nil {
			t.Errorf("empty Scopes (grants nothing) came back nil (not narrowed)")
		}
		if got := mustGet(t, s, wide.ID); got.Scopes != nil {
			t.Errorf("nil Scopes came back as %#v", got.Scopes)
		}
		scoped := Record("some-scopes", "alice", 2)
		scoped.Scopes = []string{"predictions:read"}
		mustCreate(t, s, scoped, session.CreateOptions{Now: at(2)})
		if got := mustGet(t, s, scoped.ID); !slices.Equal(got.Scopes, scoped.Scopes) {
			t.Errorf("Scopes = %v, want %v", got.Scopes, scoped.Scopes)
		}
	})

	t.Run("unknown id is ErrNotFound", func(t *testing.T) {
		s := newStore(t)
		mustCreate(t, s, Record("known", "alice", 0), session.CreateOptions{Now: at(0)})
		for _, id := range []string{ID("unknown"), "", ID("known")[:63], ID("known") + "0"} {
			if _, err := s.Get(ctx, id); !errors.Is(err, session.ErrNotFound) {
				t.Errorf("Get(%q) error = %v, want ErrNotFound", id, err)
			}
		}
	})

	t.Run("duplicate id is ErrExists and changes nothing", func(t *testing.T) {
		s := newStore(t)
		first := Record("dup", "alice", 0)
		mustCreate(t, s, first, session.CreateOptions{Now: at(0)})
		second := Record("dup", "mallory", 5)
		if _, err := s.Create(ctx, second, session.CreateOptions{Now: at(5)}); !errors.Is(err, session.ErrExists) {
			t.Fatalf("Create of a held ID: error = %v, want ErrExists", err)
		}
		same(t, "record after duplicate create", mustGet(t, s, first.ID), first)
		if got := list(t, s, "mallory", at(5)); len(got) != 0 {
			t.Errorf("mallory lists %v after a refused create", ids(got))
		}
	})

	t.Run("store keeps no reference to caller slices", func(t *testing.T) {
		s := newStore(t)
		rec := Record("alias", "alice", 0)
		want := Record("alias", "alice", 0)
		mustCreate(t, s, rec, session.CreateOptions{Now: at(0)})
		rec.Roles[0], rec.MFA.Methods[0] = "admin", "forged"
		got := mustGet(t, s, rec.ID)
		same(t, "after mutating the created record", got, want)
		got.Roles[0], got.MFA.Methods[0] = "admin", "forged"
		same(t, "after mutating a returned record", mustGet(t, s, rec.ID), want)
	})

	t.Run("update moves deadlines forward only", func(t *testing.T) {
		s := newStore(t)
		rec := Record("touch", "alice", 0)
		mustCreate(t, s, rec, session.CreateOptions{Now: at(0)})
		mustUpdate(t, s, rec.ID, session.Update{Now: at(60_000), LastSeenAt: at(60_000), ExpiresAt: at(60_000 + 30*60*1000)})
		got := mustGet(t, s, rec.ID)
		wantTime(t, "LastSeenAt after touch", got.LastSeenAt, at(60_000))
		wantTime(t, "ExpiresAt after touch", got.ExpiresAt, at(60_000+30*60*1000))
		if got.Data != rec.Data {
			t.Errorf("a touch without ReplaceData changed Data to %q", got.Data)
		}
		// A delayed write from an earlier request must not shorten the session.
		mustUpdate(t, s, rec.ID, session.Update{Now: at(61_000), LastSeenAt: at(30_000), ExpiresAt: at(30_000 + 30*60*1000)})
		got = mustGet(t, s, rec.ID)
		wantTime(t, "LastSeenAt after a stale touch", got.LastSeenAt, at(60_000))
		wantTime(t, "ExpiresAt after a stale touch", got.ExpiresAt, at(60_000+30*60*1000))
		// Zero values leave the deadlines alone.
		mustUpdate(t, s, rec.ID, session.Update{Now: at(62_000), ReplaceData: true, Data: `{"n":"1"}`})
		got = mustGet(t, s, rec.ID)
		wantTime(t, "ExpiresAt after a data-only update", got.ExpiresAt, at(60_000+30*60*1000))
		if got.Data != `{"n":"1"}` {
			t.Errorf("Data = %q after ReplaceData", got.Data)
		}
		mustUpdate(t, s, rec.ID, session.Update{Now: at(63_000), ReplaceData: true, Data: ""})
		if got := mustGet(t, s, rec.ID); got.Data != "" {
			t.Errorf("Data = %q after replacing it with empty", got.Data)
		}
	})

	t.Run("update caps ExpiresAt at AbsoluteExpiresAt", func(t *testing.T) {
		s := newStore(t)
		rec := Record("cap", "alice", 0)
		rec.ExpiresAt = rec.AbsoluteExpiresAt.Add(-10 * time.Second)
		mustCreate(t, s, rec, session.CreateOptions{Now: at(0)})
		late := rec.AbsoluteExpiresAt.Add(-time.Minute)
		mustUpdate(t, s, rec.ID, session.Update{Now: late, LastSeenAt: late, ExpiresAt: late.Add(30 * time.Minute)})
		got := mustGet(t, s, rec.ID)
		wantTime(t, "ExpiresAt past the absolute deadline", got.ExpiresAt, rec.AbsoluteExpiresAt)
	})

	t.Run("update of unknown, expired or deleted record is ErrNotFound", func(t *testing.T) {
		s := newStore(t)
		rec := Record("gone", "alice", 0)
		mustCreate(t, s, rec, session.CreateOptions{Now: at(0)})
		touch := func(now time.Time) session.Update {
			return session.Update{Now: now, LastSeenAt: now, ExpiresAt: now.Add(30 * time.Minute), ReplaceData: true, Data: "resurrected"}
		}
		if err := s.Update(ctx, ID("never-created"), touch(at(1))); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Update(unknown) error = %v, want ErrNotFound", err)
		}
		if err := s.Update(ctx, rec.ID, touch(rec.ExpiresAt)); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Update at ExpiresAt error = %v, want ErrNotFound (expired)", err)
		}
		if got, err := s.Get(ctx, rec.ID); err == nil && (got.Data == "resurrected" || got.ExpiresAt.After(rec.ExpiresAt)) {
			t.Errorf("an update of an expired record changed it: %+v", got)
		}
		rec2 := Record("deleted", "alice", 10)
		mustCreate(t, s, rec2, session.CreateOptions{Now: at(10)})
		mustDelete(t, s, session.Query{ID: rec2.ID})
		if err := s.Update(ctx, rec2.ID, touch(at(20))); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Update(deleted) error = %v, want ErrNotFound", err)
		}
		if _, err := s.Get(ctx, rec2.ID); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("an update recreated a deleted record (Get error = %v)", err)
		}
	})

	t.Run("expired record is gone or still expired", func(t *testing.T) {
		s := newStore(t)
		rec := Record("old", "alice", 0)
		mustCreate(t, s, rec, session.CreateOptions{Now: at(0)})
		got, err := s.Get(ctx, rec.ID)
		switch {
		case errors.Is(err, session.ErrNotFound):
		case err != nil:
			t.Fatalf("Get: %v", err)
		default:
			wantTime(t, "ExpiresAt of a held record", got.ExpiresAt, rec.ExpiresAt)
		}
		if l := list(t, s, "alice", rec.ExpiresAt); len(l) != 0 {
			t.Errorf("List at ExpiresAt = %v, want nothing (expired)", ids(l))
		}
		if l := list(t, s, "alice", rec.ExpiresAt.Add(-time.Millisecond)); len(l) != 1 {
			t.Errorf("List just before ExpiresAt = %v, want the record", ids(l))
		}
	})

	t.Run("list is per user and skips expired sessions", func(t *testing.T) {
		s := newStore(t)
		// User IDs that would collide in a careless key scheme.
		users := []string{"alice", "alice:1", "ali", "bob", "alice*", "user:alice", "ALICE"}
		want := map[string][]string{}
		for i, u := range users {
			for j := range 2 {
				rec := Record(fmt.Sprintf("%s/%d", u, j), u, int64(i*10+j))
				mustCreate(t, s, rec, session.CreateOptions{Now: at(int64(i*10 + j))})
				want[u] = append(want[u], rec.ID)
			}
		}
		short := Record("alice/short", "alice", 100)
		short.ExpiresAt = at(200)
		mustCreate(t, s, short, session.CreateOptions{Now: at(100)})
		for _, u := range users {
			got := list(t, s, u, at(1000))
			if g, w := sorted(ids(got)), sorted(want[u]); !slices.Equal(g, w) {
				t.Errorf("List(%q) = %v, want %v", u, g, w)
			}
			for _, r := range got {
				if r.UserID != u {
					t.Errorf("List(%q) returned a session of %q", u, r.UserID)
				}
			}
		}
		if got := list(t, s, "nobody", at(1000)); len(got) != 0 {
			t.Errorf("List(nobody) = %v", ids(got))
		}
		if got := list(t, s, "alice", at(150)); len(got) != 3 {
			t.Errorf("List(alice) before the short session expired has %d sessions, want 3", len(got))
		}
	})

	t.Run("cap evicts the oldest", func(t *testing.T) {
		s := newStore(t)
		opts := func(ms int64) session.CreateOptions { return session.CreateOptions{Now: at(ms), MaxPerUser: 3} }
		// Created out of order: the oldest is the one with the smallest CreatedAt.
		for _, c := range []struct {
			label string
			ms    int64
		}{{"c", 30}, {"a", 10}, {"b", 20}} {
			if ev := mustCreate(t, s, Record(c.label, "alice", c.ms), opts(40)); len(ev) != 0 {
				t.Fatalf("evicted %v below the cap", ids(ev))
			}
		}
		mustCreate(t, s, Record("other-user", "bob", 0), opts(40))
		ev := mustCreate(t, s, Record("d", "alice", 50), opts(50))
		if g := ids(ev); !slices.Equal(g, []string{ID("a")}) {
			t.Errorf("evicted %v, want [a]", g)
		}
		if len(ev) == 1 {
			same(t, "evicted record", ev[0], Record("a", "alice", 10))
		}
		if g, w := sorted(ids(list(t, s, "alice", at(50)))), sorted([]string{ID("b"), ID("c"), ID("d")}); !slices.Equal(g, w) {
			t.Errorf("alice lists %v, want %v", g, w)
		}
		if _, err := s.Get(ctx, ID("a")); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("evicted session still readable (error %v)", err)
		}
		if got := list(t, s, "bob", at(50)); len(got) != 1 {
			t.Errorf("another user's session was evicted: bob has %d", len(got))
		}
	})

	t.Run("cap tie on CreatedAt evicts the smaller ID", func(t *testing.T) {
		s := newStore(t)
		x, y := Record("tie-x", "alice", 10), Record("tie-y", "alice", 10)
		mustCreate(t, s, x, session.CreateOptions{Now: at(10), MaxPerUser: 2})
		mustCreate(t, s, y, session.CreateOptions{Now: at(10), MaxPerUser: 2})
		ev := mustCreate(t, s, Record("tie-z", "alice", 20), session.CreateOptions{Now: at(20), MaxPerUser: 2})
		if g, w := ids(ev), []string{min(x.ID, y.ID)}; !slices.Equal(g, w) {
			t.Errorf("evicted %v, want %v", g, w)
		}
	})

	t.Run("cap does not count expired sessions", func(t *testing.T) {
		s := newStore(t)
		old := Record("expired", "alice", 0)
		old.ExpiresAt = at(100)
		mustCreate(t, s, old, session.CreateOptions{Now: at(0), MaxPerUser: 2})
		mustCreate(t, s, Record("live", "alice", 50), session.CreateOptions{Now: at(50), MaxPerUser: 2})
		ev := mustCreate(t, s, Record("new", "alice", 200), session.CreateOptions{Now: at(200), MaxPerUser: 2})
		for _, r := range ev {
			if r.ID == ID("live") {
				t.Errorf("evicted a live session although the other one had expired")
			}
		}
		if g, w := sorted(ids(list(t, s, "alice", at(200)))), sorted([]string{ID("live"), ID("new")}); !slices.Equal(g, w) {
			t.Errorf("alice lists %v, want %v", g, w)
		}
	})

	t.Run("cap with refuse fails and changes nothing", func(t *testing.T) {
		s := newStore(t)
		opts := session.CreateOptions{Now: at(10), MaxPerUser: 2, Refuse: true}
		mustCreate(t, s, Record("r1", "alice", 0), opts)
		mustCreate(t, s, Record("r2", "alice", 1), opts)
		ev, err := s.Create(ctx, Record("r3", "alice", 2), opts)
		if !errors.Is(err, session.ErrLimitReached) {
			t.Fatalf("Create over the cap with Refuse: error = %v, want ErrLimitReached", err)
		}
		if len(ev) != 0 {
			t.Errorf("refused create evicted %v", ids(ev))
		}
		if _, err := s.Get(ctx, ID("r3")); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("refused session was stored (Get error %v)", err)
		}
		if got := list(t, s, "alice", at(10)); len(got) != 2 {
			t.Errorf("alice has %d sessions after a refused create, want 2", len(got))
		}
	})

	t.Run("replace deletes the old session in the same step", func(t *testing.T) {
		s := newStore(t)
		opts := session.CreateOptions{Now: at(100), MaxPerUser: 2, Refuse: true}
		old := Record("before-renew", "alice", 0)
		mustCreate(t, s, old, opts)
		mustCreate(t, s, Record("other-device", "alice", 1), opts)
		renewed := Record("after-renew", "alice", 0)
		opts.Replace = old.ID
		// At the cap with Refuse: the replaced session does not count.
		if ev := mustCreate(t, s, renewed, opts); len(ev) != 0 {
			t.Errorf("renewal evicted %v", ids(ev))
		}
		if _, err := s.Get(ctx, old.ID); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("replaced session still readable (error %v)", err)
		}
		same(t, "renewed session", mustGet(t, s, renewed.ID), renewed)
		if got := list(t, s, "alice", at(100)); len(got) != 2 {
			t.Errorf("alice has %d sessions after renewal, want 2", len(got))
		}
	})

	t.Run("replace of a missing, expired or foreign session fails", func(t *testing.T) {
		s := newStore(t)
		mine := Record("mine", "alice", 0)
		mine.ExpiresAt = at(500)
		mustCreate(t, s, mine, session.CreateOptions{Now: at(0)})
		theirs := Record("theirs", "bob", 0)
		mustCreate(t, s, theirs, session.CreateOptions{Now: at(0)})
		cases := []struct {
			name    string
			replace string
			now     int64
		}{
			{"never existed", ID("nothing"), 100},
			{"expired", mine.ID, 500},
			{"another user's", theirs.ID, 100},
		}
		for i, c := range cases {
			next := Record(fmt.Sprintf("next-%d", i), "alice", 0)
			_, err := s.Create(ctx, next, session.CreateOptions{Now: at(c.now), Replace: c.replace})
			if !errors.Is(err, session.ErrNotFound) {
				t.Errorf("%s: Create with Replace error = %v, want ErrNotFound", c.name, err)
			}
			if _, err := s.Get(ctx, next.ID); !errors.Is(err, session.ErrNotFound) {
				t.Errorf("%s: the new session was stored although the replacement failed", c.name)
			}
		}
		if _, err := s.Get(ctx, theirs.ID); err != nil {
			t.Errorf("bob's session was deleted by alice's renewal: %v", err)
		}
	})

	t.Run("delete by id, by owner, all and others", func(t *testing.T) {
		s := newStore(t)
		for i := range 4 {
			mustCreate(t, s, Record(fmt.Sprintf("al%d", i), "alice", int64(i)), session.CreateOptions{Now: at(0)})
		}
		mustCreate(t, s, Record("bob0", "bob", 0), session.CreateOptions{Now: at(0)})

		got := mustDelete(t, s, session.Query{ID: ID("al0")})
		if g := ids(got); !slices.Equal(g, []string{ID("al0")}) {
			t.Errorf("Delete(ID) returned %v", g)
		} else {
			same(t, "deleted record", got[0], Record("al0", "alice", 0))
		}
		if got := mustDelete(t, s, session.Query{ID: ID("al0")}); len(got) != 0 {
			t.Errorf("deleting it again returned %v, want nothing", ids(got))
		}
		if got := mustDelete(t, s, session.Query{ID: ID("bob0"), UserID: "alice"}); len(got) != 0 {
			t.Errorf("alice deleted bob's session: %v", ids(got))
		}
		if _, err := s.Get(ctx, ID("bob0")); err != nil {
			t.Errorf("bob's session gone after alice's owner-checked delete: %v", err)
		}
		got = mustDelete(t, s, session.Query{UserID: "alice", Except: ID("al2")})
		if g, w := sorted(ids(got)), sorted([]string{ID("al1"), ID("al3")}); !slices.Equal(g, w) {
			t.Errorf("Delete(others) returned %v, want %v", g, w)
		}
		if g := ids(list(t, s, "alice", at(0))); !slices.Equal(g, []string{ID("al2")}) {
			t.Errorf("alice lists %v after deleting the others, want [al2]", g)
		}
		got = mustDelete(t, s, session.Query{UserID: "alice"})
		if g := ids(got); !slices.Equal(g, []string{ID("al2")}) {
			t.Errorf("Delete(all) returned %v", g)
		}
		if got := list(t, s, "alice", at(0)); len(got) != 0 {
			t.Errorf("alice still lists %v", ids(got))
		}
		if got := mustDelete(t, s, session.Query{UserID: "nobody"}); len(got) != 0 {
			t.Errorf("Delete(nobody) returned %v", ids(got))
		}
		if got := list(t, s, "bob", at(0)); len(got) != 1 {
			t.Errorf("bob has %d sessions after alice's deletes, want 1", len(got))
		}
	})

	t.Run("delete with an empty query is an error and deletes nothing", func(t *testing.T) {
		s := newStore(t)
		mustCreate(t, s, Record("keep", "alice", 0), session.CreateOptions{Now: at(0)})
		if _, err := s.Delete(ctx, session.Query{}); err == nil {
			t.Errorf("Delete(empty query) succeeded")
		}
		if _, err := s.Delete(ctx, session.Query{Except: ID("x")}); err == nil {
			t.Errorf("Delete(only Except) succeeded")
		}
		if _, err := s.Get(ctx, ID("keep")); err != nil {
			t.Errorf("session gone after an empty-query delete: %v", err)
		}
	})

	t.Run("canceled context fails", func(t *testing.T) {
		s := newStore(t)
		mustCreate(t, s, Record("ctx", "alice", 0), session.CreateOptions{Now: at(0)})
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Create(cctx, Record("ctx2", "alice", 1), session.CreateOptions{Now: at(1)}); err == nil {
			t.Errorf("Create with a canceled context succeeded")
		}
		if _, err := s.Get(cctx, ID("ctx")); err == nil {
			t.Errorf("Get with a canceled context succeeded")
		}
		if err := s.Update(cctx, ID("ctx"), session.Update{Now: at(1), LastSeenAt: at(1)}); err == nil {
			t.Errorf("Update with a canceled context succeeded")
		}
		if _, err := s.Delete(cctx, session.Query{ID: ID("ctx")}); err == nil {
			t.Errorf("Delete with a canceled context succeeded")
		}
		if _, err := s.List(cctx, "alice", at(1)); err == nil {
			t.Errorf("List with a canceled context succeeded")
		}
	})

	t.Run("concurrent creates never exceed the cap", func(t *testing.T) {
		s := newStore(t)
		const n, max = 50, 5
		var wg sync.WaitGroup
		var mu sync.Mutex
		evicted := 0
		for i := range n {
			wg.Go(func() {
				ev, err := s.Create(ctx, Record(fmt.Sprintf("burst-%d", i), "alice", int64(i)),
					session.CreateOptions{Now: at(100), MaxPerUser: max})
				if err != nil {
					t.Errorf("Create: %v", err)
				}
				mu.Lock()
				evicted += len(ev)
				mu.Unlock()
			})
		}
		wg.Wait()
		if got := list(t, s, "alice", at(100)); len(got) != max {
			t.Errorf("after %d concurrent creates alice has %d sessions, want %d", n, len(got), max)
		}
		if evicted != n-max {
			t.Errorf("%d sessions evicted in total, want %d", evicted, n-max)
		}
	})

	t.Run("concurrent creates with refuse: exactly the cap wins", func(t *testing.T) {
		s := newStore(t)
		const n, max = 50, 5
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, refused := 0, 0
		for i := range n {
			wg.Go(func() {
				_, err := s.Create(ctx, Record(fmt.Sprintf("refuse-%d", i), "alice", int64(i)),
					session.CreateOptions{Now: at(100), MaxPerUser: max, Refuse: true})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, session.ErrLimitReached):
					refused++
				default:
					t.Errorf("Create: %v", err)
				}
			})
		}
		wg.Wait()
		if ok != max || refused != n-max {
			t.Errorf("%d created and %d refused, want %d and %d", ok, refused, max, n-max)
		}
	})

	t.Run("concurrent renewals of one session: exactly one wins", func(t *testing.T) {
		s := newStore(t)
		old := Record("contested", "alice", 0)
		mustCreate(t, s, old, session.CreateOptions{Now: at(0), MaxPerUser: 5})
		const n = 50
		var wg sync.WaitGroup
		var mu sync.Mutex
		var winners []string
		for i := range n {
			wg.Go(func() {
				next := Record(fmt.Sprintf("renewed-%d", i), "alice", 0)
				_, err := s.Create(ctx, next, session.CreateOptions{Now: at(10), MaxPerUser: 5, Replace: old.ID})
				switch {
				case err == nil:
					mu.Lock()
					winners = append(winners, next.ID)
					mu.Unlock()
				case !errors.Is(err, session.ErrNotFound):
					t.Errorf("Create with Replace: %v", err)
				}
			})
		}
		wg.Wait()
		if len(winners) != 1 {
			t.Fatalf("%d renewals of one session succeeded, want exactly 1", len(winners))
		}
		if g := ids(list(t, s, "alice", at(10))); !slices.Equal(g, winners) {
			t.Errorf("alice lists %v, want only the winner %v", g, winners)
		}
	})

	t.Run("concurrent delete and update do not resurrect", func(t *testing.T) {
		s := newStore(t)
		const n = 20
		for i := range n {
			mustCreate(t, s, Record(fmt.Sprintf("race-%d", i), "alice", int64(i)), session.CreateOptions{Now: at(0)})
		}
		var wg sync.WaitGroup
		for i := range n {
			id := ID(fmt.Sprintf("race-%d", i))
			wg.Go(func() {
				err := s.Update(ctx, id, session.Update{Now: at(100), LastSeenAt: at(100), ExpiresAt: at(100 + 30*60*1000)})
				if err != nil && !errors.Is(err, session.ErrNotFound) {
					t.Errorf("Update: %v", err)
				}
			})
		}
		wg.Go(func() {
			if _, err := s.Delete(ctx, session.Query{UserID: "alice"}); err != nil {
				t.Errorf("Delete: %v", err)
			}
		})
		wg.Wait()
		for i := range n {
			if _, err := s.Get(ctx, ID(fmt.Sprintf("race-%d", i))); !errors.Is(err, session.ErrNotFound) {
				t.Errorf("session %d survived a delete of all of alice's sessions (error %v)", i, err)
			}
		}
		if got := list(t, s, "alice", at(100)); len(got) != 0 {
			t.Errorf("alice lists %v after deleting all", ids(got))
		}
	})
}

func mustCreate(t *testing.T, s session.Store, rec session.Record, opts session.CreateOptions) []session.Record {
	t.Helper()
	ev, err := s.Create(context.Background(), rec, opts)
	if err != nil {
		t.Fatalf("Create(%s): %v", rec.ID[:8], err)
	}
	return ev
}

func mustGet(t *testing.T, s session.Store, id string) session.Record {
	t.Helper()
	rec, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id[:min(8, len(id))], err)
	}
	return rec
}

func mustUpdate(t *testing.T, s session.Store, id string, u session.Update) {
	t.Helper()
	if err := s.Update(context.Background(), id, u); err != nil {
		t.Fatalf("Update(%s): %v", id[:8], err)
	}
}

func mustDelete(t *testing.T, s session.Store, q session.Query) []session.Record {
	t.Helper()
	recs, err := s.Delete(context.Background(), q)
	if err != nil {
		t.Fatalf("Delete(%+v): %v", q, err)
	}
	return recs
}

func list(t *testing.T, s session.Store, user string, now time.Time) []session.Record {
	t.Helper()
	recs, err := s.List(context.Background(), user, now)
	if err != nil {
		t.Fatalf("List(%q): %v", user, err)
	}
	return recs
}

func ids(recs []session.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// same reports the fields in which got differs from want. Times are compared
// with Equal, so stores may return them in another location.
func same(t *testing.T, what string, got, want session.Record) {
	t.Helper()
	type field struct {
		name string
		ok   bool
	}
	fields := []field{
		{"ID", got.ID == want.ID},
		{"UserID", got.UserID == want.UserID},
		{"Username", got.Username == want.Username},
		{"Email", got.Email == want.Email},
		{"Roles", slices.Equal(got.Roles, want.Roles)},
		{"Scopes", slices.Equal(got.Scopes, want.Scopes) && (got.Scopes == nil) == (want.Scopes == nil)},
		{"MFA.Verified", got.MFA.Verified == want.MFA.Verified},
		{"MFA.VerifiedAt", got.MFA.VerifiedAt.Equal(want.MFA.VerifiedAt)},
		{"MFA.Methods", slices.Equal(got.MFA.Methods, want.MFA.Methods)},
		{"AuthMethod", got.AuthMethod == want.AuthMethod},
		{"ClientIP", got.ClientIP == want.ClientIP},
		{"UserAgent", got.UserAgent == want.UserAgent},
		{"CreatedAt", got.CreatedAt.Equal(want.CreatedAt)},
		{"LastSeenAt", got.LastSeenAt.Equal(want.LastSeenAt)},
		{"ExpiresAt", got.ExpiresAt.Equal(want.ExpiresAt)},
		{"AbsoluteExpiresAt", got.AbsoluteExpiresAt.Equal(want.AbsoluteExpiresAt)},
		{"Data", got.Data == want.Data},
	}
	for _, f := range fields {
		if !f.ok {
			t.Errorf("%s: field %s differs:\n got  %+v\n want %+v", what, f.name, got, want)
		}
	}
}
