package session_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/session"
	"github.com/gatehouse-auth/gatehouse/session/sessiontest"
)

func TestMemoryStoreConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store {
		s := session.NewMemoryStore()
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestMemoryStoreSweep(t *testing.T) {
	var mu sync.Mutex
	var swept []string
	s := session.NewMemoryStoreWith(session.MemoryStoreConfig{
		SweepInterval: -1,
		OnExpired: func(r session.Record) {
			mu.Lock()
			swept = append(swept, r.ID)
			mu.Unlock()
		},
	})
	ctx := context.Background()
	t0 := time.Date(2030, 5, 1, 0, 0, 0, 0, time.UTC)
	short := sessiontest.Record("short", "alice", 0)
	short.CreatedAt, short.ExpiresAt = t0, t0.Add(time.Minute)
	long := sessiontest.Record("long", "alice", 0)
	long.CreatedAt, long.ExpiresAt = t0, t0.Add(time.Hour)
	for _, r := range []session.Record{short, long} {
		if _, err := s.Create(ctx, r, session.CreateOptions{Now: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.Sweep(t0.Add(time.Minute - time.Nanosecond)); n != 0 {
		t.Errorf("Sweep before any expiry removed %d", n)
	}
	if n := s.Sweep(t0.Add(time.Minute)); n != 1 {
		t.Errorf("Sweep at the first expiry removed %d, want 1", n)
	}
	if len(swept) != 1 || swept[0] != short.ID {
		t.Errorf("OnExpired saw %v, want the short session", swept)
	}
	if _, err := s.Get(ctx, short.ID); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("swept session still readable")
	}
	if l, _ := s.List(ctx, "alice", t0); len(l) != 1 {
		t.Errorf("per-user index still lists %d sessions, want 1", len(l))
	}
	if s.Len() != 1 {
		t.Errorf("Len = %d, want 1", s.Len())
	}
}

// The manager's own store sweeps in the background and reports expiry.
func TestOwnStoreSweepsInTheBackground(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		events := &recorder{}
		m, err := session.New(session.Config{Events: events})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		w := httptest.NewRecorder()
		if _, err := m.Create(context.Background(), w, alice, session.Meta{}); err != nil {
			t.Fatal(err)
		}
		// Inside the bubble, sleeping advances the fake clock at once.
		time.Sleep(session.DefaultIdleTimeout + session.DefaultSweepInterval)
		synctest.Wait()
		ev := events.ofType(auth.EventSessionExpired)
		if len(ev) != 1 || ev[0].Reason != "idle_timeout" || ev[0].Subject != alice.Subject {
			t.Fatalf("session_expired events = %+v, want one from the sweeper", ev)
		}
		if l, _ := m.List(context.Background(), alice.Subject); len(l) != 0 {
			t.Errorf("List after the sweep = %+v", l)
		}
	})
}

// With the real clock (faked by synctest), idle expiry needs no injected Now.
func TestIdleExpiryWithSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, err := session.New(session.Config{IdleTimeout: 10 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		w := httptest.NewRecorder()
		if _, err := m.Create(context.Background(), w, alice, session.Meta{}); err != nil {
			t.Fatal(err)
		}
		c := sessionCookie(t, w, m.CookieName())
		// Inside the bubble, sleeping advances the fake clock at once.
		time.Sleep(9 * time.Minute)
		if _, err := m.Authenticate(req("GET", "/", c)); err != nil {
			t.Fatalf("after 9 idle minutes: %v", err)
		}
		time.Sleep(9 * time.Minute)
		if _, err := m.Authenticate(req("GET", "/", c)); err != nil {
			t.Fatalf("9 minutes after the last use: %v", err)
		}
		time.Sleep(10 * time.Minute)
		if _, err := m.Authenticate(req("GET", "/", c)); !errors.Is(err, auth.ErrTokenExpired) && !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("10 idle minutes: error = %v, want the session ended", err)
		}
	})
}
