package apikey_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehouse-auth/gatehouse/apikey"
	"github.com/gatehouse-auth/gatehouse/auth"
)

func from(ip string) context.Context {
	return auth.WithRequestMeta(context.Background(), auth.RequestMeta{ClientIP: ip})
}

func TestLastUsedIsCoalesced(t *testing.T) {
	e := newEnv(t)
	plain, k := e.create(t, e.alice, "predictions:read")
	start := e.clock.Now()

	// 100 uses from two addresses: no store write yet.
	for i := range 100 {
		ip := "192.0.2.1"
		if i == 99 {
			ip = "198.51.100.7"
		}
		e.clock.Advance(time.Second)
		if _, err := e.m.Verify(from(ip), plain); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.store.updates.Load(); n != 0 {
		t.Fatalf("%d store writes before the flush; want 0", n)
	}
	if n := len(e.events.of(auth.EventAPIKeyUsed)); n != 1 {
		t.Fatalf("%d api_key_used events in one interval; want 1", n)
	}

	// The flush writes once, with the latest use.
	if err := e.m.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := e.store.updates.Load(); n != 1 {
		t.Fatalf("%d store writes for one key in one interval; want 1", n)
	}
	got, err := e.m.Get(context.Background(), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := start.Add(100 * time.Second); !got.LastUsedAt.Equal(want) || got.LastUsedIP != "198.51.100.7" {
		t.Fatalf("last used %v from %q; want %v from 198.51.100.7", got.LastUsedAt, got.LastUsedIP, want)
	}

	// Nothing used since: the next flush writes nothing.
	if err := e.m.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := e.store.updates.Load(); n != 1 {
		t.Fatalf("an idle flush wrote: %d writes", n)
	}

	// The next interval writes again and emits api_key_used again.
	e.clock.Advance(time.Minute)
	if _, err := e.m.Verify(from("192.0.2.1"), plain); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := e.store.updates.Load(); n != 2 {
		t.Fatalf("%d writes after the second interval; want 2", n)
	}
	if n := len(e.events.of(auth.EventAPIKeyUsed)); n != 2 {
		t.Fatalf("%d api_key_used events after two intervals; want 2", n)
	}
}

func TestRejectedKeysAreNotTracked(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	plain, k := e.create(t, e.alice)
	if err := e.m.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	unknown, _ := e.m.Format().Generate()
	for _, key := range []string{plain, unknown} {
		if _, err := e.m.Verify(ctx, key); err == nil {
			t.Fatal("accepted")
		}
	}
	before := e.store.updates.Load()
	if err := e.m.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.store.updates.Load() - before; n != 0 {
		t.Fatalf("flush wrote %d records for rejected keys", n)
	}
}

func TestFlushKeepsFailedWrites(t *testing.T) {
	e := newEnv(t)
	plain, k := e.create(t, e.alice)
	if _, err := e.m.Verify(from("192.0.2.1"), plain); err != nil {
		t.Fatal(err)
	}
	down := errors.New("store down")
	e.store.failWith(down)
	if err := e.m.Flush(context.Background()); !errors.Is(err, down) {
		t.Fatalf("Flush with store down = %v", err)
	}
	e.store.failWith(nil)
	if err := e.m.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := e.m.Get(context.Background(), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastUsedIP != "192.0.2.1" || got.LastUsedAt.IsZero() {
		t.Fatalf("the use was lost by the failed flush: %+v", got)
	}
}

func TestCloseFlushes(t *testing.T) {
	e := newEnv(t)
	plain, k := e.create(t, e.alice)
	if _, err := e.m.Verify(from("2001:db8::1"), plain); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := e.m.Get(context.Background(), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastUsedIP != "2001:db8::1" {
		t.Fatalf("Close did not flush: %+v", got)
	}
	if err := e.m.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// The background flush runs every FlushInterval; synctest's fake clock drives
// the ticker, and the test waits on the store's write signal, not on time.
func TestBackgroundFlush(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newCountingStore()
		store.onWrite = make(chan struct{}, 1)
		o := newOwners()
		alice := o.add("u-alice", "alice", "supervisor")
		m, err := apikey.New(apikey.Config{Store: store, Owners: o, Policy: plantPolicy,
			FlushInterval: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		plain, k, err := m.Create(context.Background(), alice, apikey.Params{Name: "n"})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := m.Verify(from("192.0.2.5"), plain); err != nil {
			t.Fatal(err)
		}
		<-store.onWrite
		if waited := time.Since(start); waited != 30*time.Second {
			t.Errorf("flushed after %v; want one interval (30s)", waited)
		}
		got, err := m.Get(context.Background(), k.ID)
		if err != nil || got.LastUsedIP != "192.0.2.5" {
			t.Fatalf("after background flush: %+v, %v", got, err)
		}
		if err := m.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := store.updates.Load(); n != 1 {
			t.Errorf("%d writes; want 1", n)
		}
	})
}
