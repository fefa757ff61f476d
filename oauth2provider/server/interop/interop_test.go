package interop

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/gatehouse-auth/gatehouse/oauth2provider/server"
)

const (
	// The redirect URI of the native app: a loopback URI, so any port is
	// accepted (RFC 8252 §7.3). Nothing listens there: the test's browser
	// stops at the redirect and reads the code from it.
	appRedirect = "http://127.0.0.1/callback"
	sessionName = "plant_session"
)

// plant is a running reference server: an authorization server mounted
// under /api/v1/oauth and a protected API route, on a real listener.
type plant struct {
	ts     *httptest.Server
	srv    *server.Server
	issuer string
	// confSecret is the secret of the confidential client "maint-app".
	confSecret string
	// svcSecret is the secret of the client-credentials client.
	svcSecret string
}

// newPlant starts the server. Its login and consent hook approves any
// request whose browser carries the session cookie of alice, and shows a
// login page otherwise.
func newPlant(t *testing.T) *plant {
	t.Helper()
	mux := http.NewServeMux()
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	p := &plant{ts: ts, issuer: ts.URL + "/api/v1/oauth"}

	key, err := jwtprovider.GenerateKey("at-1", jwtprovider.ES256)
	if err != nil {
		t.Fatal(err)
	}
	revocations := jwtprovider.NewMemoryRevocationStore()
	tokens, err := jwtprovider.New(jwtprovider.Config{
		Issuer: p.issuer, Audience: []string{ts.URL + "/api"}, Keys: []jwtprovider.Key{key},
		RevocationStore: revocations,
	})
	if err != nil {
		t.Fatal(err)
	}
	idKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p.srv, err = server.New(server.Config{
		Issuer: p.issuer, Tokens: tokens, Revocations: revocations,
		IDTokenKey: idKey, IDTokenKeyID: "id-1",
		Authorize: func(w http.ResponseWriter, r *http.Request, req server.AuthorizeRequest) (*auth.Principal, bool) {
			c, err := r.Cookie(sessionName)
			if err != nil || c.Value != "alice" {
				http.Error(w, "log in first", http.StatusUnauthorized)
				return nil, false
			}
			return &auth.Principal{
				Subject: "user-alice", Username: "alice", Email: "alice@plant.example",
				Roles: []string{"engineer"}, Claims: map[string]any{"auth_time": time.Now().Add(-time.Minute)},
			}, true
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/api/v1/oauth/", http.StripPrefix("/api/v1/oauth", p.srv.Handler()))
	mux.HandleFunc("GET /api/v1/predictions", func(w http.ResponseWriter, r *http.Request) {
		pr, err := tokens.Authenticate(r)
		if err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "%s %s %s", pr.Subject, strings.Join(pr.Roles, ","), strings.Join(pr.Scopes, ","))
	})

	ctx := context.Background()
	scopes := []string{"openid", "profile", "email", "predictions:read", "alerts:read"}
	if p.confSecret, err = p.srv.RegisterClient(ctx, server.Client{
		ID: "maint-app", Name: "Maintenance app", RedirectURIs: []string{appRedirect},
		GrantTypes: []server.GrantType{server.GrantAuthorizationCode, server.GrantRefreshToken},
		Scopes:     scopes,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err = p.srv.RegisterClient(ctx, server.Client{
		ID: "mobile-app", AuthMethod: server.AuthNone, RedirectURIs: []string{appRedirect},
		GrantTypes: []server.GrantType{server.GrantAuthorizationCode, server.GrantRefreshToken},
		Scopes:     scopes,
	}); err != nil {
		t.Fatal(err)
	}
	if p.svcSecret, err = p.srv.RegisterClient(ctx, server.Client{
		ID: "svc-reporting", AuthMethod: server.AuthSecretPost,
		GrantTypes: []server.GrantType{server.GrantClientCredentials},
		Scopes:     []string{"predictions:read", "alerts:read"}, ServiceRoles: []string{"reporter"},
	}); err != nil {
		t.Fatal(err)
	}
	return p
}

// browser returns an HTTP client that is logged in as alice (its cookie jar
// holds her session) and stops at redirects, so that the final redirect to
// the client's redirect URI can be read instead of followed.
func (p *plant) browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(p.ts.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: sessionName, Value: "alice", Path: "/"}})
	return &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// authorize opens authURL in the browser and returns the redirect it ends
// with.
func authorize(t *testing.T, browser *http.Client, authURL string) url.Values {
	t.Helper()
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("authorize: %d %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Scheme != "http" || loc.Hostname() != "127.0.0.1" || loc.Path != "/callback" {
		t.Fatalf("redirected to %s", loc)
	}
	return loc.Query()
}

func (p *plant) endpoint(style oauth2.AuthStyle) oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: p.issuer + "/authorize", TokenURL: p.issuer + "/token", AuthStyle: style}
}

