package postgres_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/ratelimit"
	"github.com/gatehouse-auth/gatehouse/ratelimit/ratelimittest"
	"github.com/gatehouse-auth/gatehouse/store/postgres"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestLimiterConformance(t *testing.T) {
	ratelimittest.RunLimiter(t, func(t *testing.T, cfg ratelimit.MemoryConfig) ratelimit.Limiter {
		db, _ := newDB(t)
		l, err := db.Limiter(postgres.LimiterConfig{Limit: cfg.Limit, Period: cfg.Period, Burst: cfg.Burst, Now: cfg.Now})
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

// TestLimiterMatchesMemoryLimiter runs the same uneven configuration (an
// interval that is not a whole number of microseconds, a clock a nanosecond
// before a second boundary) through both limiters on one clock and compares
// every decision.
func TestLimiterMatchesMemoryLimiter(t *testing.T) {
	ctx := context.Background()
	db, _ := newDB(t)
	clock := ratelimittest.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 999_999_999, time.UTC))
	cfg := ratelimit.MemoryConfig{Limit: 7, Period: time.Minute + 13*time.Nanosecond, Burst: 3, Now: clock.Now}
	mem, err := ratelimit.NewMemoryLimiter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := db.Limiter(postgres.LimiterConfig{Limit: cfg.Limit, Period: cfg.Period, Burst: cfg.Burst, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	steps := []time.Duration{0, 0, 1, 3 * time.Second, 8571428573, 7*time.Second + 77, 0, 0, time.Hour, 1}
	for i, adv := range steps {
		clock.Advance(adv)
		for _, n := range []int{1, 0, 2, 4, -1, 1 << 62} {
			want, _ := mem.AllowN(ctx, "k", n)
			got, err := pl.AllowN(ctx, "k", n)
			if err != nil {
				t.Fatal(err)
			}
			if got.Allowed != want.Allowed || got.Remaining != want.Remaining || got.Limit != want.Limit ||
				!got.ResetAt.Equal(want.ResetAt) || got.RetryAfter != want.RetryAfter {
				t.Fatalf("step %d AllowN(%d): postgres %+v, memory %+v", i, n, got, want)
			}
		}
	}
}

// countRows returns the number of rows in gatehouse_rate_limits.
func countRows(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM gatehouse_rate_limits`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLimiterNamesAndKeys(t *testing.T) {
	ctx := context.Background()
	db, pool := newDB(t)
	clock := ratelimittest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	login, err := db.Limiter(postgres.LimiterConfig{Name: "login", Limit: 1, Period: time.Hour, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	api, err := db.Limiter(postgres.LimiterConfig{Name: "api", Limit: 1, Period: time.Hour, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}

	// Neither a status query nor a refusal stores anything for a new key.
	if d, err := login.AllowN(ctx, "10.0.0.1", 0); err != nil || !d.Allowed || d.Remaining != 1 {
		t.Fatalf("AllowN 0 on a new key: %+v, %v", d, err)
	}
	if d, err := login.AllowN(ctx, "10.0.0.1", 2); err != nil || d.Allowed || d.RetryAfter != 0 {
		t.Fatalf("AllowN over the burst on a new key: %+v, %v", d, err)
	}
	if n := countRows(t, pool); n != 0 {
		t.Fatalf("status and refusal on a new key stored %d rows", n)
	}

	if d, err := login.Allow(ctx, "10.0.0.1"); err != nil || !d.Allowed {
		t.Fatalf("login: %+v, %v", d, err)
	}
	if d, err := api.Allow(ctx, "10.0.0.1"); err != nil || !d.Allowed {
		t.Fatalf("api limiter affected by login limiter: %+v, %v", d, err)
	}
	if d, err := api.Allow(ctx, "10.0.0.1"); err != nil || d.Allowed || d.RetryAfter != time.Hour {
		t.Fatalf("api limiter's second request in an hour: %+v, %v", d, err)
	}

	// Keys that text could not hold, and one far longer than an index
	// entry may be, are each limited on their own.
	long := strings.Repeat("u", 1<<16)
	for _, k := range []string{"a\x00b", "a\x00c", "\xff\xfe", long, long + "x"} {
		if d, err := login.Allow(ctx, k); err != nil || !d.Allowed {
			t.Fatalf("first request of key %.20q: %+v, %v", k, d, err)
		}
	}
	for _, k := range []string{"a\x00b", "\xff\xfe", long} {
		if d, err := login.Allow(ctx, k); err != nil || d.Allowed {
			t.Fatalf("second request of key %.20q: %+v, %v", k, d, err)
		}
	}
	if n := countRows(t, pool); n != 7 {
		t.Fatalf("%d rows, want 7 (2 for 10.0.0.1, 5 other keys)", n)
	}
}

func TestLimiterDeleteExpired(t *testing.T) {
	ctx := context.Background()
	db, pool := newDB(t)
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := ratelimittest.NewClock(start)
	// One request every 6 s, 10 at once.
	l, err := db.Limiter(postgres.LimiterConfig{Name: "login", Limit: 10, Period: time.Minute, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	other, err := db.Limiter(postgres.LimiterConfig{Name: "api", Limit: 10, Period: time.Minute, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.AllowN(ctx, "one", 1); err != nil { // idle again at +6s
		t.Fatal(err)
	}
	if _, err := l.AllowN(ctx, "three", 3); err != nil { // idle again at +18s
		t.Fatal(err)
	}
	if _, err := other.AllowN(ctx, "one", 2); err != nil { // idle again at +12s
		t.Fatal(err)
	}

	if n, err := l.DeleteExpired(ctx, start.Add(6*time.Second-1)); err != nil || n != 0 {
		t.Fatalf("DeleteExpired before any key is idle = %d, %v; want 0", n, err)
	}
	if n, err := l.DeleteExpired(ctx, start.Add(12*time.Second)); err != nil || n != 2 {
		t.Fatalf("DeleteExpired at +12s = %d, %v; want 2 (login/one, api/one)", n, err)
	}
	if n := countRows(t, pool); n != 1 {
		t.Fatalf("%d rows left, want 1", n)
	}
	// The key still tracked keeps its state: at +12s one of its three
	// requests has not come back yet.
	clock.Advance(12 * time.Second)
	if d, err := l.AllowN(ctx, "three", 0); err != nil || d.Remaining != 9 || !d.ResetAt.Equal(start.Add(18*time.Second)) {
		t.Fatalf("kept key after DeleteExpired: %+v, %v", d, err)
	}
	// A deleted key decides as the idle key it was.
	if d, err := l.AllowN(ctx, "one", 10); err != nil || !d.Allowed {
		t.Fatalf("deleted key: %+v, %v", d, err)
	}
}

// wireCount counts the writes of the connections it dialled: pgx sends each
// request, whatever its messages, in one write and then waits for the
// server's answer, so a write is a round trip. It is safe for concurrent use.
type wireCount struct{ writes atomic.Int64 }

type countingConn struct {
	net.Conn
	c *wireCount
}

func (c countingConn) Write(p []byte) (int, error) {
	c.c.writes.Add(1)
	return c.Conn.Write(p)
}

// queryCount is a pgx tracer that counts queries. It is safe for concurrent
// use.
type queryCount struct{ n atomic.Int64 }

func (q *queryCount) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	q.n.Add(1)
	return ctx
}

func (*queryCount) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func TestLimiterDecisionIsOneRoundTrip(t *testing.T) {
	ctx := context.Background()
	_, schema := newSchemaPool(t)
	cfg, err := pgxpool.ParseConfig(serverURL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	wire, queries := &wireCount{}, &queryCount{}
	dial := cfg.ConnConfig.DialFunc
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: c, c: wire}, nil
	}
	cfg.ConnConfig.Tracer = queries
	cfg.MaxConns = 1
	// The pool's liveness ping of a connection idle for over a second is
	// the pool's policy, not the decision's; keep it out of the count.
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	db, err := postgres.New(pool)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// A fresh connection: the first decision on it must not prepare first.
	pool.Reset()
	if err := pool.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	clock := ratelimittest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	l, err := db.Limiter(postgres.LimiterConfig{Limit: 2, Period: time.Second, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		key     string
		n       int
		allowed bool
	}{
		{"new key", 1, true},
		{"new key", 1, true},
		{"new key", 1, false},
		{"new key", 0, true}, // a status query, allowed even when exhausted
		{"status of another new key", 0, true},
		{"refusal of another new key", 3, false},
	} {
		w, q := wire.writes.Load(), queries.n.Load()
		d, err := l.AllowN(ctx, c.key, c.n)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed != c.allowed {
			t.Fatalf("decision %d (%s, %d): %+v, want allowed %v", i, c.key, c.n, d, c.allowed)
		}
		if dw, dq := wire.writes.Load()-w, queries.n.Load()-q; dw != 1 || dq != 1 {
			t.Fatalf("decision %d (%s, %d): %d writes to the server and %d queries, want 1 and 1", i, c.key, c.n, dw, dq)
		}
	}
}

func TestLimiterConfigErrors(t *testing.T) {
	db := unreachableDB(t)
	for name, cfg := range map[string]postgres.LimiterConfig{
		"zero limit":            {},
		"negative limit":        {Limit: -1},
		"negative period":       {Limit: 1, Period: -time.Second},
		"negative burst":        {Limit: 1, Burst: -1},
		"interval under 1ns":    {Limit: 10, Period: 5},
		"burst window too long": {Limit: 1, Period: 24 * time.Hour, Burst: 100},
		"NUL in name":           {Name: "login\x00api", Limit: 1},
		"name not UTF-8":        {Name: "login\xff", Limit: 1},
		"name too long":         {Name: strings.Repeat("n", 256), Limit: 1},
	} {
		if _, err := db.Limiter(cfg); !errors.Is(err, ratelimit.ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
	for name, cfg := range map[string]postgres.LimiterConfig{
		"defaults":             {Limit: 1},
		"burst window 52 days": {Limit: 1, Period: 1 << 52},
		"name of 255 bytes":    {Name: strings.Repeat("n", 255), Limit: 1},
		"name with braces":     {Name: "a{b}", Limit: 1},
	} {
		if _, err := db.Limiter(cfg); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// unreachableDB returns a DB whose pool dials a port nothing listens on.
func unreachableDB(t *testing.T) *postgres.DB {
	t.Helper()
	cfg, err := pgxpool.ParseConfig("postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	db, err := postgres.New(pool)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestLimiterDownIsAnError(t *testing.T) {
	l, err := unreachableDB(t).Limiter(postgres.LimiterConfig{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := l.Allow(context.Background(), "k"); err == nil {
		t.Fatalf("Allow with PostgreSQL down = %+v, nil error", d)
	}
	if _, err := l.DeleteExpired(context.Background(), time.Now()); err == nil {
		t.Fatal("DeleteExpired with PostgreSQL down: nil error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Allow(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Allow with a canceled context: %v, want context.Canceled", err)
	}
}
