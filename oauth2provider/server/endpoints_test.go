package server_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/gatehouse-auth/gatehouse/oauth2provider/server"
)

// TestRevocation is RFC 7009.
func TestRevocation(t *testing.T) {
	e := newEnv(t)
	revoke := func(token, id, secret string) *httptest.ResponseRecorder {
		f := url.Values{"token": {token}}
		if secret == "" {
			f.Set("client_id", id)
			id = ""
		}
		return e.post("/revoke", f, id, secret)
	}
	t.Run("refresh token revokes the grant and its access tokens", func(t *testing.T) {
		tr := e.login("predictions:read")
		if w := revoke(tr.RefreshToken, confID, e.confSecret); w.Code != http.StatusOK {
			t.Fatalf("revoke: %d %s", w.Code, w.Body)
		}
		if _, err := e.verify(tr.AccessToken); !errors.Is(err, auth.ErrTokenRevoked) {
			t.Fatalf("access token after revoking its refresh token: %v", err)
		}
		wantError(t, e.token(refreshForm(tr.RefreshToken, ""), confID, e.confSecret), 400, server.CodeInvalidGrant)
		if got := e.events.of(auth.EventTokenRevoked); len(got) == 0 || got[len(got)-1].Reason != "revoked" {
			t.Fatalf("token_revoked events %+v", got)
		}
	})
	t.Run("access token revokes only that token", func(t *testing.T) {
		tr := e.login("predictions:read")
		if w := revoke(tr.AccessToken, confID, e.confSecret); w.Code != http.StatusOK {
			t.Fatalf("revoke: %d", w.Code)
		}
		if _, err := e.verify(tr.AccessToken); !errors.Is(err, auth.ErrTokenRevoked) {
			t.Fatalf("revoked access token: %v", err)
		}
		if tr2 := e.token(refreshForm(tr.RefreshToken, ""), confID, e.confSecret); tr2.Status != http.StatusOK {
			t.Fatalf("refresh after revoking the access token: %d %s", tr2.Status, tr2.Error)
		}
	})
	t.Run("public client revokes its own token", func(t *testing.T) {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {e.code(authorizeQuery(pubID, pubRedirect))},
			"redirect_uri": {pubRedirect}, "client_id": {pubID}, "code_verifier": {rfcVerifier}}
		tr := e.token(form, "", "")
		if w := revoke(tr.RefreshToken, pubID, ""); w.Code != http.StatusOK {
			t.Fatalf("revoke: %d", w.Code)
		}
		if _, err := e.verify(tr.AccessToken); !errors.Is(err, auth.ErrTokenRevoked) {
			t.Fatalf("access token: %v", err)
		}
	})
	t.Run("another client's tokens are left alone", func(t *testing.T) {
		tr := e.login("predictions:read")
		for _, tok := range []string{tr.RefreshToken, tr.AccessToken} {
			if w := revoke(tok, pubID, ""); w.Code != http.StatusOK {
				t.Fatalf("revoke: %d", w.Code)
			}
		}
		if _, err := e.verify(tr.AccessToken); err != nil {
			t.Fatalf("another client revoked the access token: %v", err)
		}
		if tr2 := e.token(refreshForm(tr.RefreshToken, ""), confID, e.confSecret); tr2.Status != http.StatusOK {
			t.Fatalf("another client revoked the refresh token: %d %s", tr2.Status, tr2.Error)
		}
	})
	t.Run("unknown, malformed and code tokens answer 200", func(t *testing.T) {
		code := e.code(authorizeQuery(confID, confRedirect))
		for _, tok := range []string{"unknown", "a.b.c", code} {
			if w := revoke(tok, confID, e.confSecret); w.Code != http.StatusOK {
				t.Fatalf("revoke %q: %d", tok, w.Code)
			}
		}
		if tr := e.redeem(code); tr.Status != http.StatusOK {
			t.Fatalf("a code passed to /revoke was affected: %d %s", tr.Status, tr.Error)
		}
	})
	t.Run("errors", func(t *testing.T) {
		wantError(t, decodeToken(t, revoke("x", confID, "wrong")), 401, server.CodeInvalidClient)
		wantError(t, decodeToken(t, e.post("/revoke", url.Values{}, confID, e.confSecret)), 400, server.CodeInvalidRequest)
	})
}

type introspection struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope"`
	ClientID  string   `json:"client_id"`
	Username  string   `json:"username"`
	TokenType string   `json:"token_type"`
	Sub       string   `json:"sub"`
	Exp       int64    `json:"exp"`
	Aud       []string `json:"aud"`
	Error     string   `json:"error"`
}