// api calls the protected route with an access token.
func (p *plant) api(t *testing.T, client *http.Client) (int, string) {
	t.Helper()
	resp, err := client.Get(p.ts.URL + "/api/v1/predictions")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func retrieveError(t *testing.T, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != code {
		t.Fatalf("error %v, want an oauth2.RetrieveError %q", err, code)
	}
}

// TestAuthorizationCodeWithPKCE runs the confidential client's code flow
// through x/oauth2, verifies the ID token and the discovery document with
// go-oidc, refreshes through a TokenSource and checks reuse detection.
func TestAuthorizationCodeWithPKCE(t *testing.T) {
	p := newPlant(t)
	ctx := t.Context()

	provider, err := oidc.NewProvider(ctx, p.issuer)
	if err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}
	if provider.Endpoint().TokenURL != p.issuer+"/token" || provider.Endpoint().AuthURL != p.issuer+"/authorize" {
		t.Fatalf("discovered endpoints %+v", provider.Endpoint())
	}
	conf := &oauth2.Config{
		ClientID: "maint-app", ClientSecret: p.confSecret,
		Endpoint:    p.endpoint(oauth2.AuthStyleInHeader),
		RedirectURL: "http://127.0.0.1:49321/callback",
		Scopes:      []string{oidc.ScopeOpenID, "profile", "predictions:read"},
	}
	verifier := oauth2.GenerateVerifier()
	state, nonce := "state-"+rand.Text(), "nonce-"+rand.Text()
	q := authorize(t, p.browser(t), conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)))
	if q.Get("state") != state || q.Get("iss") != p.issuer || q.Get("code") == "" {
		t.Fatalf("authorization response %v", q)
	}

	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if tok.TokenType != "Bearer" || tok.RefreshToken == "" || tok.Expiry.IsZero() {
		t.Fatalf("token %+v", tok)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idToken, err := provider.Verifier(&oidc.Config{ClientID: conf.ClientID}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("go-oidc Verify: %v", err)
	}
	if idToken.Nonce != nonce || idToken.Subject != "user-alice" || idToken.Issuer != p.issuer {
		t.Fatalf("ID token %+v", idToken)
	}
	if err := idToken.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Fatalf("at_hash: %v", err)
	}
	var claims struct {
		AuthTime int64  `json:"auth_time"`
		Username string `json:"preferred_username"`
		Email    string `json:"email"`
	}
	if err := idToken.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Username != "alice" || claims.Email != "" || claims.AuthTime == 0 || claims.AuthTime > time.Now().Unix() {
		t.Fatalf("ID token claims %+v", claims)
	}
	if _, err := provider.Verifier(&oidc.Config{ClientID: "mobile-app"}).Verify(ctx, rawID); err == nil {
		t.Fatalf("the ID token verified for another client")
	}
	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("go-oidc UserInfo: %v", err)
	}
	if info.Subject != "user-alice" {
		t.Fatalf("userinfo %+v", info)
	}

	if st, body := p.api(t, conf.Client(ctx, tok)); st != 200 || body != "user-alice engineer openid,profile,predictions:read" {
		t.Fatalf("API with the access token: %d %q", st, body)
	}

	t.Run("refresh through a TokenSource", func(t *testing.T) {
		expired := *tok
		expired.Expiry = time.Now().Add(-time.Minute)
		fresh, err := conf.TokenSource(ctx, &expired).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == tok.RefreshToken || fresh.RefreshToken == "" {
			t.Fatalf("refresh did not rotate")
		}
		if st, _ := p.api(t, conf.Client(ctx, fresh)); st != 200 {
			t.Fatalf("API with the refreshed token: %d", st)
		}
		if rawID, _ := fresh.Extra("id_token").(string); rawID == "" {
			t.Fatalf("no ID token on refresh")
		} else if _, err := provider.Verifier(&oidc.Config{ClientID: conf.ClientID}).Verify(ctx, rawID); err != nil {
			t.Fatalf("refreshed ID token: %v", err)
		}

		// The old refresh token again: reuse ends the grant.
		_, err = conf.TokenSource(ctx, &expired).Token()
		retrieveError(t, err, "invalid_grant")
		stale := *fresh
		stale.Expiry = time.Now().Add(-time.Minute)
		_, err = conf.TokenSource(ctx, &stale).Token()
		retrieveError(t, err, "invalid_grant")
		if st, _ := p.api(t, conf.Client(ctx, fresh)); st != http.StatusUnauthorized {
			t.Fatalf("access token after refresh reuse: %d", st)
		}
	})

	// The code was used: a second exchange fails.
	t.Run("code replay", func(t *testing.T) {
		_, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		retrieveError(t, err, "invalid_grant")
	})
}

