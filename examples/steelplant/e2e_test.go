package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/authtest"
	"github.com/gatehouse-auth/gatehouse/basic"
)

const demoPassword = "correct-horse-plant-2026"

type harness struct {
	t       *testing.T
	app     *app
	srv     *httptest.Server
	clock   *authtest.Clock
	mu      sync.Mutex
	resets  []basic.ResetTicket
	printed []string
}

func newHarness(t *testing.T, mutate ...func(*config)) *harness {
	t.Helper()
	h := &harness{t: t, clock: authtest.NewClock(time.Now().Truncate(time.Second))}
	cfg, err := parseFlags([]string{"-rate-limit", "100000", "-auth-rate-limit", "100000"})
	if err != nil {
		t.Fatal(err)
	}
	cfg.demoPassword = demoPassword
	cfg.printTo = func(format string, args ...any) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.printed = append(h.printed, fmt.Sprintf(format, args...))
	}
	cfg.now = h.clock.Now
	cfg.insecureFastHash = true
	cfg.insecureCookie = true
	cfg.deliverReset = func(tk basic.ResetTicket) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.resets = append(h.resets, tk)
	}
	for _, m := range mutate {
		m(&cfg)
	}
	a, err := newApp(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	h.app = a
	h.srv = httptest.NewServer(a.Handler())
	t.Cleanup(func() { h.srv.Close(); a.Close() })
	return h
}

// response is a decoded reply.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r response) str(k string) string { s, _ := r.body[k].(string); return s }

