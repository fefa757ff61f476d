package integration_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/apikey"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/authapi"
	"github.com/gatehouse-auth/gatehouse/basic"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/gatehouse-auth/gatehouse/mfa"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
	"github.com/gatehouse-auth/gatehouse/rbac"
	"github.com/gatehouse-auth/gatehouse/session"
	"github.com/gatehouse-auth/gatehouse/store/postgres"
	redisstore "github.com/gatehouse-auth/gatehouse/store/redis"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"
)

// password is every test user's password.
const password = "correct horse battery staple"

// rolesJSON is the RBAC policy of every stack.
const rolesJSON = `{"operator": {"permissions": ["dashboard:read", "alerts:read"]}}`

// requireEnv returns the value of the environment variable name. Without it
// the test is skipped, except under CI, where a missing server is a failure.
func requireEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		msg := name + " is not set; start the servers with: eval \"$(scripts/services start)\""
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI is set: a missing server fails the tests)")
		}
		t.Skip(msg)
	}
	return v
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// shared is what the instances of one test share: a migrated PostgreSQL
// schema, a Redis key prefix, the JWT signing key and the MFA keyring.
type shared struct {
	pgURL   string
	schema  string
	pg      *postgres.DB
	redis   *goredis.Client
	prefix  string
	key     jwtprovider.Key
	keyring *auth.Keyring
	policy  *rbac.Policy
}

// newShared creates a fresh schema on GATEHOUSE_POSTGRES_URL (dropped at
// the end of the test) and a fresh Redis prefix (its keys deleted at the end
// of the test).
func newShared(t *testing.T) *shared {
	t.Helper()
	return newSharedOn(t, requireEnv(t, "GATEHOUSE_POSTGRES_URL"))
}

