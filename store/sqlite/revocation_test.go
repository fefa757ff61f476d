package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/gatehouse-auth/gatehouse/jwtprovider/jwtprovidertest"
	"github.com/gatehouse-auth/gatehouse/ratelimit/ratelimittest"
	"github.com/gatehouse-auth/gatehouse/store/sqlite"
)

func newRevocations(t *testing.T, db *sqlite.DB, cfg sqlite.RevocationConfig) *sqlite.RevocationStore {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := db.Revocations(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openMigrated opens the file at path as one more process would, and
// migrates it.
func openMigrated(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestRevocationStoreConformance(t *testing.T) {
	jwtprovidertest.RunRevocationStore(t, func(t *testing.T) jwtprovider.RevocationStore {
		// A loaded test machine must not turn a slow read into a failure.
		return newRevocations(t, newDB(t), sqlite.RevocationConfig{MaxStaleness: time.Minute})
	})
}

// TestRevocationReachesOtherProcesses plays two processes on one file
// (separate handles, each with its own writer and read pool), in a
// synctest bubble whose clock moves only when every goroutine waits: a
// revocation made on B is enforced on B at once and on A after A's next
// poll, not before.
func TestRevocationReachesOtherProcesses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "gatehouse.db")
		a := newRevocations(t, openMigrated(t, path), sqlite.RevocationConfig{})
		b := newRevocations(t, openMigrated(t, path), sqlite.RevocationConfig{})
		now := time.Now()
		if err := b.Revoke(ctx, jwtprovider.Revocation{ID: "jti-1", At: now, Until: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := b.Revoke(ctx, jwtprovider.Revocation{Subject: "alice", At: now, Until: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		refs := []jwtprovider.TokenRef{{ID: "jti-1"}, {ID: "jti-2", Subject: "alice", IssuedAt: now}}
		for _, ref := range refs {
			if err := b.Mirror().Check(ref); !errors.Is(err, jwtprovider.ErrRevoked) {
				t.Fatalf("B's own revocation on B, %+v: %v", ref, err)
			}
			if err := a.Mirror().Check(ref); err != nil {
				t.Fatalf("A before its next poll, %+v: %v, want nil", ref, err)
			}
		}
		time.Sleep(sqlite.DefaultRevocationPollInterval) // the bubble's clock
		synctest.Wait()
		for _, ref := range refs {
			if err := a.Mirror().Check(ref); !errors.Is(err, jwtprovider.ErrRevoked) {
				t.Fatalf("A one poll after B's revocation, %+v: %v, want ErrRevoked", ref, err)
			}
		}
		// A process started later loads it at start.
		c := newRevocations(t, openMigrated(t, path), sqlite.RevocationConfig{})
		if err := c.Mirror().Check(refs[1]); !errors.Is(err, jwtprovider.ErrRevoked) {
			t.Fatalf("C started after the revocation: %v, want ErrRevoked", err)
		}
	})
}

// waitRevoked polls m until every ref is revoked or within has passed.
func waitRevoked(t *testing.T, m jwtprovider.RevocationMirror, refs []jwtprovider.TokenRef, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for _, ref := range refs {
		for {
			err := m.Check(ref)
			if errors.Is(err, jwtprovider.ErrRevoked) {
				break
			}
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if time.Now().After(deadline) {
				t.Fatalf("%+v not revoked within %v", ref, within)
			}
			<-tick.C
		}
	}
}

// TestRevocationPollsMissNothing has two processes write revocations at
// once while a third polls every millisecond, so that its reads fall
// between their commits: versions commit in order, so no poll skips a
// revocation that commits after it.
func TestRevocationPollsMissNothing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	reader := newRevocations(t, openMigrated(t, path), sqlite.RevocationConfig{PollInterval: time.Millisecond, MaxStaleness: time.Minute})
	writers := []*sqlite.RevocationStore{
		newRevocations(t, openMigrated(t, path), sqlite.RevocationConfig{MaxStaleness: time.Minute}),
		newRevocations(t, openMigrated(t, path), sqlite.RevocationConfig{MaxStaleness: time.Minute}),
	}
	const perWriter = 60
	now := time.Now()
	var refs []jwtprovider.TokenRef
	var wg sync.WaitGroup
	errs := make([]error, len(writers)*perWriter)
	for w, s := range writers {
		for i := range perWriter {
			id := fmt.Sprintf("w%d-%d", w, i)
			refs = append(refs, jwtprovider.TokenRef{ID: id})
			wg.Go(func() {
				errs[w*perWriter+i] = s.Revoke(ctx, jwtprovider.Revocation{ID: id, At: now, Until: now.Add(time.Hour)})
			})
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	waitRevoked(t, reader.Mirror(), refs, 10*time.Second)
}

// TestRevocationStaleMirrorFails cuts the mirror off the file: once its
// last read is older than MaxStaleness, Check refuses every token.
func TestRevocationStaleMirrorFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	own := openMigrated(t, path)
	clock := ratelimittest.NewClock(time.Now())
	s := newRevocations(t, own, sqlite.RevocationConfig{MaxStaleness: 2 * time.Second, Now: clock.Now})
	if err := s.Mirror().Check(jwtprovider.TokenRef{ID: "x"}); err != nil {
		t.Fatalf("fresh mirror: %v", err)
	}
	own.Close() // every later read fails
	clock.Advance(2*time.Second + time.Millisecond)
	if err := s.Mirror().Check(jwtprovider.TokenRef{ID: "x"}); !errors.Is(err, jwtprovider.ErrMirrorStale) {
		t.Fatalf("Check with the file unreadable for longer than MaxStaleness: %v, want ErrMirrorStale", err)
	}
}

// TestRevocationCloseStopsPolling closes a store: its goroutine ends (the
// bubble would fail on a leftover goroutine) and the mirror goes stale.
func TestRevocationCloseStopsPolling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newRevocations(t, newDB(t), sqlite.RevocationConfig{})
		for range 2 {
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
		time.Sleep(sqlite.DefaultRevocationMaxStaleness + time.Millisecond) // the bubble's clock
		if err := s.Mirror().Check(jwtprovider.TokenRef{ID: "x"}); !errors.Is(err, jwtprovider.ErrMirrorStale) {
			t.Fatalf("Check after Close and MaxStaleness: %v, want ErrMirrorStale", err)
		}
	})
}

func TestRevocationsConfig(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	if _, err := db.Revocations(ctx, sqlite.RevocationConfig{PollInterval: time.Second, MaxStaleness: time.Second}); !errors.Is(err, sqlite.ErrInvalidConfig) {
		t.Fatalf("MaxStaleness not above PollInterval: %v, want ErrInvalidConfig", err)
	}
	if _, err := db.Revocations(ctx, sqlite.RevocationConfig{PollInterval: -time.Second}); !errors.Is(err, sqlite.ErrInvalidConfig) {
		t.Fatalf("negative PollInterval: %v, want ErrInvalidConfig", err)
	}
	bare, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bare.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close()
	if s, err := bare.Revocations(ctx, sqlite.RevocationConfig{}); err == nil {
		s.Close()
		t.Fatal("Revocations before Migrate: nil error")
	}
}