// TestIntrospection is RFC 7662.
func TestIntrospection(t *testing.T) {
	e := newEnv(t)
	rsSecret, err := e.srv.RegisterClient(t.Context(), server.Client{
		ID: "resource-server", GrantTypes: []server.GrantType{server.GrantClientCredentials}, Introspect: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	introspect := func(token, id, secret string) (int, introspection) {
		t.Helper()
		f := url.Values{"token": {token}}
		if secret == "" {
			f.Set("client_id", id)
			id = ""
		}
		w := e.post("/introspect", f, id, secret)
		var out introspection
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("introspection %q: %v", w.Body, err)
		}
		if w.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("introspection without no-store")
		}
		return w.Code, out
	}
	tr := e.login("predictions:read")
	t.Run("own access token", func(t *testing.T) {
		st, out := introspect(tr.AccessToken, confID, e.confSecret)
		if st != 200 || !out.Active || out.Scope != "predictions:read" || out.ClientID != confID || out.Sub != "user-alice" ||
			out.Username != "alice" || out.TokenType != "Bearer" || !slices.Contains(out.Aud, testAudience) {
			t.Fatalf("%d %+v", st, out)
		}
	})
	t.Run("own refresh token", func(t *testing.T) {
		_, out := introspect(tr.RefreshToken, confID, e.confSecret)
		if !out.Active || out.TokenType != "refresh_token" || out.ClientID != confID || out.Scope != "predictions:read" {
			t.Fatalf("%+v", out)
		}
	})
	t.Run("resource server sees other clients' tokens", func(t *testing.T) {
		_, out := introspect(tr.AccessToken, "resource-server", rsSecret)
		if !out.Active || out.ClientID != confID {
			t.Fatalf("%+v", out)
		}
	})
	t.Run("other client sees nothing", func(t *testing.T) {
		_, out := introspect(tr.AccessToken, svcID, e.svcSecret)
		if out.Active || out.Sub != "" {
			t.Fatalf("%+v", out)
		}
		_, out = introspect(tr.RefreshToken, svcID, e.svcSecret)
		if out.Active {
			t.Fatalf("%+v", out)
		}
	})
	t.Run("public client is refused", func(t *testing.T) {
		st, out := introspect(tr.AccessToken, pubID, "")
		if st != 401 || out.Error != server.CodeInvalidClient || out.Active {
			t.Fatalf("%d %+v", st, out)
		}
	})
	t.Run("garbage is inactive", func(t *testing.T) {
		for _, tok := range []string{"garbage", "a.b.c", jwtNone} {
			if _, out := introspect(tok, confID, e.confSecret); out.Active {
				t.Fatalf("%q active", tok)
			}
		}
	})
	t.Run("revoked and expired are inactive", func(t *testing.T) {
		tr := e.login("predictions:read")
		e.post("/revoke", url.Values{"token": {tr.RefreshToken}}, confID, e.confSecret)
		if _, out := introspect(tr.RefreshToken, confID, e.confSecret); out.Active {
			t.Fatalf("revoked refresh token active")
		}
		if _, out := introspect(tr.AccessToken, confID, e.confSecret); out.Active {
			t.Fatalf("access token of a revoked grant active")
		}
		tr = e.login("predictions:read")
		e.clock.Advance(time.Hour)
		if _, out := introspect(tr.AccessToken, confID, e.confSecret); out.Active {
			t.Fatalf("expired access token active")
		}
	})
}

// jwtNone is the RFC 7519 §6.1 unsecured JWT.
const jwtNone = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."