// do sends a JSON request; headers come as name, value pairs.
func (h *harness) do(method, path string, body any, headers ...string) response {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

func (h *harness) expect(r response, status int, code string) {
	h.t.Helper()
	if r.status != status || (code != "" && r.str("error") != code) {
		h.t.Fatalf("got %d %s, want %d %s", r.status, r.raw, status, code)
	}
}

func (h *harness) login(user, pw string) (access, refresh string) {
	h.t.Helper()
	r := h.do("POST", "/api/v1/auth/login", map[string]any{"username": user, "password": pw})
	h.expect(r, 200, "")
	return r.str("access_token"), r.str("refresh_token")
}

func TestSeedFlowLoginMeTokenInfo(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/api/v1/auth/login", map[string]any{"username": "operator_001", "password": demoPassword})
	h.expect(r, 200, "")
	if r.str("token_type") != "Bearer" || r.body["expires_in"].(float64) != 900 || r.body["refresh_expires_in"].(float64) != 86400 {
		t.Fatalf("login body %s", r.raw)
	}
	access := r.str("access_token")

	me := h.do("GET", "/api/v1/auth/me", nil, bearer(access)...)
	h.expect(me, 200, "")
	if me.str("username") != "operator_001" || me.body["roles"].([]any)[0] != "operator" || me.str("auth_method") != "jwt" {
		t.Fatalf("/me = %s", me.raw)
	}
	if !strings.Contains(me.raw, `"alerts:acknowledge"`) || strings.Contains(me.raw, `"predictions:write"`) {
		t.Fatalf("/me permissions = %s", me.raw)
	}

	info := h.do("GET", "/api/v1/auth/token/info", nil, bearer(access)...)
	h.expect(info, 200, "")
	for _, k := range []string{"jti", "issued_at", "expires_at", "subject", "token_type"} {
		if info.str(k) == "" {
			t.Fatalf("token info lacks %s: %s", k, info.raw)
		}
	}
	if _, err := time.Parse(time.RFC3339, info.str("expires_at")); err != nil {
		t.Fatalf("expires_at not RFC 3339: %v", err)
	}

	h.expect(h.do("GET", "/api/v1/predictions", nil, bearer(access)...), 200, "")
	h.expect(h.do("GET", "/api/v1/predictions", nil), 401, "invalid_credentials")
	if r := h.do("GET", "/api/v1/alerts", nil, bearer(access)...); r.header.Get("X-Request-ID") == "" {
		t.Fatal("no X-Request-ID")
	}
	h.expect(h.do("POST", "/api/v1/predictions", map[string]any{"line": "caster-2", "casting_speed_m_min": 1.2, "mould_temperature_c": 1530}, bearer(access)...), 403, "insufficient_permissions")
}

func TestSeedFlowRefreshAndReuseDetection(t *testing.T) {
	h := newHarness(t)
	access, refresh := h.login("engineer_001", demoPassword)
	r := h.do("POST", "/api/v1/auth/refresh", map[string]any{"refresh_token": refresh})
	h.expect(r, 200, "")
	access2, refresh2 := r.str("access_token"), r.str("refresh_token")
	if access2 == access || refresh2 == refresh {
		t.Fatal("refresh did not rotate")
	}
	// Reusing the first refresh token revokes the whole family.
	h.expect(h.do("POST", "/api/v1/auth/refresh", map[string]any{"refresh_token": refresh}), 401, "")
	h.expect(h.do("POST", "/api/v1/auth/refresh", map[string]any{"refresh_token": refresh2}), 401, "")
}

func TestSeedFlowAPIKeys(t *testing.T) {
	h := newHarness(t)
	access, _ := h.login("engineer_001", demoPassword)
	r := h.do("POST", "/api/v1/auth/api-keys", map[string]any{"name": "scada-reader", "permissions": []string{"predictions:read", "alerts:read"}}, bearer(access)...)
	h.expect(r, 201, "")
	key := r.str("api_key")
	if !strings.HasPrefix(key, "gk_") || r.str("id") == "" {
		t.Fatalf("created key %s", r.raw)
	}
	h.expect(h.do("GET", "/api/v1/predictions", nil, "X-API-Key", key), 200, "")
	h.expect(h.do("GET", "/api/v1/predictions", nil, bearer(key)...), 200, "")
	h.expect(h.do("POST", "/api/v1/predictions", map[string]any{"line": "caster-1", "casting_speed_m_min": 1.1, "mould_temperature_c": 1520}, "X-API-Key", key), 403, "insufficient_permissions")
	list := h.do("GET", "/api/v1/auth/api-keys", nil, bearer(access)...)
	if list.status != 200 || strings.Contains(list.raw, key) || !strings.Contains(list.raw, "scada-reader") {
		t.Fatalf("list = %d %s", list.status, list.raw)
	}

	// An operator cannot give a key what it does not hold.
	op, _ := h.login("operator_001", demoPassword)
	h.expect(h.do("POST", "/api/v1/auth/api-keys", map[string]any{"name": "x", "permissions": []string{"models:deploy"}}, bearer(op)...), 403, "insufficient_permissions")
	// Another user's key is not found.
	h.expect(h.do("GET", "/api/v1/auth/api-keys/"+r.str("id"), nil, bearer(op)...), 404, "not_found")

	h.expect(h.do("DELETE", "/api/v1/auth/api-keys/"+r.str("id"), nil, bearer(access)...), 204, "")
	h.expect(h.do("GET", "/api/v1/predictions", nil, "X-API-Key", key), 401, "")
	h.expect(h.do("GET", "/api/v1/predictions", nil, "X-API-Key", key[:len(key)-1]+"x"), 401, "")
}

func TestSeedFlowRevokeAndRevokeAll(t *testing.T) {
	h := newHarness(t)
	access, _ := h.login("operator_001", demoPassword)
	h.expect(h.do("POST", "/api/v1/auth/revoke", map[string]any{"token": access}), 200, "")
	h.expect(h.do("GET", "/api/v1/alerts", nil, bearer(access)...), 401, "token_revoked")
	h.expect(h.do("POST", "/api/v1/auth/revoke", map[string]any{"token": "not-a-token"}), 200, "")

	a1, r1 := h.login("operator_001", demoPassword)
	a2, _ := h.login("operator_001", demoPassword)
	h.clock.Advance(2 * time.Second)
	h.expect(h.do("POST", "/api/v1/auth/revoke-all", nil, bearer(a1)...), 200, "")
	h.expect(h.do("GET", "/api/v1/alerts", nil, bearer(a2)...), 401, "")
	h.expect(h.do("POST", "/api/v1/auth/refresh", map[string]any{"refresh_token": r1}), 401, "")
	h.clock.Advance(2 * time.Second)
	a3, _ := h.login("operator_001", demoPassword)
	h.expect(h.do("GET", "/api/v1/alerts", nil, bearer(a3)...), 200, "")
}

func TestSeedFlowMFAChallengeAndStepUp(t *testing.T) {
	h := newHarness(t)
	access, _ := h.login("engineer_001", demoPassword)
	deploy := map[string]any{"model": "crack-detector", "version": "2.4.1"}
	// Step-up: no second factor yet.
	h.expect(h.do("POST", "/api/v1/models/deploy", deploy, bearer(access)...), 401, "mfa_required")

	setup := h.do("POST", "/api/v1/auth/mfa/setup", map[string]any{"method": "totp"}, bearer(access)...)
	h.expect(setup, 200, "")
	secret := setup.str("secret")
	if !strings.HasPrefix(setup.str("qr_code"), "data:image/png;base64,") || !strings.HasPrefix(setup.str("otpauth_url"), "otpauth://totp/") {
		t.Fatalf("setup = %s", setup.raw)
	}
	code := func() string {
		c, err := totp.GenerateCode(secret, h.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	h.expect(h.do("POST", "/api/v1/auth/mfa/verify", map[string]any{"code": code()}, bearer(access)...), 200, "")

	// Login now answers mfa_required with a token; the code completes it.
	h.clock.Advance(30 * time.Second)
	r := h.do("POST", "/api/v1/auth/login", map[string]any{"username": "engineer_001", "password": demoPassword})
	h.expect(r, 401, "mfa_required")
	mfaToken := r.str("mfa_token")
	if mfaToken == "" {
		t.Fatalf("no mfa_token: %s", r.raw)
	}
	h.expect(h.do("POST", "/api/v1/auth/login/mfa", map[string]any{"mfa_token": mfaToken, "code": "000000"}), 401, "")
	// Right after a failure the next try must wait (progressive delay).
	h.expect(h.do("POST", "/api/v1/auth/login/mfa", map[string]any{"mfa_token": mfaToken, "code": code()}), 429, "rate_limited")
	h.clock.Advance(2 * time.Second)
	done := h.do("POST", "/api/v1/auth/login/mfa", map[string]any{"mfa_token": mfaToken, "code": code()})
	h.expect(done, 200, "")
	strong := done.str("access_token")
	// The token is single use.
	h.expect(h.do("POST", "/api/v1/auth/login/mfa", map[string]any{"mfa_token": mfaToken, "code": code()}), 401, "")

	me := h.do("GET", "/api/v1/auth/me", nil, bearer(strong)...)
	if !strings.Contains(me.raw, `"verified":true`) || !strings.Contains(me.raw, `"enabled":true`) {
		t.Fatalf("/me mfa = %s", me.raw)
	}
	h.expect(h.do("POST", "/api/v1/models/deploy", deploy, bearer(strong)...), 202, "")
	// The step-up ages out.
	h.clock.Advance(16 * time.Minute)
	h.expect(h.do("POST", "/api/v1/models/deploy", deploy, bearer(strong)...), 401, "")

	// A code sent with the first request completes the login at once, and
	// the same code is not accepted twice.
	h.clock.Advance(30 * time.Second)
	c := code()
	h.expect(h.do("POST", "/api/v1/auth/login", map[string]any{"username": "engineer_001", "password": demoPassword, "mfa_code": c}), 200, "")
	h.expect(h.do("POST", "/api/v1/auth/login", map[string]any{"username": "engineer_001", "password": demoPassword, "mfa_code": c}), 401, "")
}

func TestSupervisorRefusedModelDeploy(t *testing.T) {
	h := newHarness(t)
	access, _ := h.login("supervisor_001", demoPassword)
	h.expect(h.do("POST", "/api/v1/models/deploy", map[string]any{"model": "m", "version": "1"}, bearer(access)...), 403, "insufficient_permissions")
	h.expect(h.do("GET", "/api/v1/reports", nil, bearer(access)...), 200, "")
}

func TestMFAGracePeriodEnds(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/api/v1/auth/login", map[string]any{"username": "admin_001", "password": demoPassword})
	h.expect(r, 200, "")
	if r.str("mfa_enroll_by") == "" {
		t.Fatalf("admin inside the grace period is not told to enrol: %s", r.raw)
	}
	h.clock.Advance(8 * 24 * time.Hour)
	r = h.do("POST", "/api/v1/auth/login", map[string]any{"username": "admin_001", "password": demoPassword})
	h.expect(r, 200, "")
	if r.body["mfa_enrollment_required"] != true {
		t.Fatalf("grace over, not flagged: %s", r.raw)
	}
	tok := r.str("access_token")
	h.expect(h.do("GET", "/api/v1/predictions", nil, bearer(tok)...), 403, "insufficient_permissions")
	h.expect(h.do("POST", "/api/v1/auth/mfa/setup", map[string]any{"method": "totp"}, bearer(tok)...), 200, "")
}

func TestSeedFlowPasswordChangeRevokesTokens(t *testing.T) {
	h := newHarness(t)
	old, oldRefresh := h.login("operator_001", demoPassword)
	const newPassword = "blast-furnace-tapping-42"
	h.expect(h.do("POST", "/api/v1/auth/password/change", map[string]any{"old_password": "wrong-password-1234", "new_password": newPassword}, bearer(old)...), 401, "")
	h.clock.Advance(2 * time.Second)
	h.expect(h.do("POST", "/api/v1/auth/password/change", map[string]any{"old_password": demoPassword, "new_password": "short"}, bearer(old)...), 422, "password_policy")
	h.clock.Advance(10 * time.Second)
	h.expect(h.do("POST", "/api/v1/auth/password/change", map[string]any{"old_password": demoPassword, "new_password": newPassword}, bearer(old)...), 204, "")
	h.expect(h.do("GET", "/api/v1/alerts", nil, bearer(old)...), 401, "")
	h.expect(h.do("POST", "/api/v1/auth/refresh", map[string]any{"refresh_token": oldRefresh}), 401, "")
	h.clock.Advance(2 * time.Second)
	h.expect(h.do("POST", "/api/v1/auth/login", map[string]any{"username": "operator_001", "password": demoPassword}), 401, "invalid_credentials")
	h.clock.Advance(35 * time.Second)
	h.login("operator_001", newPassword)
}

func TestSeedFlowForgotAndReset(t *testing.T) {
	h := newHarness(t)
	known := h.do("POST", "/api/v1/auth/password/forgot", map[string]any{"email": "operator_001@plant.example"})
	unknown := h.do("POST", "/api/v1/auth/password/forgot", map[string]any{"email": "nobody@plant.example"})
	h.expect(known, 202, "")
	h.expect(unknown, 202, "")
	if known.raw != unknown.raw {
		t.Fatalf("forgot answers differ: %q vs %q", known.raw, unknown.raw)
	}
	var token string
	for i := 0; i < 200 && token == ""; i++ { // delivery runs after the response
		h.mu.Lock()
		if len(h.resets) > 0 {
			token = h.resets[0].Token
		}
		h.mu.Unlock()
		if token == "" {
			runtimeGosched()
		}
	}
	if token == "" {
		t.Fatal("no reset token delivered")
	}
	h.mu.Lock()
	n := len(h.resets)
	h.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d deliveries, want 1 (none for the unknown address)", n)
	}
	const newPassword = "ladle-furnace-sample-77"
	h.expect(h.do("POST", "/api/v1/auth/password/reset", map[string]any{"token": token, "new_password": newPassword}), 204, "")
	h.expect(h.do("POST", "/api/v1/auth/password/reset", map[string]any{"token": token, "new_password": "another-long-password-9"}), 401, "")
	h.login("operator_001", newPassword)
}

func TestSeedFlowLockout(t *testing.T) {
	h := newHarness(t)
	var last response
	for i := 0; i < 5; i++ {
		h.clock.Advance(31 * time.Second) // past every progressive delay
		last = h.do("POST", "/api/v1/auth/login", map[string]any{"username": "operator_001", "password": "wrong-password-" + strconv.Itoa(i)})
	}
	h.expect(last, 429, "account_locked")
	h.clock.Advance(31 * time.Second)
	right := h.do("POST", "/api/v1/auth/login", map[string]any{"username": "operator_001", "password": demoPassword})
	wrong := h.do("POST", "/api/v1/auth/login", map[string]any{"username": "operator_001", "password": "still-wrong-123"})
	h.expect(right, 429, "account_locked")
	h.expect(wrong, 429, "account_locked")
	if right.raw != wrong.raw || right.header.Get("Retry-After") == "" {
		t.Fatalf("locked answers differ or lack Retry-After: %q / %q", right.raw, wrong.raw)
	}
	h.clock.Advance(16 * time.Minute)
	h.login("operator_001", demoPassword)
}

func TestSeedFlowRateLimitHeaders(t *testing.T) {
	h := newHarness(t, func(c *config) { c.authRateLimit = 3 })
	body := map[string]any{"username": "nobody", "password": "irrelevant-password"}
	for i := 0; i < 3; i++ {
		r := h.do("POST", "/api/v1/auth/refresh", map[string]any{"refresh_token": "x"})
		if r.header.Get("X-RateLimit-Limit") != "3" || r.header.Get("X-RateLimit-Remaining") != strconv.Itoa(2-i) || r.header.Get("X-RateLimit-Reset") == "" {
			t.Fatalf("request %d headers: %v", i, r.header)
		}
	}
	r := h.do("POST", "/api/v1/auth/login", body)
	h.expect(r, 429, "rate_limited")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
}

func TestSeedFlowSessionLogin(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/api/v1/auth/login", map[string]any{"username": "operator_001", "password": demoPassword, "session": true})
	h.expect(r, 200, "")
	var cookie string
	for _, c := range strings.Split(r.header.Get("Set-Cookie"), ";") {
		if strings.Contains(c, "gh_session=") {
			cookie = strings.TrimSpace(c)
		}
	}
	if cookie == "" {
		t.Fatalf("no session cookie: %v", r.header)
	}
	h.expect(h.do("GET", "/api/v1/dashboard", nil, "Cookie", cookie), 200, "")
	list := h.do("GET", "/api/v1/auth/sessions", nil, "Cookie", cookie)
	if list.status != 200 || !strings.Contains(list.raw, `"current":true`) {
		t.Fatalf("sessions = %d %s", list.status, list.raw)
	}
	// A cross-site POST riding on the cookie is refused.
	h.expect(h.do("POST", "/api/v1/alerts/alt-1001/acknowledge", nil, "Cookie", cookie, "Sec-Fetch-Site", "cross-site"), 403, "")
	h.expect(h.do("POST", "/api/v1/alerts/alt-1001/acknowledge", nil, "Cookie", cookie, "Sec-Fetch-Site", "same-origin"), 200, "")
}

func TestJSONOnlyAndUnknownFields(t *testing.T) {
	h := newHarness(t)
	req, _ := http.NewRequest("POST", h.srv.URL+"/api/v1/auth/login", strings.NewReader("username=a&password=b"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 415 {
		t.Fatalf("form login: %d", resp.StatusCode)
	}
	h.expect(h.do("POST", "/api/v1/auth/login", map[string]any{"username": "a", "password": "b", "role": "admin"}), 400, "invalid_request")
}
