// Package storesbench measures session lookups and rate-limit decisions on
// the shared engines (Redis through store/redis, PostgreSQL through
// store/postgres) next to the in-memory stores, and reports the network round
// trips each operation costs.
//
// The engines are the servers named by GATEHOUSE_REDIS_URL and
// GATEHOUSE_POSTGRES_URL (start them with: eval "$(scripts/services start)").
// Without a URL the sub-benchmarks of that engine are skipped. Every run works
// under a fresh random Redis key prefix and a fresh PostgreSQL schema, both
// removed when it ends.
package storesbench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
	"github.com/gatehouse-auth/gatehouse/session"
	"github.com/gatehouse-auth/gatehouse/store/postgres"
	gredis "github.com/gatehouse-auth/gatehouse/store/redis"
)

const (
	redisEnv    = "GATEHOUSE_REDIS_URL"
	postgresEnv = "GATEHOUSE_POSTGRES_URL"
	startHint   = `start the servers with: eval "$(scripts/services start)"`
)

// roundTrips counts the requests a client sends to its server. It is safe
// for concurrent use.
type roundTrips struct{ n atomic.Int64 }

// report reports the count since the last reset divided by b.N.
func (c *roundTrips) report(b *testing.B) {
	b.ReportMetric(float64(c.n.Load())/float64(b.N), "roundtrips/op")
}

// redisHook is a go-redis hook that counts one round trip per command
// (including EVALSHA/EVAL of scripts) and one per pipeline or transaction.
type redisHook struct{ c *roundTrips }

func (h redisHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h redisHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h redisHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.c.n.Add(1)
		return next(ctx, cmds)
	}
}

// pgTracer is a pgx tracer that counts one round trip per query or Exec
// (BEGIN and COMMIT included) and one per batch.
type pgTracer struct{ c *roundTrips }

func (t pgTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	t.c.n.Add(1)
	return ctx
}