// TestMetadata is RFC 8414 and OpenID Connect Discovery.
func TestMetadata(t *testing.T) {
	e := newEnv(t)
	var m map[string]any
	w := e.get("/.well-known/oauth-authorization-server", nil)
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || w.Code != 200 {
		t.Fatalf("%d %v", w.Code, err)
	}
	want := map[string]any{
		"issuer": testIssuer, "authorization_endpoint": testIssuer + "/authorize", "token_endpoint": testIssuer + "/token",
		"jwks_uri": testIssuer + "/jwks", "revocation_endpoint": testIssuer + "/revoke",
		"introspection_endpoint": testIssuer + "/introspect", "authorization_response_iss_parameter_supported": true,
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if got := m["code_challenge_methods_supported"].([]any); len(got) != 1 || got[0] != "S256" {
		t.Errorf("code_challenge_methods_supported %v", got)
	}
	if got := m["response_types_supported"].([]any); len(got) != 1 || got[0] != "code" {
		t.Errorf("response_types_supported %v", got)
	}
	for _, g := range m["grant_types_supported"].([]any) {
		if g == "password" || g == "implicit" {
			t.Errorf("advertises %v", g)
		}
	}

	var d map[string]any
	w = e.get("/.well-known/openid-configuration", nil)
	if err := json.Unmarshal(w.Body.Bytes(), &d); err != nil || w.Code != 200 {
		t.Fatalf("%d %v", w.Code, err)
	}
	if d["issuer"] != testIssuer || d["userinfo_endpoint"] != testIssuer+"/userinfo" || d["id_token_signing_alg_values_supported"].([]any)[0] != "ES256" {
		t.Fatalf("discovery %v", d)
	}
	if w := e.post("/.well-known/oauth-authorization-server", url.Values{}, "", ""); w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST metadata: %d", w.Code)
	}

	t.Run("without ID token key", func(t *testing.T) {
		e := newEnv(t, func(c *server.Config) { c.IDTokenKey, c.IDTokenKeyID = nil, "" })
		if w := e.get("/.well-known/openid-configuration", nil); w.Code != http.StatusNotFound {
			t.Fatalf("discovery without OIDC: %d", w.Code)
		}
		if w := e.get("/userinfo", nil); w.Code != http.StatusNotFound {
			t.Fatalf("userinfo without OIDC: %d", w.Code)
		}
		if _, err := e.srv.RegisterClient(t.Context(), server.Client{ID: "x", AuthMethod: server.AuthNone,
			GrantTypes: []server.GrantType{server.GrantAuthorizationCode}, RedirectURIs: []string{pubRedirect}, Scopes: []string{"openid"}}); !errors.Is(err, server.ErrInvalidClient) {
			t.Fatalf("openid client without OIDC: %v", err)
		}
	})
}

// jwkKey turns a JWK of the set into a public key.
func jwkKey(t *testing.T, k map[string]any) any {
	t.Helper()
	dec := func(name string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(k[name].(string))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return b
	}
	switch k["kty"] {
	case "EC":
		return &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(dec("x")), Y: new(big.Int).SetBytes(dec("y"))}
	case "RSA":
		return &rsa.PublicKey{N: new(big.Int).SetBytes(dec("n")), E: int(new(big.Int).SetBytes(dec("e")).Int64())}
	case "OKP":
		return ed25519.PublicKey(dec("x"))
	}
	t.Fatalf("kty %v", k["kty"])
	return nil
}