// TestPublicClient runs the public client's flow (no secret, PKCE) and the
// ways it fails.
func TestPublicClient(t *testing.T) {
	p := newPlant(t)
	ctx := t.Context()
	conf := &oauth2.Config{
		ClientID: "mobile-app", Endpoint: p.endpoint(oauth2.AuthStyleInParams),
		RedirectURL: "http://127.0.0.1:50000/callback", Scopes: []string{"predictions:read"},
	}
	browser := p.browser(t)

	t.Run("without PKCE the server refuses", func(t *testing.T) {
		q := authorize(t, browser, conf.AuthCodeURL("s1"))
		if q.Get("error") != "invalid_request" || q.Get("code") != "" || q.Get("state") != "s1" {
			t.Fatalf("authorization response %v", q)
		}
	})
	t.Run("plain PKCE is refused", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		q := authorize(t, browser, conf.AuthCodeURL("s2",
			oauth2.SetAuthURLParam("code_challenge", v), oauth2.SetAuthURLParam("code_challenge_method", "plain")))
		if q.Get("error") != "invalid_request" {
			t.Fatalf("authorization response %v", q)
		}
	})
	verifier := oauth2.GenerateVerifier()
	q := authorize(t, browser, conf.AuthCodeURL("s3", oauth2.S256ChallengeOption(verifier)))
	t.Run("exchange without the verifier fails", func(t *testing.T) {
		_, err := conf.Exchange(ctx, q.Get("code"))
		retrieveError(t, err, "invalid_grant")
	})
	t.Run("exchange with another verifier fails", func(t *testing.T) {
		_, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
		retrieveError(t, err, "invalid_grant")
	})
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if tok.Extra("id_token") != nil {
		t.Fatalf("ID token without the openid scope")
	}
	if st, body := p.api(t, conf.Client(ctx, tok)); st != 200 || body != "user-alice engineer predictions:read" {
		t.Fatalf("API: %d %q", st, body)
	}
	t.Run("not logged in: the login page, no redirect", func(t *testing.T) {
		anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := anon.Get(conf.AuthCodeURL("s4", oauth2.S256ChallengeOption(verifier)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Location") != "" || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Fatalf("anonymous authorize: %d %v", resp.StatusCode, resp.Header)
		}
	})
	t.Run("unregistered redirect URI", func(t *testing.T) {
		evil := *conf
		evil.RedirectURL = "http://127.0.0.1.evil.example/callback"
		resp, err := browser.Get(evil.AuthCodeURL("s5", oauth2.S256ChallengeOption(verifier)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Fatalf("unregistered redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

// TestClientCredentials gets a service token through
// x/oauth2/clientcredentials (client_secret_post) and uses it.
func TestClientCredentials(t *testing.T) {
	p := newPlant(t)
	ctx := t.Context()
	cc := &clientcredentials.Config{
		ClientID: "svc-reporting", ClientSecret: p.svcSecret, TokenURL: p.issuer + "/token",
		Scopes: []string{"predictions:read"}, AuthStyle: oauth2.AuthStyleInParams,
	}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	if tok.RefreshToken != "" {
		t.Fatalf("refresh token for client credentials")
	}
	if st, body := p.api(t, cc.Client(ctx)); st != 200 || body != "svc-reporting reporter predictions:read" {
		t.Fatalf("API: %d %q", st, body)
	}

	wrong := *cc
	wrong.ClientSecret = "not-the-secret"
	_, err = wrong.Token(ctx)
	retrieveError(t, err, "invalid_client")

	wider := *cc
	wider.Scopes = []string{"models:deploy"}
	_, err = wider.Token(ctx)
	retrieveError(t, err, "invalid_scope")

	public := &clientcredentials.Config{ClientID: "mobile-app", TokenURL: p.issuer + "/token", AuthStyle: oauth2.AuthStyleInParams}
	_, err = public.Token(ctx)
	retrieveError(t, err, "unauthorized_client")
}

// TestDiscoveryDocuments fetches both metadata documents as a client would.
func TestDiscoveryDocuments(t *testing.T) {
	p := newPlant(t)
	ctx := t.Context()
	provider, err := oidc.NewProvider(ctx, p.issuer)
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Issuer       string   `json:"issuer"`
		JWKS         string   `json:"jwks_uri"`
		Algs         []string `json:"id_token_signing_alg_values_supported"`
		PKCE         []string `json:"code_challenge_methods_supported"`
		ISSParameter bool     `json:"authorization_response_iss_parameter_supported"`
	}
	if err := provider.Claims(&meta); err != nil {
		t.Fatal(err)
	}
	if meta.Issuer != p.issuer || meta.JWKS != p.issuer+"/jwks" || len(meta.Algs) != 1 || meta.Algs[0] != "RS256" ||
		len(meta.PKCE) != 1 || meta.PKCE[0] != "S256" || !meta.ISSParameter {
		t.Fatalf("discovery %+v", meta)
	}
	resp, err := http.Get(p.issuer + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"issuer":"`+p.issuer+`"`) {
		t.Fatalf("RFC 8414 metadata: %d %s", resp.StatusCode, body)
	}
	// A wrong issuer is refused by go-oidc.
	if _, err := oidc.NewProvider(ctx, p.ts.URL+"/api/v1"); err == nil {
		t.Fatalf("discovery under another issuer succeeded")
	}
}
