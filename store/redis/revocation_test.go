package redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/gatehouse-auth/gatehouse/jwtprovider/jwtprovidertest"
	"github.com/gatehouse-auth/gatehouse/ratelimit/ratelimittest"
	"github.com/gatehouse-auth/gatehouse/store/redis"
	goredis "github.com/redis/go-redis/v9"
)

func newRevocations(t *testing.T, db *redis.DB, cfg redis.RevocationConfig) *redis.RevocationStore {
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
		db, _, _ := newDB(t)
		// A loaded test machine must not turn a slow poll into a failure.
		return newRevocations(t, db, redis.RevocationConfig{MaxStaleness: time.Minute})
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

// TestRevocationReachesOtherInstances plays two instances on one Redis: a
// revocation made on B is enforced on A within the documented bound (1 s).
func TestRevocationReachesOtherInstances(t *testing.T) {
	ctx := context.Background()
	db, c, prefix := newDB(t)
	a := newRevocations(t, db, redis.RevocationConfig{})
	// B has its own client and connection, like another process.
	dbB, err := redis.New(goredis.NewClient(c.Options()), redis.Config{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	b := newRevocations(t, dbB, redis.RevocationConfig{})
	now := time.Now()
	if err := b.Revoke(ctx, jwtprovider.Revocation{ID: "jti-1", At: now, Until: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	took := waitRevoked(t, a.Mirror(), jwtprovider.TokenRef{ID: "jti-1"}, redis.DefaultRevocationMaxStaleness)
	t.Logf("revocation by ID reached the other instance in %v", took)
	if err := b.Revoke(ctx, jwtprovider.Revocation{Subject: "alice", At: now, Until: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	waitRevoked(t, a.Mirror(), jwtprovider.TokenRef{Subject: "alice", IssuedAt: now}, redis.DefaultRevocationMaxStaleness)
}

// TestRevocationMissedMessageIsCaughtByPolling writes a revocation without
// publishing it, as if the message had been lost: the poll must find it.
func TestRevocationMissedMessageIsCaughtByPolling(t *testing.T) {
	ctx := context.Background()
	db, c, prefix := newDB(t)
	a := newRevocations(t, db, redis.RevocationConfig{})
	if err := c.HSet(ctx, prefix+"{rev}:ids", "lost-jti", time.Now().Add(time.Hour).UnixMicro()).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Incr(ctx, prefix+"{rev}:version").Err(); err != nil {
		t.Fatal(err)
	}
	waitRevoked(t, a.Mirror(), jwtprovider.TokenRef{ID: "lost-jti"}, redis.DefaultRevocationMaxStaleness)
}

// TestRevocationStaleMirrorFails cuts the mirror off Redis: once its last
// confirmed state is older than MaxStaleness, Check refuses every token
// with ErrMirrorStale instead of answering from old data.
func TestRevocationStaleMirrorFails(t *testing.T) {
	_, c, prefix := newDB(t)
	own := goredis.NewClient(c.Options())
	db, err := redis.New(own, redis.Config{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	clock := ratelimittest.NewClock(time.Now())
	s := newRevocations(t, db, redis.RevocationConfig{MaxStaleness: 2 * time.Second, Now: clock.Now})
	if err := s.Mirror().Check(jwtprovider.TokenRef{ID: "x"}); err != nil {
		t.Fatalf("fresh mirror: %v", err)
	}
	own.Close() // every later poll fails
	clock.Advance(2*time.Second + time.Millisecond)
	if err := s.Mirror().Check(jwtprovider.TokenRef{ID: "x"}); !errors.Is(err, jwtprovider.ErrMirrorStale) {
		t.Fatalf("Check with Redis gone for longer than MaxStaleness: %v, want ErrMirrorStale", err)
	}
}

func TestRevocationsNeedRedisAtStart(t *testing.T) {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	db, err := redis.New(c, redis.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if s, err := db.Revocations(ctx, redis.RevocationConfig{}); err == nil {
		s.Close()
		t.Fatal("Revocations with Redis down: nil error")
	}
	if _, err := db.Revocations(ctx, redis.RevocationConfig{PollInterval: time.Second, MaxStaleness: time.Second}); !errors.Is(err, redis.ErrInvalidConfig) {
		t.Fatalf("MaxStaleness not above PollInterval: %v, want ErrInvalidConfig", err)
	}
}
