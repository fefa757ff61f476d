package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/gatehouse-auth/gatehouse/jwtprovider/jwtprovidertest"
	"github.com/gatehouse-auth/gatehouse/ratelimit/ratelimittest"
	"github.com/gatehouse-auth/gatehouse/store/postgres"
	"github.com/jackc/pgx/v5/pgxpool"
)

func newRevocations(t *testing.T, db *postgres.DB, cfg postgres.RevocationConfig) *postgres.RevocationStore {
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

func TestRevocationStoreConformance(t *testing.T) {
	jwtprovidertest.RunRevocationStore(t, func(t *testing.T) jwtprovider.RevocationStore {
		db, _ := newDB(t)
		// A loaded test machine must not turn a slow read into a failure.
		return newRevocations(t, db, postgres.RevocationConfig{MaxStaleness: time.Minute})
	})
}

// waitRevoked polls m until ref is revoked or within has passed, and
// returns how long it took.
func waitRevoked(t *testing.T, m jwtprovider.RevocationMirror, ref jwtprovider.TokenRef, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		err := m.Check(ref)
		if errors.Is(err, jwtprovider.ErrRevoked) {
			return time.Since(start)
		}
		if err != nil {
			t.Fatalf("Check: %v", err)
		}
		if time.Since(start) > within {
			t.Fatalf("revocation not seen within %v", within)
		}
		<-tick.C
	}
}

// TestRevocationReachesOtherInstances plays two instances on one database
// (separate pools): a revocation made on B is enforced on A within the
// documented bound.
func TestRevocationReachesOtherInstances(t *testing.T) {
	ctx := context.Background()
	dbA, poolA := newDB(t)
	poolB, err := pgxpool.NewWithConfig(ctx, poolA.Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(poolB.Close)
	dbB, err := postgres.New(poolB)
	if err != nil {
		t.Fatal(err)
	}
	a := newRevocations(t, dbA, postgres.RevocationConfig{})
	b := newRevocations(t, dbB, postgres.RevocationConfig{})
	now := time.Now()
	if err := b.Revoke(ctx, jwtprovider.Revocation{Subject: "alice", At: now, Until: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// B enforces its own revocation at once.
	if err := b.Mirror().Check(jwtprovider.TokenRef{Subject: "alice", IssuedAt: now}); !errors.Is(err, jwtprovider.ErrRevoked) {
		t.Fatalf("B's own revocation on B: %v", err)
	}
	took := waitRevoked(t, a.Mirror(), jwtprovider.TokenRef{Subject: "alice", IssuedAt: now}, postgres.DefaultRevocationMaxStaleness)
	t.Logf("revoke-all reached the other instance in %v", took)
}

// TestRevocationStaleMirrorFails cuts the mirror off the database: once its
// last read is older than MaxStaleness, Check refuses every token.
func TestRevocationStaleMirrorFails(t *testing.T) {
	ctx := context.Background()
	_, poolA := newDB(t)
	own, err := pgxpool.NewWithConfig(ctx, poolA.Config())
	if err != nil {
		t.Fatal(err)
	}
	db, err := postgres.New(own)
	if err != nil {
		t.Fatal(err)
	}
	clock := ratelimittest.NewClock(time.Now())
	s := newRevocations(t, db, postgres.RevocationConfig{MaxStaleness: 2 * time.Second, Now: clock.Now})
	if err := s.Mirror().Check(jwtprovider.TokenRef{ID: "x"}); err != nil {
		t.Fatalf("fresh mirror: %v", err)
	}
	own.Close() // every later read fails
	clock.Advance(2*time.Second + time.Millisecond)
	if err := s.Mirror().Check(jwtprovider.TokenRef{ID: "x"}); !errors.Is(err, jwtprovider.ErrMirrorStale) {
		t.Fatalf("Check with the database gone for longer than MaxStaleness: %v, want ErrMirrorStale", err)
	}
}

func TestRevocationsConfig(t *testing.T) {
	db, _ := newDB(t)
	if _, err := db.Revocations(context.Background(), postgres.RevocationConfig{PollInterval: time.Second, MaxStaleness: time.Second}); !errors.Is(err, postgres.ErrInvalidConfig) {
		t.Fatalf("MaxStaleness not above PollInterval: %v, want ErrInvalidConfig", err)
	}
}