func (pgTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (t pgTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	t.c.n.Add(1)
	return ctx
}

func (pgTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (pgTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

var (
	_ goredis.Hook    = redisHook{}
	_ pgx.QueryTracer = pgTracer{}
	_ pgx.BatchTracer = pgTracer{}
)

func randomHex() string {
	p := make([]byte, 8)
	rand.Read(p)
	return hex.EncodeToString(p)
}

// redisDB connects to GATEHOUSE_REDIS_URL with a counting hook and returns
// a DB under a fresh key prefix whose keys are deleted when b ends.
func redisDB(b *testing.B) (*gredis.DB, *roundTrips) {
	b.Helper()
	url := os.Getenv(redisEnv)
	if url == "" {
		b.Skip(redisEnv + " is not set; " + startHint)
	}
	opt, err := goredis.ParseURL(url)
	if err != nil {
		b.Fatalf("%s: %v", redisEnv, err)
	}
	client := goredis.NewClient(opt)
	b.Cleanup(func() { client.Close() })
	ctx := context.Background()
	if err := client.Ping(ctx).Err(); err != nil {
		b.Fatalf("redis at %s: %v", url, err)
	}
	prefix := "gatehousebench:" + randomHex() + ":"
	b.Cleanup(func() {
		iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
	})
	count := &roundTrips{}
	client.AddHook(redisHook{c: count})
	db, err := gredis.New(client, gredis.Config{Prefix: prefix})
	if err != nil {
		b.Fatal(err)
	}
	return db, count
}

// postgresDB connects to GATEHOUSE_POSTGRES_URL with a counting tracer and
// returns a migrated DB in a fresh schema that is dropped when b ends.
func postgresDB(b *testing.B) (*postgres.DB, *roundTrips) {
	b.Helper()
	url := os.Getenv(postgresEnv)
	if url == "" {
		b.Skip(postgresEnv + " is not set; " + startHint)
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatalf("postgres at %s: %v", url, err)
	}
	b.Cleanup(func() { admin.Close(context.Background()) })
	schema := "gatehouse_bench_" + randomHex()
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		b.Fatalf("create schema: %v", err)
	}
	b.Cleanup(func() {
		if _, err := admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			b.Errorf("drop schema: %v", err)
		}
	})
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		b.Fatalf("%s: %v", postgresEnv, err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	count := &roundTrips{}
	cfg.ConnConfig.Tracer = pgTracer{c: count}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	db, err := postgres.New(pool)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	return db, count
}

// benchAuthenticate stores one session in store and measures
// Manager.Authenticate of a request carrying its cookie. count, when not nil,
// counts the store's round trips. The default TouchInterval (one minute) is
// far longer than a run, so every measured call is the read-only path a busy
// session takes on nearly every request.
func benchAuthenticate(b *testing.B, store session.Store, count *roundTrips) {
	m, err := session.New(session.Config{Store: store})
	if err != nil {
		b.Fatal(err)
	}
	w := httptest.NewRecorder()
	p := &auth.Principal{Subject: "user-1", Username: "alice", Roles: []string{"operator"}}
	if _, err := m.Create(context.Background(), w, p, session.Meta{ClientIP: "203.0.113.9", UserAgent: "bench"}); err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("GET", "https://plant.example/api/v1/alerts", nil)
	r.AddCookie(w.Result().Cookies()[0])
	if got, err := m.Authenticate(r); err != nil || got.Subject != p.Subject {
		b.Fatalf("Authenticate = %v, %v", got, err)
	}
	b.ReportAllocs()
	if count != nil {
		count.n.Store(0)
	}
	b.ResetTimer()
	for range b.N {
		got, err := m.Authenticate(r)
		if err != nil || got == nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if count != nil {
		count.report(b)
	}
}

// BenchmarkSessionLookup measures session.Manager.Authenticate of a request
// with a valid session cookie, with the sessions in Redis, in PostgreSQL and
// (for reference) in process memory.
func BenchmarkSessionLookup(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		store := session.NewMemoryStore()
		b.Cleanup(func() { store.Close() })
		benchAuthenticate(b, store, nil)
	})
	b.Run("redis", func(b *testing.B) {
		db, count := redisDB(b)
		benchAuthenticate(b, db.Sessions(), count)
	})
	b.Run("postgres", func(b *testing.B) {
		db, count := postgresDB(b)
		benchAuthenticate(b, db.Sessions(), count)
	})
}

// numKeys is the number of distinct keys the rate-limit benchmark cycles
// through.
const numKeys = 1000

// The limit is high enough that every decision is allowed: the path nearly
// every request of a healthy service takes.
const (
	limit  = 1_000_000_000
	period = time.Minute
)

func benchAllow(b *testing.B, l ratelimit.Limiter, count *roundTrips) {
	ctx := context.Background()
	keys := make([]string, numKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("203.0.%d.%d", i/256, i%256)
	}
	if d, err := l.Allow(ctx, keys[0]); err != nil || !d.Allowed {
		b.Fatalf("Allow = %+v, %v", d, err)
	}
	b.ReportAllocs()
	if count != nil {
		count.n.Store(0)
	}
	b.ResetTimer()
	for i := range b.N {
		d, err := l.Allow(ctx, keys[i%numKeys])
		if err != nil || !d.Allowed {
			b.Fatalf("Allow = %+v, %v", d, err)
		}
	}
	b.StopTimer()
	if count != nil {
		count.report(b)
	}
}

// BenchmarkRateLimitDecision measures one allowed rate-limit decision over
// 1,000 keys with the Redis limiter (one Lua script call), the PostgreSQL
// limiter (one function call) and, for reference, the in-memory limiter.
func BenchmarkRateLimitDecision(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		l, err := ratelimit.NewMemoryLimiter(ratelimit.MemoryConfig{Limit: limit, Period: period})
		if err != nil {
			b.Fatal(err)
		}
		benchAllow(b, l, nil)
	})
	b.Run("redis", func(b *testing.B) {
		db, count := redisDB(b)
		l, err := db.Limiter(gredis.LimiterConfig{Name: "bench", Limit: limit, Period: period})
		if err != nil {
			b.Fatal(err)
		}
		benchAllow(b, l, count)
	})
	b.Run("postgres", func(b *testing.B) {
		db, count := postgresDB(b)
		l, err := db.Limiter(postgres.LimiterConfig{Name: "bench", Limit: limit, Period: period})
		if err != nil {
			b.Fatal(err)
		}
		benchAllow(b, l, count)
	})
}
