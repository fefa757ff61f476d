package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/authtest"
	"github.com/pquerna/otp/totp"
)

// durableKeys sets the keys a deployment keeps across restarts: the JWT
// signing key, the keyring sealing TOTP secrets and the ID token key.
func durableKeys(t *testing.T) {
	t.Helper()
	setJWTKey(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GATEHOUSE_ID_TOKEN_KEY", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})))
	key, err := auth.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GATEHOUSE_KEYRING", "k1:"+base64.StdEncoding.EncodeToString(key))
}

// setJWTKey sets GATEHOUSE_JWT_KEY to a new Ed25519 key for the test.
func setJWTKey(t *testing.T) {
	t.Helper()
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(ed)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GATEHOUSE_JWT_KEY", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
}

// printed collects what an app prints, line by line.
type printed struct {
	mu    sync.Mutex
	lines []string
}

func (p *printed) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines = append(p.lines, strings.Split(strings.TrimRight(fmt.Sprintf(format, args...), "\n"), "\n")...)
}

func (p *printed) find(substr string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines {
		if strings.Contains(l, substr) {
			return l
		}
	}
	return ""
}

// postForm sends an OAuth token request and decodes the answer.
func postForm(t *testing.T, base, path string, v url.Values, user, pass string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(b, &out)
	return res.StatusCode, out
}

// TestDBKeepsOAuthMFAAndRevocations restarts a -db server and checks that
// what the first run wrote still holds: OAuth clients (the printed secret
// still works) and grants (the refresh token still rotates), TOTP
// enrolments, and revoked tokens.
func TestDBKeepsOAuthMFAAndRevocations(t *testing.T) {
	durableKeys(t)
	cfg := storeConfig(t, "-db", filepath.Join(t.TempDir(), "plant.db"))
	var out1 printed
	cfg.printTo = out1.printf
	srv, stop := storeApp(t, cfg)

	line := out1.find("plant-maintenance-app")
	i := strings.Index(line, "secret ")
	if i < 0 {
		t.Fatalf("no client secret printed: %q", out1.lines)
	}
	secret := strings.TrimSpace(line[i+len("secret "):])

	// A grant to the public client, approved by a signed-in engineer.
	st, body, cookies := call(t, srv, "POST", "/api/v1/auth/login", map[string]any{"username": "engineer_001", "password": demoPassword, "session": true})
	if st != 200 || len(cookies) == 0 {
		t.Fatalf("session login: %d %v", st, body)
	}
	refresh := oauthGrant(t, srv.URL, cookies)

	// A TOTP enrolment for the supervisor.
	st, body, _ = call(t, srv, "POST", "/api/v1/auth/login", map[string]any{"username": "supervisor_001", "password": demoPassword})
	supAccess, _ := body["access_token"].(string)
	if st != 200 || supAccess == "" {
		t.Fatalf("supervisor login: %d %v", st, body)
	}
	st, body, _ = call(t, srv, "POST", "/api/v1/auth/mfa/setup", map[string]any{"method": "totp"}, "Authorization", "Bearer "+supAccess)
	totpSecret, _ := body["secret"].(string)
	if st != 200 || totpSecret == "" {
		t.Fatalf("mfa setup: %d %v", st, body)
	}
	code, err := totp.GenerateCode(totpSecret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if st, body, _ := call(t, srv, "POST", "/api/v1/auth/mfa/verify", map[string]any{"code": code}, "Authorization", "Bearer "+supAccess); st != 200 {
		t.Fatalf("mfa verify: %d %v", st, body)
	}

	// A revoked token.
	st, body, _ = call(t, srv, "POST", "/api/v1/auth/login", map[string]any{"username": "operator_001", "password": demoPassword})
	revoked, _ := body["access_token"].(string)
	if st != 200 || revoked == "" {
		t.Fatalf("operator login: %d %v", st, body)
	}
	if st, body, _ := call(t, srv, "POST", "/api/v1/auth/revoke", map[string]any{"token": revoked}); st != 200 {
		t.Fatalf("revoke: %d %v", st, body)
	}
	stop()

	var out2 printed
	cfg.printTo = out2.printf
	srv, stop = storeApp(t, cfg)
	defer stop()
	if l := out2.find("plant-maintenance-app"); !strings.Contains(l, "secret unchanged") {
		t.Errorf("after restart the demo client line is %q, want its secret kept", l)
	}
	if st, body := postForm(t, srv.URL, "/api/v1/oauth/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"predictions:read"}},
		"plant-maintenance-app", secret); st != 200 {
		t.Errorf("client secret of the first run after restart: %d %v", st, body)
	}
	st, tok := oauthRefresh(t, srv.URL, refresh)
	if st != 200 || tok["refresh_token"] == nil {
		t.Errorf("grant of the first run: refresh after restart = %d %v", st, tok)
	}
	st, body, _ = call(t, srv, "POST", "/api/v1/auth/login", map[string]any{"username": "supervisor_001", "password": demoPassword})
	if st != 401 || body["error"] != "mfa_required" || body["mfa_token"] == nil {
		t.Errorf("supervisor login after restart: %d %v, want mfa_required with an mfa_token", st, body)
	}
	if st, body, _ := call(t, srv, "GET", "/api/v1/alerts", nil, "Authorization", "Bearer "+revoked); st != 401 || body["error"] != "token_revoked" {
		t.Errorf("token revoked in the first run, after restart: %d %v, want 401 token_revoked", st, body)
	}
}

// oauthGrant runs the authorization code flow with PKCE for the public demo
// client, approved by the user of the session cookies, and returns the
// refresh token.
func oauthGrant(t *testing.T, base string, cookies []*http.Cookie) string {
	t.Helper()
	verifier := "test-verifier-" + randomHex(16)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {"plant-reporting-cli"}, "redirect_uri": {"http://127.0.0.1:5555/callback"},
		"scope": {"reports:read"}, "state": {"s"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/oauth/authorize?"+q.Encode(), nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	st, tok := postForm(t, base, "/api/v1/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {"http://127.0.0.1:5555/callback"}, "client_id": {"plant-reporting-cli"}, "code_verifier": {verifier}}, "", "")
	refresh, _ := tok["refresh_token"].(string)
	if st != 200 || refresh == "" {
		t.Fatalf("code exchange: %d %v", st, tok)
	}
	return refresh
}