// newSharedOn is newShared on the PostgreSQL server at pgURL.
func newSharedOn(t *testing.T, pgURL string) *shared {
	t.Helper()
	ctx := context.Background()
	redisURL := requireEnv(t, "GATEHOUSE_REDIS_URL")

	schema := "gatehouse_itest_" + randomHex(8)
	if err := execOnce(ctx, pgURL, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if err := execOnce(context.Background(), pgURL, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	sh := &shared{pgURL: pgURL, schema: schema, prefix: "gatehouseitest:" + randomHex(8) + ":"}
	sh.pg = openPG(t, pgURL, schema)
	if err := sh.pg.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}

	opt, err := goredis.ParseURL(redisURL)
	if err != nil {
		t.Fatalf("GATEHOUSE_REDIS_URL: %v", err)
	}
	sh.redis = goredis.NewClient(opt)
	t.Cleanup(func() { sh.redis.Close() })
	if err := sh.redis.Ping(ctx).Err(); err != nil {
		t.Fatalf("redis at %s: %v", redisURL, err)
	}
	t.Cleanup(func() { deletePrefix(sh.redis, sh.prefix) })

	if sh.key, err = jwtprovider.GenerateKey("itest-1", "ES256"); err != nil {
		t.Fatal(err)
	}
	k, err := auth.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if sh.keyring, err = auth.NewKeyring("itest", k); err != nil {
		t.Fatal(err)
	}
	if sh.policy, err = rbac.ParseJSON([]byte(rolesJSON)); err != nil {
		t.Fatal(err)
	}
	return sh
}

// execOnce runs one statement on a connection of its own.
func execOnce(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// openPG returns a DB on its own pool whose search_path is schema, as each
// instance of a real deployment has its own pool.
func openPG(t *testing.T, url, schema string) *postgres.DB {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
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

// deletePrefix removes the keys under prefix.
func deletePrefix(c *goredis.Client, prefix string) {
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		c.Del(ctx, iter.Val())
	}
}

// stackConfig varies one instance.
type stackConfig struct {
	// redis is the instance's Redis client; nil means the shared one.
	redis *goredis.Client
	// limiterRedis is the client of the request limiter; nil means redis.
	limiterRedis *goredis.Client
	// pgRevocations keeps revocations in PostgreSQL instead of Redis.
	pgRevocations bool
	// authLimit is the limit of the sensitive routes per client IP per
	// hour; zero means 1000.
	authLimit int
	// maxFailures locks an account; zero means 5.
	maxFailures int
}

// stack is one complete instance: the JSON API on its own server, wired as
// examples/steelplant wires it, with every store on the shared engines.
type stack struct {
	srv   *httptest.Server
	users *basic.Users
}

// revocationMaxStaleness is the documented bound of both revocation
// mirrors.
const revocationMaxStaleness = redisstore.DefaultRevocationMaxStaleness

func (sh *shared) newStack(t *testing.T, cfg stackConfig) *stack {
	t.Helper()
	ctx := context.Background()
	if cfg.redis == nil {
		cfg.redis = sh.redis
	}
	if cfg.limiterRedis == nil {
		cfg.limiterRedis = cfg.redis
	}
	if cfg.authLimit == 0 {
		cfg.authLimit = 1000
	}
	if cfg.maxFailures == 0 {
		cfg.maxFailures = 5
	}
	// Each instance has its own PostgreSQL pool and its own Redis DB over
	// the given client, as separate processes would.
	pg := openPG(t, sh.pgURL, sh.schema)
	rdb, err := redisstore.New(cfg.redis, redisstore.Config{Prefix: sh.prefix})
	if err != nil {
		t.Fatal(err)
	}
	ldb, err := redisstore.New(cfg.limiterRedis, redisstore.Config{Prefix: sh.prefix})
	if err != nil {
		t.Fatal(err)
	}

	var revocations interface {
		jwtprovider.RevocationStore
		Close() error
	}
	if cfg.pgRevocations {
		revocations, err = pg.Revocations(ctx, postgres.RevocationConfig{})
	} else {
		revocations, err = rdb.Revocations(ctx, redisstore.RevocationConfig{})
	}
	if err != nil {
		t.Fatalf("revocations: %v", err)
	}
	t.Cleanup(func() { revocations.Close() })

	var users *basic.Users
	tokens, err := jwtprovider.New(jwtprovider.Config{
		Issuer: "https://gatehouse.test", Audience: []string{"https://gatehouse.test/api"},
		Keys: []jwtprovider.Key{sh.key}, RefreshStore: pg.RefreshFamilies(), RevocationStore: revocations,
		ReloadSubject: func(ctx context.Context, s jwtprovider.Subject) (jwtprovider.Subject, error) {
			return authapi.ReloadSubject(users)(ctx, s)
		},
	})
	if err != nil {
		t.Fatalf("tokens: %v", err)
	}
	sessions, err := session.New(session.Config{Store: pg.Sessions(), CookieName: "gh_session", InsecureCookie: true})
	if err != nil {
		t.Fatalf("sessions: %v", err)
	}
	t.Cleanup(func() { sessions.Close() })
	lockout, err := ratelimit.NewAttemptsLimiter(ratelimit.AttemptsConfig{
		Store: rdb.Attempts(), MaxFailures: cfg.maxFailures, Delays: []time.Duration{0},
	})
	if err != nil {
		t.Fatalf("lockout: %v", err)
	}
	hasher, err := basic.NewHasher(basic.HasherConfig{Argon2id: basic.Argon2idParams{Memory: 64, Iterations: 1}, InsecureLowCost: true})
	if err != nil {
		t.Fatal(err)
	}
	users, err = basic.New(basic.Config{
		Store: pg.Users(), Hasher: hasher, Lockout: lockout,
		Roles:                func(r string) bool { _, ok := sh.policy.Role(r); return ok },
		OnCredentialsChanged: authapi.RevokeUser(tokens, sessions),
	})
	if err != nil {
		t.Fatalf("users: %v", err)
	}
	keys, err := apikey.New(apikey.Config{Store: pg.APIKeys(), Owners: authapi.KeyOwners(users), Policy: sh.policy})
	if err != nil {
		t.Fatalf("api keys: %v", err)
	}
	t.Cleanup(func() { keys.Close(context.Background()) })
	keyAuth, err := apikey.NewAuthenticator(keys, apikey.AuthenticatorConfig{})
	if err != nil {
		t.Fatal(err)
	}
	mfaManager, err := mfa.New(mfa.Config{Store: pg.MFA(), Keyring: sh.keyring, Issuer: "Gatehouse test"})
	if err != nil {
		t.Fatalf("mfa: %v", err)
	}
	limiter, err := ldb.Limiter(redisstore.LimiterConfig{Name: "auth", Limit: cfg.authLimit, Period: time.Hour})
	if err != nil {
		t.Fatalf("limiter: %v", err)
	}
	api, err := authapi.New(authapi.Config{
		Users: users, Tokens: tokens, Policy: sh.policy,
		Authenticators: []auth.Authenticator{keyAuth, tokens, sessions},
		APIKeys:        keys, Sessions: sessions, MFA: mfaManager, Limiter: limiter,
	})
	if err != nil {
		t.Fatalf("auth api: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/auth/", http.StripPrefix("/api/v1/auth", api))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &stack{srv: srv, users: users}
}

// createUser adds an operator through s's component (the store is shared).
func (s *stack) createUser(t *testing.T, username string) string {
	t.Helper()
	u, err := s.users.Create(context.Background(), basic.NewUser{Username: username, Password: password, Roles: []string{"operator"}})
	if err != nil {
		t.Fatalf("create user %s: %v", username, err)
	}
	return u.ID
}

// response is a decoded answer.
type response struct {
	status  int
	body    map[string]any
	cookies []*http.Cookie
}

// code is the error code of an error answer.
func (r response) code() string { s, _ := r.body["error"].(string); return s }

func (r response) str(field string) string { s, _ := r.body[field].(string); return s }

// request is one call to an instance.
type request struct {
	method, path string
	body         any
	bearer       string
	cookies      []*http.Cookie
}

func (s *stack) do(t *testing.T, req request) response {
	t.Helper()
	r, err := s.tryDo(req)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tryDo is do for goroutines other than the test's: it returns its error.
func (s *stack) tryDo(req request) (response, error) {
	var rd io.Reader
	if req.body != nil {
		b, err := json.Marshal(req.body)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(b)
	}
	hr, err := http.NewRequest(req.method, s.srv.URL+"/api/v1/auth"+req.path, rd)
	if err != nil {
		return response{}, err
	}
	if req.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if req.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+req.bearer)
	}
	for _, c := range req.cookies {
		hr.AddCookie(c)
	}
	res, err := s.srv.Client().Do(hr)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", req.method, req.path, err)
	}
	defer res.Body.Close()
	out := response{status: res.StatusCode, cookies: res.Cookies()}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", req.method, req.path, err)
	}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out.body); err != nil {
			return response{}, fmt.Errorf("%s %s: %d with a body that is not a JSON object: %q", req.method, req.path, res.StatusCode, b)
		}
	}
	return out, nil
}

// login signs username in with the test password.
func (s *stack) login(t *testing.T, username, pw string) response {
	t.Helper()
	return s.do(t, request{method: "POST", path: "/login", body: map[string]any{"username": username, "password": pw}})
}

// mustLogin signs username in and returns the access and refresh tokens.
func (s *stack) mustLogin(t *testing.T, username string) (access, refresh string) {
	t.Helper()
	r := s.login(t, username, password)
	if r.status != http.StatusOK || r.str("access_token") == "" || r.str("refresh_token") == "" {
		t.Fatalf("login %s: %d %v", username, r.status, r.body)
	}
	return r.str("access_token"), r.str("refresh_token")
}

// me calls GET /me with a bearer token.
func (s *stack) me(t *testing.T, bearer string) response {
	t.Helper()
	return s.do(t, request{method: "GET", path: "/me", bearer: bearer})
}

// pollUntil calls check every interval until it returns true or timeout has
// passed on the real clock, and returns how long that took and whether it
// happened.
func pollUntil(timeout, interval time.Duration, check func() bool) (time.Duration, bool) {
	start := time.Now()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if check() {
			return time.Since(start), true
		}
		select {
		case <-deadline.C:
			return time.Since(start), check()
		case <-tick.C:
		}
	}
}
