package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// form posts an application/x-www-form-urlencoded body, as OAuth clients do.
func (h *harness) form(path string, v url.Values, user, pass string) response {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.srv.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	r := response{status: resp.StatusCode, header: resp.Header}
	_ = json.NewDecoder(resp.Body).Decode(&r.body)
	return r
}

func TestOAuthClientCredentials(t *testing.T) {
	h := newHarness(t)
	var secret string
	for _, line := range h.printed {
		if strings.Contains(line, "plant-maintenance-app") {
			secret = strings.TrimSpace(line[strings.Index(line, "secret ")+len("secret "):])
		}
	}
	if secret == "" {
		t.Fatalf("no demo client secret printed: %q", h.printed)
	}
	r := h.form("/api/v1/oauth/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"predictions:read"}}, "plant-maintenance-app", secret)
	if r.status != 200 || r.str("access_token") == "" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("client credentials: %d %v %v", r.status, r.body, r.header)
	}
	tok := r.str("access_token")
	h.expect(h.do("GET", "/api/v1/predictions", nil, bearer(tok)...), 200, "")
	// The scope narrows the client's operator role.
	h.expect(h.do("GET", "/api/v1/alerts", nil, bearer(tok)...), 403, "insufficient_permissions")
	// A wrong secret is invalid_client.
	if r := h.form("/api/v1/oauth/token", url.Values{"grant_type": {"client_credentials"}}, "plant-maintenance-app", "wrong"); r.status != 401 || r.str("error") != "invalid_client" {
		t.Fatalf("wrong secret: %d %v", r.status, r.body)
	}
	// The public client may not use client credentials.
	if r := h.form("/api/v1/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"plant-reporting-cli"}}, "", ""); r.status < 400 {
		t.Fatalf("public client got client credentials: %d %v", r.status, r.body)
	}
}

func TestOAuthAuthorizationCodeWithSessionAndPKCE(t *testing.T) {
	h := newHarness(t)
	login := h.do("POST", "/api/v1/auth/login", map[string]any{"username": "engineer_001", "password": demoPassword, "session": true})
	h.expect(login, 200, "")
	cookie := strings.SplitN(login.header.Get("Set-Cookie"), ";", 2)[0]

	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-steelplant"
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	q := url.Values{
		"response_type": {"code"}, "client_id": {"plant-reporting-cli"}, "redirect_uri": {"http://127.0.0.1:5555/callback"},
		"scope": {"reports:read"}, "state": {"st-42"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// Without a session the user is asked to sign in; nothing is redirected.
	resp, err := noRedirect.Get(h.srv.URL + "/api/v1/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("Location") != "" {
		t.Fatalf("authorize without a session: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	req, _ := http.NewRequest("GET", h.srv.URL+"/api/v1/oauth/authorize?"+q.Encode(), nil)
	req.Header.Set("Cookie", cookie)
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st-42" || loc.Query().Get("iss") == "" {
		t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	code := loc.Query().Get("code")

	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://127.0.0.1:5555/callback"},
		"client_id": {"plant-reporting-cli"}, "code_verifier": {verifier}}
	bad := url.Values{}
	for k, v := range exchange {
		bad[k] = v
	}
	bad.Set("code_verifier", verifier+"x")
	if r := h.form("/api/v1/oauth/token", bad, "", ""); r.str("error") != "invalid_grant" {
		t.Fatalf("wrong verifier: %d %v", r.status, r.body)
	}
	r := h.form("/api/v1/oauth/token", exchange, "", "")
	if r.status != 200 || r.str("access_token") == "" || r.str("refresh_token") == "" {
		t.Fatalf("code exchange: %d %v", r.status, r.body)
	}
	tok := r.str("access_token")
	h.expect(h.do("GET", "/api/v1/reports", nil, bearer(tok)...), 200, "")
	h.expect(h.do("GET", "/api/v1/predictions", nil, bearer(tok)...), 403, "insufficient_permissions")

	// Replaying the code fails and revokes what it issued.
	if r := h.form("/api/v1/oauth/token", exchange, "", ""); r.str("error") != "invalid_grant" {
		t.Fatalf("code replay: %d %v", r.status, r.body)
	}
	h.expect(h.do("GET", "/api/v1/reports", nil, bearer(tok)...), 401, "")

	meta := h.do("GET", "/.well-known/oauth-authorization-server/api/v1/oauth", nil)
	if meta.status != 200 || !strings.HasSuffix(meta.str("issuer"), "/api/v1/oauth") {
		t.Fatalf("metadata: %d %s", meta.status, meta.raw)
	}
}