// oauthRefresh sends a refresh_token grant of the public demo client.
func oauthRefresh(t *testing.T, base, refresh string) (int, map[string]any) {
	t.Helper()
	return postForm(t, base, "/api/v1/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh},
		"client_id": {"plant-reporting-cli"}}, "", "")
}

// TestSweepDeletesExpiredRecords checks the reference server's clean-up of
// a -db file: nothing is deleted while records live, and once the session,
// the refresh family and the OAuth grant have expired the sweep removes
// them, a second sweep finding nothing left.
func TestSweepDeletesExpiredRecords(t *testing.T) {
	clock := authtest.NewClock(time.Now().Truncate(time.Second))
	cfg := storeConfig(t, "-db", filepath.Join(t.TempDir(), "plant.db"))
	cfg.now = clock.Now
	cfg.demoPassword = demoPassword
	cfg.insecureFastHash = true
	cfg.insecureCookie = true
	cfg.printTo = func(string, ...any) {}
	a, err := newApp(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	defer func() { srv.Close(); a.Close() }()

	st, body, cookies := call(t, srv, "POST", "/api/v1/auth/login", map[string]any{"username": "engineer_001", "password": demoPassword, "session": true})
	if st != 200 || len(cookies) == 0 {
		t.Fatalf("session login: %d %v", st, body)
	}
	if st, body, _ := call(t, srv, "POST", "/api/v1/auth/login", map[string]any{"username": "engineer_001", "password": demoPassword}); st != 200 {
		t.Fatalf("token login: %d %v", st, body)
	}
	oauthGrant(t, srv.URL, cookies)

	ctx := context.Background()
	if n, err := a.stores.sweep(ctx, clock.Now()); err != nil || n != 0 {
		t.Fatalf("sweep while everything lives = %d, %v; want 0, nil", n, err)
	}
	clock.Advance(366 * 24 * time.Hour)
	n, err := a.stores.sweep(ctx, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	// At least the session, the refresh family and the OAuth grant.
	if n < 3 {
		t.Fatalf("sweep a year later deleted %d rows, want at least 3", n)
	}
	if n, err := a.stores.sweep(ctx, clock.Now()); err != nil || n != 0 {
		t.Fatalf("second sweep = %d, %v; want 0, nil", n, err)
	}
}
