package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// storeApp starts an app on cfg behind an httptest server; stop closes both.
func storeApp(t *testing.T, cfg config) (srv *httptest.Server, stop func()) {
	t.Helper()
	cfg.demoPassword = demoPassword
	cfg.insecureFastHash = true
	cfg.insecureCookie = true
	if cfg.printTo == nil {
		cfg.printTo = func(string, ...any) {}
	}
	a, err := newApp(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv = httptest.NewServer(a.Handler())
	return srv, func() { srv.Close(); a.Close() }
}

// call sends one JSON request and returns the status, decoded body and cookies.
func call(t *testing.T, srv *httptest.Server, method, path string, body any, header ...string) (int, map[string]any, []*http.Cookie) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(b, &out)
	return res.StatusCode, out, res.Cookies()
}

func storeConfig(t *testing.T, args ...string) config {
	t.Helper()
	cfg, err := parseFlags(append([]string{"-rate-limit", "100000", "-auth-rate-limit", "100000"}, args...))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestDBSurvivesRestart(t *testing.T) {
	cfg := storeConfig(t, "-db", filepath.Join(t.TempDir(), "plant.db"))
	srv, stop := storeApp(t, cfg)
	st, body, _ := call(t, srv, "POST", "/api/v1/auth/login", map[string]any{"username": "engineer_001", "password": demoPassword})
	if st != 200 {
		t.Fatalf("login: %d %v", st, body)
	}
	access, _ := body["access_token"].(string)
	st, body, _ = call(t, srv, "POST", "/api/v1/auth/api-keys", map[string]any{"name": "scada", "permissions": []string{"predictions:read"}}, "Authorization", "Bearer "+access)
	key, _ := body["api_key"].(string)
	if st != 201 || key == "" {
		t.Fatalf("create key: %d %v", st, body)
	}
	st, body, cookies := call(t, srv, "POST", "/api/v1/auth/login", map[string]any{"username": "operator_001", "password": demoPassword, "session": true})
	if st != 200 || len(cookies) == 0 {
		t.Fatalf("session login: %d %v %v", st, body, cookies)
	}
	stop()

	srv, stop = storeApp(t, cfg)
	defer stop()
	if st, body, _ := call(t, srv, "POST", "/api/v1/auth/login", map[string]any{"username": "engineer_001", "password": demoPassword}); st != 200 {
		t.Fatalf("login after restart: %d %v", st, body)
	}
	if st, body, _ := call(t, srv, "GET", "/api/v1/predictions", nil, "X-API-Key", key); st != 200 {
		t.Fatalf("API key after restart: %d %v", st, body)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/auth/me", nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("session cookie after restart: /me = %d", res.StatusCode)
	}
	if st, _, _ := call(t, srv, "GET", "/api/v1/predictions", nil, "X-API-Key", "gk_forged"); st != 401 {
		t.Fatalf("forged key after restart: %d, want 401", st)
	}
}

// requireEnv returns the variable; without it the test is skipped, except
// under CI, where a missing server fails.
func requireEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		msg := name + ` is not set; start the servers with: eval "$(scripts/services start)"`
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

// pgSchemaURL returns GATEHOUSE_POSTGRES_URL with a search_path of a fresh
// schema, dropped when the test ends.
func pgSchemaURL(t *testing.T) string {
	t.Helper()
	pgURL := requireEnv(t, "GATEHOUSE_POSTGRES_URL")
	ctx := context.Background()
	schema := "steelplant_test_" + randomHex(8)
	exec := func(sql string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, pgURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	exec("CREATE SCHEMA " + schema)
	t.Cleanup(func() { exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestTwoInstancesSharePostgresAndRedis(t *testing.T) {
	pgURL := pgSchemaURL(t)
	redisURL := requireEnv(t, "GATEHOUSE_REDIS_URL")

	// Both instances sign with one key, as a deployment's would.
	setJWTKey(t)

	cfg := storeConfig(t, "-postgres", pgURL, "-redis", redisURL)
	cfg.redisPrefix = "steelplanttest:" + randomHex(8) + ":"
	var outA, outB printed
	cfg.printTo = outA.printf
	a, stopA := storeApp(t, cfg)
	defer stopA()
	cfg.printTo = outB.printf
	b, stopB := storeApp(t, cfg)
	defer stopB()

	// B found the demo client A registered and kept its secret.
	line := outA.find("plant-maintenance-app")
	i := strings.Index(line, "secret ")
	if i < 0 {
		t.Fatalf("A printed no client secret: %q", outA.lines)
	}
	secret := strings.TrimSpace(line[i+len("secret "):])
	if l := outB.find("plant-maintenance-app"); !strings.Contains(l, "secret unchanged") {
		t.Errorf("B's demo client line is %q, want the secret kept", l)
	}
	for name, srv := range map[string]*httptest.Server{"A": a, "B": b} {
		if st, body := postForm(t, srv.URL, "/api/v1/oauth/token", url.Values{"grant_type": {"client_credentials"}}, "plant-maintenance-app", secret); st != 200 {
			t.Errorf("client credentials on %s with the secret A printed: %d %v", name, st, body)
		}
	}

	// An OAuth grant made on A rotates on B, and reuse of its old refresh
	// token on A revokes the grant everywhere.
	st, body, cookies := call(t, a, "POST", "/api/v1/auth/login", map[string]any{"username": "engineer_001", "password": demoPassword, "session": true})
	if st != 200 || len(cookies) == 0 {
		t.Fatalf("session login on A: %d %v", st, body)
	}
	r1 := oauthGrant(t, a.URL, cookies)
	st, tok := oauthRefresh(t, b.URL, r1)
	r2, _ := tok["refresh_token"].(string)
	if st != 200 || r2 == "" {
		t.Fatalf("refresh on B of A's grant: %d %v", st, tok)
	}
	if st, tok := oauthRefresh(t, a.URL, r1); st != 400 || tok["error"] != "invalid_grant" {
		t.Fatalf("reuse on A of the rotated refresh token: %d %v, want 400 invalid_grant", st, tok)
	}
	if st, tok := oauthRefresh(t, b.URL, r2); st != 400 || tok["error"] != "invalid_grant" {
		t.Fatalf("current refresh token on B after the reuse: %d %v, want 400 invalid_grant (grant revoked)", st, tok)
	}

	st, body, _ = call(t, a, "POST", "/api/v1/auth/login", map[string]any{"username": "operator_001", "password": demoPassword})
	if st != 200 {
		t.Fatalf("login on A: %d %v", st, body)
	}
	access, _ := body["access_token"].(string)
	if st, body, _ := call(t, b, "GET", "/api/v1/auth/me", nil, "Authorization", "Bearer "+access); st != 200 || body["username"] != "operator_001" {
		t.Fatalf("A's token on B: %d %v", st, body)
	}
}

// TestTwoInstancesSharePostgresRateLimit: without Redis, the request limit
// lives in PostgreSQL, so requests spread over two instances draw on one
// allowance.
func TestTwoInstancesSharePostgresRateLimit(t *testing.T) {
	cfg := storeConfig(t, "-postgres", pgSchemaURL(t), "-rate-limit", "4")
	a, stopA := storeApp(t, cfg)
	defer stopA()
	b, stopB := storeApp(t, cfg)
	defer stopB()
	for i, srv := range []*httptest.Server{a, b, a, b} {
		if st, body, _ := call(t, srv, "GET", "/api/v1/predictions", nil); st != 401 {
			t.Fatalf("request %d: %d %v, want 401 (counted, not limited)", i+1, st, body)
		}
	}
	for name, srv := range map[string]*httptest.Server{"A": a, "B": b} {
		if st, body, _ := call(t, srv, "GET", "/api/v1/predictions", nil); st != 429 || body["error"] != "rate_limited" {
			t.Errorf("fifth request on %s: %d %v, want 429 rate_limited", name, st, body)
		}
	}
}