// TestIDToken checks the ID token against the JWKS, for each key type.
func TestIDToken(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	for _, tc := range []struct {
		alg string
		key crypto.Signer
	}{{"RS256", rsaKey}, {"ES256", ecKey}, {"EdDSA", edKey}} {
		t.Run(tc.alg, func(t *testing.T) {
			e := newEnv(t, func(c *server.Config) { c.IDTokenKey = tc.key })
			tr := e.redeem(e.code(authorizeQuery(confID, confRedirect, "scope", "openid profile predictions:read", "nonce", "n-0S6")))
			if tr.IDToken == "" {
				t.Fatalf("no id_token: %+v", tr)
			}
			var set struct{ Keys []map[string]any }
			if err := json.Unmarshal(e.get("/jwks", nil).Body.Bytes(), &set); err != nil {
				t.Fatal(err)
			}
			claims := jwt.MapClaims{}
			tok, err := jwt.ParseWithClaims(tr.IDToken, claims, func(tok *jwt.Token) (any, error) {
				for _, k := range set.Keys {
					if k["kid"] == tok.Header["kid"] {
						return jwkKey(t, k), nil
					}
				}
				return nil, errors.New("kid not in JWKS")
			}, jwt.WithValidMethods([]string{tc.alg}), jwt.WithTimeFunc(e.clock.Now),
				jwt.WithIssuer(testIssuer), jwt.WithAudience(confID))
			if err != nil || !tok.Valid {
				t.Fatalf("ID token does not verify with the JWKS: %v", err)
			}
			if claims["sub"] != "user-alice" || claims["nonce"] != "n-0S6" || claims["azp"] != confID ||
				claims["preferred_username"] != "alice" || claims["email"] != nil {
				t.Fatalf("claims %v", claims)
			}
			if at := claims["auth_time"].(float64); int64(at) != time.Date(2030, 1, 2, 2, 0, 0, 0, time.UTC).Unix() {
				t.Fatalf("auth_time %v", at)
			}
			if claims["at_hash"] == "" || claims["at_hash"] == nil {
				t.Fatalf("no at_hash")
			}
			if len(set.Keys) != 2 {
				t.Fatalf("JWKS has %d keys, want the access token key and the ID token key", len(set.Keys))
			}
		})
	}
	t.Run("no ID token without openid", func(t *testing.T) {
		e := newEnv(t)
		if tr := e.login("predictions:read"); tr.IDToken != "" {
			t.Fatalf("ID token without openid scope")
		}
	})
	t.Run("at_hash is of the access token", func(t *testing.T) {
		e := newEnv(t)
		tr := e.login("openid")
		parts := strings.Split(tr.IDToken, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var c map[string]any
		_ = json.Unmarshal(payload, &c)
		sum := sha256Half(tr.AccessToken)
		if c["at_hash"] != sum {
			t.Fatalf("at_hash %v, want %v", c["at_hash"], sum)
		}
	})
}

// TestUserinfo is OpenID Connect Core §5.3.
func TestUserinfo(t *testing.T) {
	e := newEnv(t)
	call := func(token string) (*httptest.ResponseRecorder, map[string]any) {
		r := httptest.NewRequest(http.MethodGet, "https://as.example/userinfo", nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		var m map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &m)
		return w, m
	}
	tr := e.login("openid email predictions:read")
	w, m := call(tr.AccessToken)
	if w.Code != 200 || m["sub"] != "user-alice" || m["email"] != "alice@plant.example" || m["preferred_username"] != nil {
		t.Fatalf("%d %v", w.Code, m)
	}
	noOpenID := e.login("predictions:read")
	if w, _ := call(noOpenID.AccessToken); w.Code != http.StatusForbidden || !strings.Contains(w.Header().Get("WWW-Authenticate"), "insufficient_scope") {
		t.Fatalf("without openid: %d %v", w.Code, w.Header())
	}
	cc := e.token(url.Values{"grant_type": {"client_credentials"}}, svcID, e.svcSecret)
	if w, _ := call(cc.AccessToken); w.Code != http.StatusForbidden {
		t.Fatalf("client token: %d", w.Code)
	}
	if w, _ := call(""); w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") == "" {
		t.Fatalf("no token: %d", w.Code)
	}
	if w, _ := call(jwtNone); w.Code != http.StatusUnauthorized || !strings.Contains(w.Header().Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("alg none: %d %v", w.Code, w.Header())
	}
	if w, _ := call(tr.IDToken); w.Code != http.StatusUnauthorized {
		t.Fatalf("ID token used as access token: %d", w.Code)
	}
}

// TestNew checks Config validation.
func TestNew(t *testing.T) {
	key, _ := jwtprovider.GenerateKey("k", jwtprovider.ES256)
	revs := jwtprovider.NewMemoryRevocationStore()
	p, err := jwtprovider.New(jwtprovider.Config{Issuer: testIssuer, Audience: []string{"a"}, Keys: []jwtprovider.Key{key}, RevocationStore: revs})
	if err != nil {
		t.Fatal(err)
	}
	hook := func(http.ResponseWriter, *http.Request, server.AuthorizeRequest) (*auth.Principal, bool) {
		return nil, false
	}
	ok := func() server.Config {
		return server.Config{Issuer: testIssuer, Tokens: p, Revocations: revs, Authorize: hook}
	}
	if _, err := server.New(ok()); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
	smallRSA, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	bad := []struct {
		name  string
		tweak func(*server.Config)
	}{
		{"no issuer", func(c *server.Config) { c.Issuer = "" }},
		{"http issuer on a public host", func(c *server.Config) { c.Issuer = "http://as.example/oauth" }},
		{"issuer with query", func(c *server.Config) { c.Issuer = testIssuer + "?x=1" }},
		{"issuer with fragment", func(c *server.Config) { c.Issuer = testIssuer + "#x" }},
		{"issuer with trailing slash", func(c *server.Config) { c.Issuer = testIssuer + "/" }},
		{"relative issuer", func(c *server.Config) { c.Issuer = "/oauth" }},
		{"no provider", func(c *server.Config) { c.Tokens = nil }},
		{"no revocation store", func(c *server.Config) { c.Revocations = nil }},
		{"no hook", func(c *server.Config) { c.Authorize = nil }},
		{"code TTL too long", func(c *server.Config) { c.CodeTTL = time.Hour }},
		{"negative code TTL", func(c *server.Config) { c.CodeTTL = -time.Second }},
		{"grant shorter than code", func(c *server.Config) { c.GrantLifetime = time.Second }},
		{"ID key without kid", func(c *server.Config) { c.IDTokenKey = ec }},
		{"kid without ID key", func(c *server.Config) { c.IDTokenKeyID = "id" }},
		{"ID key kid taken by the provider", func(c *server.Config) { c.IDTokenKey, c.IDTokenKeyID = ec, "k" }},
		{"RSA ID key of 1024 bits", func(c *server.Config) { c.IDTokenKey, c.IDTokenKeyID = smallRSA, "id" }},
		{"ECDSA ID key on P-384", func(c *server.Config) { c.IDTokenKey, c.IDTokenKeyID = p384, "id" }},
		{"bad scope advertised", func(c *server.Config) { c.ScopesSupported = []string{"a b"} }},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			c := ok()
			tc.tweak(&c)
			if _, err := server.New(c); !errors.Is(err, server.ErrConfig) {
				t.Fatalf("New: %v, want ErrConfig", err)
			}
		})
	}
	t.Run("loopback http issuer", func(t *testing.T) {
		c := ok()
		c.Issuer = "http://127.0.0.1:8000/api/v1/oauth"
		if _, err := server.New(c); err != nil {
			t.Fatal(err)
		}
	})
}

