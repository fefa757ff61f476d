package jwtprovider_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

// versionedLog is a store that numbers its records in commit order, as a
// database sequence does, and can be made unreachable.
type versionedLog struct {
	mu      sync.Mutex
	recs    []jwtprovider.VersionedRevocation
	down    bool
	fetches int
}

func (l *versionedLog) add(r jwtprovider.Revocation) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, jwtprovider.VersionedRevocation{Revocation: r, Version: int64(len(l.recs) + 1)})
}

func (l *versionedLog) setDown(down bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = down
}

func (l *versionedLog) fetch(ctx context.Context, after int64) ([]jwtprovider.VersionedRevocation, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fetches++
	if l.down {
		return nil, errors.New("store unreachable")
	}
	var out []jwtprovider.VersionedRevocation
	for _, r := range l.recs {
		if r.Version > after {
			out = append(out, r)
		}
	}
	return out, nil
}

func TestMirrorConfigDefaultsAndBounds(t *testing.T) {
	c, err := jwtprovider.MirrorConfig{}.WithDefaults()
	if err != nil || c.PollInterval != jwtprovider.DefaultMirrorPollInterval || c.MaxStaleness != jwtprovider.DefaultMirrorMaxStaleness || c.Now == nil {
		t.Fatalf("defaults = %+v, %v", c, err)
	}
	for _, bad := range []jwtprovider.MirrorConfig{
		{PollInterval: time.Second, MaxStaleness: time.Second},
		{PollInterval: 2 * time.Second},
		{PollInterval: -time.Millisecond},
	} {
		if _, err := bad.WithDefaults(); !errors.Is(err, jwtprovider.ErrMirrorConfig) {
			t.Errorf("%+v: %v, want ErrMirrorConfig", bad, err)
		}
	}
	if _, err := jwtprovider.NewPolledMirror(context.Background(), jwtprovider.MirrorConfig{}, nil); !errors.Is(err, jwtprovider.ErrMirrorConfig) {
		t.Errorf("nil fetch: %v, want ErrMirrorConfig", err)
	}
}

func TestPolledMirrorRefusesToStartWithoutItsStore(t *testing.T) {
	l := &versionedLog{down: true}
	if _, err := jwtprovider.NewPolledMirror(context.Background(), jwtprovider.MirrorConfig{}, l.fetch); err == nil {
		t.Fatal("a mirror started on an unreachable store")
	}
}

// A record committed elsewhere is enforced after the next poll, not before;
// a record added by this process at once; cut-offs only move forward.
func TestPolledMirrorFollowsItsStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := time.Now()
		l := &versionedLog{}
		l.add(jwtprovider.Revocation{ID: "jti-old", At: now, Until: now.Add(time.Hour)})
		m, err := jwtprovider.NewPolledMirror(context.Background(), jwtprovider.MirrorConfig{}, l.fetch)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if err := m.Check(jwtprovider.TokenRef{ID: "jti-old"}); !errors.Is(err, jwtprovider.ErrRevoked) {
			t.Fatalf("record stored before the start: %v, want ErrRevoked", err)
		}

		l.add(jwtprovider.Revocation{Subject: "alice", At: now, Until: now.Add(time.Hour)})
		alice := jwtprovider.TokenRef{Subject: "alice", IssuedAt: now}
		if err := m.Check(alice); err != nil {
			t.Fatalf("before the next poll: %v, want nil", err)
		}
		time.Sleep(jwtprovider.DefaultMirrorPollInterval) // the bubble's clock
		synctest.Wait()
		if err := m.Check(alice); !errors.Is(err, jwtprovider.ErrRevoked) {
			t.Fatalf("after one poll: %v, want ErrRevoked", err)
		}
		// An older cut-off read later does not move the stored one back.
		l.add(jwtprovider.Revocation{Subject: "alice", At: now.Add(-time.Minute), Until: now.Add(time.Hour)})
		time.Sleep(jwtprovider.DefaultMirrorPollInterval)
		synctest.Wait()
		if err := m.Check(alice); !errors.Is(err, jwtprovider.ErrRevoked) {
			t.Fatalf("after an older cut-off: %v, want ErrRevoked", err)
		}
		if err := m.Check(jwtprovider.TokenRef{Subject: "alice", IssuedAt: now.Add(time.Second)}); err != nil {
			t.Fatalf("token issued after the cut-off: %v, want nil", err)
		}

		m.Add(jwtprovider.Revocation{ID: "jti-here", At: now, Until: now.Add(time.Hour)})
		if err := m.Check(jwtprovider.TokenRef{FamilyID: "jti-here"}); !errors.Is(err, jwtprovider.ErrRevoked) {
			t.Fatalf("record added by this process: %v, want ErrRevoked", err)
		}
	})
}

// While the store is unreachable the mirror answers until its last
// confirmation is MaxStaleness old, then refuses every token; it recovers
// at the first poll that succeeds. After Close it goes stale for good.
func TestPolledMirrorGoesStaleAndRecovers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := &versionedLog{}
		cfg := jwtprovider.MirrorConfig{PollInterval: 100 * time.Millisecond, MaxStaleness: 500 * time.Millisecond}
		m, err := jwtprovider.NewPolledMirror(context.Background(), cfg, l.fetch)
		if err != nil {
			t.Fatal(err)
		}
		ref := jwtprovider.TokenRef{ID: "jti-1"}
		l.setDown(true)
		// The last good fetch began at the start; a check exactly
		// MaxStaleness later still passes, a check after it does not.
		time.Sleep(cfg.MaxStaleness)
		synctest.Wait()
		if err := m.Check(ref); err != nil {
			t.Fatalf("at the bound: %v, want nil", err)
		}
		time.Sleep(time.Millisecond)
		if err := m.Check(ref); !errors.Is(err, jwtprovider.ErrMirrorStale) {
			t.Fatalf("past the bound with the store down: %v, want ErrMirrorStale", err)
		}
		l.setDown(false)
		time.Sleep(cfg.PollInterval)
		synctest.Wait()
		if err := m.Check(ref); err != nil {
			t.Fatalf("after the store came back: %v, want nil", err)
		}

		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		l.mu.Lock()
		fetches := l.fetches
		l.mu.Unlock()
		time.Sleep(cfg.MaxStaleness + time.Millisecond)
		if err := m.Check(ref); !errors.Is(err, jwtprovider.ErrMirrorStale) {
			t.Fatalf("after Close: %v, want ErrMirrorStale", err)
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.fetches != fetches {
			t.Fatalf("the mirror fetched %d times after Close", l.fetches-fetches)
		}
	})
}