// TestClientValidate checks registrations.
func TestClientValidate(t *testing.T) {
	_, hash := server.NewClientSecret()
	good := server.Client{ID: "c", SecretHash: hash, GrantTypes: []server.GrantType{server.GrantAuthorizationCode}, RedirectURIs: []string{"https://a.example/cb"}}
	if err := good.Validate(); err != nil {
		t.Fatalf("good client: %v", err)
	}
	bad := []struct {
		name  string
		tweak func(*server.Client)
	}{
		{"empty ID", func(c *server.Client) { c.ID = "" }},
		{"ID with space", func(c *server.Client) { c.ID = "a b" }},
		{"ID too long", func(c *server.Client) { c.ID = strings.Repeat("a", 129) }},
		{"confidential without secret", func(c *server.Client) { c.SecretHash = "" }},
		{"secret in clear instead of hash", func(c *server.Client) { c.SecretHash = "hunter2" }},
		{"upper-case hash", func(c *server.Client) { c.SecretHash = strings.ToUpper(hash) }},
		{"public with secret", func(c *server.Client) { c.AuthMethod = server.AuthNone }},
		{"unknown auth method", func(c *server.Client) { c.AuthMethod = "private_key_jwt" }},
		{"no grant", func(c *server.Client) { c.GrantTypes = nil }},
		{"implicit grant", func(c *server.Client) { c.GrantTypes = []server.GrantType{"implicit"} }},
		{"password grant", func(c *server.Client) { c.GrantTypes = []server.GrantType{"password"} }},
		{"code without redirect URI", func(c *server.Client) { c.RedirectURIs = nil }},
		{"redirect with fragment", func(c *server.Client) { c.RedirectURIs = []string{"https://a.example/cb#x"} }},
		{"redirect with userinfo", func(c *server.Client) { c.RedirectURIs = []string{"https://u@a.example/cb"} }},
		{"http redirect on a public host", func(c *server.Client) { c.RedirectURIs = []string{"http://a.example/cb"} }},
		{"relative redirect", func(c *server.Client) { c.RedirectURIs = []string{"/cb"} }},
		{"javascript redirect", func(c *server.Client) { c.RedirectURIs = []string{"javascript:alert(1)"} }},
		{"data redirect", func(c *server.Client) { c.RedirectURIs = []string{"data:text/html,x"} }},
		{"redirect with space", func(c *server.Client) { c.RedirectURIs = []string{"https://a.example/c b"} }},
		{"upper-case scheme", func(c *server.Client) { c.RedirectURIs = []string{"HTTPS://a.example/cb"} }},
		{"https without host", func(c *server.Client) { c.RedirectURIs = []string{"https:/cb"} }},
		{"bad scope", func(c *server.Client) { c.Scopes = []string{"a\"b"} }},
		{"service roles without client credentials", func(c *server.Client) { c.ServiceRoles = []string{"admin"} }},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			c.RedirectURIs = slices.Clone(good.RedirectURIs)
			tc.tweak(&c)
			if err := c.Validate(); !errors.Is(err, server.ErrInvalidClient) {
				t.Fatalf("Validate: %v, want ErrInvalidClient", err)
			}
		})
	}
	t.Run("new secrets are 256-bit and hashed", func(t *testing.T) {
		s1, h1 := server.NewClientSecret()
		s2, _ := server.NewClientSecret()
		if len(s1) != 43 || s1 == s2 || h1 != server.HashClientSecret(s1) || len(h1) != 64 {
			t.Fatalf("secret %q hash %q", s1, h1)
		}
	})
}

func sha256Half(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}
