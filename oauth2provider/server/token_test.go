package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/oauth2provider/server"
)

// TestPKCEKnownAnswer is RFC 7636 Appendix B.
func TestPKCEKnownAnswer(t *testing.T) {
	if got := server.S256Challenge(rfcVerifier); got != rfcChallenge {
		t.Fatalf("S256Challenge(%q) = %q, want %q", rfcVerifier, got, rfcChallenge)
	}
	e := newEnv(t)
	tr := e.redeem(e.code(authorizeQuery(confID, confRedirect)))
	if tr.Status != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("redeem with the RFC verifier: %d %s", tr.Status, tr.Error)
	}
}

// TestPKCE checks every way of getting PKCE wrong.
func TestPKCE(t *testing.T) {
	e := newEnv(t)
	pubRedeem := func(code string, verifier string) tokenResp {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {pubRedirect}, "client_id": {pubID}}
		if verifier != "" {
			form.Set("code_verifier", verifier)
		}
		return e.token(form, "", "")
	}
	t.Run("missing verifier", func(t *testing.T) {
		wantError(t, pubRedeem(e.code(authorizeQuery(pubID, pubRedirect)), ""), 400, server.CodeInvalidGrant)
	})
	t.Run("wrong verifier", func(t *testing.T) {
		wantError(t, pubRedeem(e.code(authorizeQuery(pubID, pubRedirect)), strings.Repeat("A", 43)), 400, server.CodeInvalidGrant)
	})
	t.Run("challenge sent as verifier", func(t *testing.T) {
		wantError(t, pubRedeem(e.code(authorizeQuery(pubID, pubRedirect)), rfcChallenge), 400, server.CodeInvalidGrant)
	})
	t.Run("verifier too short", func(t *testing.T) {
		wantError(t, pubRedeem(e.code(authorizeQuery(pubID, pubRedirect)), "short"), 400, server.CodeInvalidRequest)
	})
	t.Run("downgrade: verifier for a code issued without challenge", func(t *testing.T) {
		code := e.code(authorizeQuery(confID, confRedirect, "code_challenge", "", "code_challenge_method", ""))
		wantError(t, e.redeem(code), 400, server.CodeInvalidGrant)
	})
	t.Run("confidential client without PKCE may redeem without verifier", func(t *testing.T) {
		code := e.code(authorizeQuery(confID, confRedirect, "code_challenge", "", "code_challenge_method", ""))
		if tr := e.redeem(code, "code_verifier", ""); tr.Status != http.StatusOK {
			t.Fatalf("redeem: %d %s", tr.Status, tr.Error)
		}
	})
	t.Run("public client succeeds with the right verifier", func(t *testing.T) {
		tr := pubRedeem(e.code(authorizeQuery(pubID, "http://127.0.0.1:49152/callback")), rfcVerifier)
		if tr.Status == http.StatusOK {
			t.Fatalf("redeemed with a redirect_uri differing in port from the authorization request")
		}
		form := url.Values{"grant_type": {"authorization_code"}, "code": {e.code(authorizeQuery(pubID, "http://127.0.0.1:49152/callback"))},
			"redirect_uri": {"http://127.0.0.1:49152/callback"}, "client_id": {pubID}, "code_verifier": {rfcVerifier}}
		if tr := e.token(form, "", ""); tr.Status != http.StatusOK || tr.RefreshToken == "" {
			t.Fatalf("public redeem: %d %s", tr.Status, tr.Error)
		}
	})
	t.Run("plain accepted only when insecurely allowed", func(t *testing.T) {
		e := newEnv(t, func(c *server.Config) { c.InsecureAllowPlainPKCE = true })
		code := e.code(authorizeQuery(confID, confRedirect, "code_challenge", rfcVerifier, "code_challenge_method", "plain"))
		if tr := e.redeem(code); tr.Status != http.StatusOK {
			t.Fatalf("plain redeem: %d %s", tr.Status, tr.Error)
		}
	})
}

// TestCodeReplayRevokesTokens: the second redemption fails and revokes the
// tokens of the first (RFC 6749 §4.1.2).
func TestCodeReplayRevokesTokens(t *testing.T) {
	e := newEnv(t)
	code := e.code(authorizeQuery(confID, confRedirect, "scope", "predictions:read"))
	first := e.redeem(code)
	if first.Status != http.StatusOK {
		t.Fatalf("first redeem: %d %s", first.Status, first.Error)
	}
	if _, err := e.verify(first.AccessToken); err != nil {
		t.Fatalf("access token before replay: %v", err)
	}
	wantError(t, e.redeem(code), 400, server.CodeInvalidGrant)
	if _, err := e.verify(first.AccessToken); !errors.Is(err, auth.ErrTokenRevoked) {
		t.Fatalf("access token after replay: %v, want token_revoked", err)
	}
	wantError(t, e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}}, confID, e.confSecret), 400, server.CodeInvalidGrant)
	if got := e.events.of(auth.EventTokenRevoked); len(got) == 0 || got[0].Reason != "code_reused" || got[0].Attrs["client_id"] != confID {
		t.Fatalf("token_revoked events %+v", got)
	}
}

// TestCodeConcurrentRedemption: of concurrent redemptions exactly one gets
// tokens, and since the code was replayed, those end revoked too.
func TestCodeConcurrentRedemption(t *testing.T) {
	e := newEnv(t)
	code := e.code(authorizeQuery(confID, confRedirect))
	const n = 20
	var wg sync.WaitGroup
	results := make([]*httptest.ResponseRecorder, n)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {confRedirect}, "code_verifier": {rfcVerifier}}
	for i := range n {
		wg.Go(func() { results[i] = e.post("/token", form, confID, e.confSecret) })
	}
	wg.Wait()
	var winner tokenResp
	wins := 0
	for _, w := range results {
		tr := decodeToken(t, w)
		switch tr.Status {
		case http.StatusOK:
			wins++
			winner = tr
		case http.StatusBadRequest:
			if tr.Error != server.CodeInvalidGrant {
				t.Fatalf("loser got %q", tr.Error)
			}
		default:
			t.Fatalf("status %d %s", tr.Status, tr.Error)
		}
	}
	if wins != 1 {
		t.Fatalf("%d redemptions succeeded, want exactly 1", wins)
	}
	if _, err := e.verify(winner.AccessToken); !errors.Is(err, auth.ErrTokenRevoked) {
		t.Fatalf("the winner's access token after the replays: %v, want token_revoked", err)
	}
}

// TestCodeBinding: a code works only for its client, with its redirect URI,
// before it expires.
func TestCodeBinding(t *testing.T) {
	e := newEnv(t)
	t.Run("code used by another client", func(t *testing.T) {
		code := e.code(authorizeQuery(confID, confRedirect))
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {confRedirect},
			"code_verifier": {rfcVerifier}, "client_id": {postID}, "client_secret": {e.postSecret}}
		wantError(t, e.token(form, "", ""), 400, server.CodeInvalidGrant)
		pub := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {confRedirect},
			"code_verifier": {rfcVerifier}, "client_id": {pubID}}
		wantError(t, e.token(pub, "", ""), 400, server.CodeInvalidGrant)
		if tr := e.redeem(code); tr.Status != http.StatusOK {
			t.Fatalf("the right client after a foreign attempt: %d %s", tr.Status, tr.Error)
		}
	})
	t.Run("redirect_uri differs", func(t *testing.T) {
		code := e.code(authorizeQuery(confID, confRedirect))
		wantError(t, e.redeem(code, "redirect_uri", "https://maint.example/cb?tenant=7"), 400, server.CodeInvalidGrant)
		wantError(t, e.redeem(code, "redirect_uri", ""), 400, server.CodeInvalidGrant)
	})
	t.Run("expired code", func(t *testing.T) {
		code := e.code(authorizeQuery(confID, confRedirect))
		e.clock.Advance(server.DefaultCodeTTL)
		wantError(t, e.redeem(code), 400, server.CodeInvalidGrant)
	})
	t.Run("unknown code", func(t *testing.T) {
		wantError(t, e.redeem("not-a-code"), 400, server.CodeInvalidGrant)
		wantError(t, e.redeem(""), 400, server.CodeInvalidRequest)
	})
	t.Run("refresh token presented as a code", func(t *testing.T) {
		tr := e.login("predictions:read")
		wantError(t, e.redeem(tr.RefreshToken), 400, server.CodeInvalidGrant)
	})
}

func refreshForm(rt string, scope string) url.Values {
	f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	if scope != "" {
		f.Set("scope", scope)
	}
	return f
}

// TestRefreshRotation: every refresh rotates; a reused token ends the grant
// (RFC 9700 §4.14.2).
func TestRefreshRotation(t *testing.T) {
	e := newEnv(t)
	first := e.login("predictions:read alerts:read")
	second := e.token(refreshForm(first.RefreshToken, ""), confID, e.confSecret)
	if second.Status != http.StatusOK || second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Fatalf("refresh: %d %s, rotated=%v", second.Status, second.Error, second.RefreshToken != first.RefreshToken)
	}
	if second.Scope != "predictions:read alerts:read" {
		t.Fatalf("refreshed scope %q", second.Scope)
	}
	if got := e.events.of(auth.EventTokenRefreshed); len(got) != 1 || got[0].Subject != "user-alice" {
		t.Fatalf("token_refreshed events %+v", got)
	}

	// The old refresh token is presented again: reuse.
	wantError(t, e.token(refreshForm(first.RefreshToken, ""), confID, e.confSecret), 400, server.CodeInvalidGrant)
	if got := e.events.of(auth.EventRefreshReuseDetected); len(got) != 1 || got[0].Attrs["client_id"] != confID {
		t.Fatalf("refresh_reuse_detected events %+v", got)
	}
	wantError(t, e.token(refreshForm(second.RefreshToken, ""), confID, e.confSecret), 400, server.CodeInvalidGrant)
	for i, at := range []string{first.AccessToken, second.AccessToken} {
		if _, err := e.verify(at); !errors.Is(err, auth.ErrTokenRevoked) {
			t.Fatalf("access token %d after reuse: %v, want token_revoked", i, err)
		}
	}
}

// TestRefreshForgedTokenRevokesNothing: a token that never existed is
// refused without ending the grant.
func TestRefreshForgedTokenRevokesNothing(t *testing.T) {
	e := newEnv(t)
	first := e.login("predictions:read")
	wantError(t, e.token(refreshForm("forged-"+first.RefreshToken, ""), confID, e.confSecret), 400, server.CodeInvalidGrant)
	if tr := e.token(refreshForm(first.RefreshToken, ""), confID, e.confSecret); tr.Status != http.StatusOK {
		t.Fatalf("refresh after a forged attempt: %d %s", tr.Status, tr.Error)
	}
}

// TestRefreshBinding: a refresh token works only for its client, and the
// scope can only narrow.
func TestRefreshBinding(t *testing.T) {
	e := newEnv(t)
	first := e.login("openid predictions:read alerts:read")
	t.Run("another client", func(t *testing.T) {
		f := refreshForm(first.RefreshToken, "")
		f.Set("client_id", pubID)
		wantError(t, e.token(f, "", ""), 400, server.CodeInvalidGrant)
	})
	t.Run("wider scope", func(t *testing.T) {
		wantError(t, e.token(refreshForm(first.RefreshToken, "predictions:read predictions:write"), confID, e.confSecret), 400, server.CodeInvalidScope)
	})
	var narrowed tokenResp
	t.Run("narrower scope", func(t *testing.T) {
		narrowed = e.token(refreshForm(first.RefreshToken, "alerts:read"), confID, e.confSecret)
		if narrowed.Status != http.StatusOK || narrowed.Scope != "alerts:read" || narrowed.IDToken != "" {
			t.Fatalf("narrowed refresh: %d %s scope %q", narrowed.Status, narrowed.Error, narrowed.Scope)
		}
		claims, err := e.verify(narrowed.AccessToken)
		if err != nil || strings.Join(claims.Scopes, " ") != "alerts:read" || claims.ClientID != confID {
			t.Fatalf("narrowed access token claims %+v, %v", claims, err)
		}
	})
	t.Run("the grant keeps its scope", func(t *testing.T) {
		tr := e.token(refreshForm(narrowed.RefreshToken, ""), confID, e.confSecret)
		if tr.Status != http.StatusOK || tr.Scope != "openid predictions:read alerts:read" || tr.IDToken == "" {
			t.Fatalf("refresh after narrowing: %d %s scope %q", tr.Status, tr.Error, tr.Scope)
		}
	})
	t.Run("grant lifetime ends refreshes", func(t *testing.T) {
		tr := e.login("predictions:read")
		e.clock.Advance(server.DefaultGrantLifetime)
		wantError(t, e.token(refreshForm(tr.RefreshToken, ""), confID, e.confSecret), 400, server.CodeInvalidGrant)
	})
}

// TestRefreshReloadSubject: the host's reload hook refreshes roles and can
// stop a disabled user.
func TestRefreshReloadSubject(t *testing.T) {
	var mu sync.Mutex
	disabled := false
	e := newEnv(t, func(c *server.Config) {
		c.ReloadSubject = func(_ context.Context, g server.Grant) (*auth.Principal, error) {
			mu.Lock()
			defer mu.Unlock()
			if disabled {
				return nil, auth.NewError(auth.CodeInvalidCredentials, "account disabled")
			}
			return &auth.Principal{Subject: g.Subject, Username: "alice", Roles: []string{"operator"}}, nil
		}
	})
	first := e.login("predictions:read")
	second := e.token(refreshForm(first.RefreshToken, ""), confID, e.confSecret)
	claims, err := e.verify(second.AccessToken)
	if err != nil || strings.Join(claims.Roles, ",") != "operator" {
		t.Fatalf("roles after reload: %+v, %v", claims, err)
	}
	mu.Lock()
	disabled = true
	mu.Unlock()
	wantError(t, e.token(refreshForm(second.RefreshToken, ""), confID, e.confSecret), 400, server.CodeInvalidGrant)
}

// TestClientCredentials: confidential clients get a token for themselves,
// with their service roles and scopes; public clients cannot.
func TestClientCredentials(t *testing.T) {
	e := newEnv(t)
	cc := url.Values{"grant_type": {"client_credentials"}}
	tr := e.token(cc, svcID, e.svcSecret)
	if tr.Status != http.StatusOK || tr.RefreshToken != "" || tr.Scope != "predictions:read alerts:read" || tr.TokenType != "Bearer" {
		t.Fatalf("client credentials: %+v", tr)
	}
	r := httptest.NewRequest(http.MethodGet, "https://plant.example/api/v1/alerts", nil)
	r.Header.Set("Authorization", "Bearer "+tr.AccessToken)
	p, err := e.tokens.Authenticate(r)
	if err != nil {
		t.Fatalf("the middleware's authenticator refuses the token: %v", err)
	}
	if p.Subject != svcID || strings.Join(p.Roles, ",") != "reporter" || strings.Join(p.Scopes, " ") != "predictions:read alerts:read" {
		t.Fatalf("principal %+v", p)
	}

	narrowed := url.Values{"grant_type": {"client_credentials"}, "scope": {"alerts:read"}}
	if tr := e.token(narrowed, svcID, e.svcSecret); tr.Status != http.StatusOK || tr.Scope != "alerts:read" {
		t.Fatalf("narrowed: %+v", tr)
	}
	wider := url.Values{"grant_type": {"client_credentials"}, "scope": {"models:deploy"}}
	wantError(t, e.token(wider, svcID, e.svcSecret), 400, server.CodeInvalidScope)

	public := url.Values{"grant_type": {"client_credentials"}, "client_id": {pubID}}
	wantError(t, e.token(public, "", ""), 400, server.CodeUnauthorizedClient)
	wantError(t, e.token(cc, confID, e.confSecret), 400, server.CodeUnauthorizedClient)

	if _, err := e.srv.RegisterClient(t.Context(), server.Client{
		ID: "pub-cc", AuthMethod: server.AuthNone, GrantTypes: []server.GrantType{server.GrantClientCredentials},
	}); !errors.Is(err, server.ErrInvalidClient) {
		t.Fatalf("registering a public client-credentials client: %v", err)
	}
}

// TestClientAuthentication: every wrong way to authenticate is
// invalid_client (401 with a Basic challenge) or invalid_request.
func TestClientAuthentication(t *testing.T) {
	e := newEnv(t)
	cc := func() url.Values { return url.Values{"grant_type": {"client_credentials"}} }
	with := func(extra ...string) url.Values {
		f := cc()
		for i := 0; i+1 < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		return f
	}
	raw := func(authz string) tokenResp {
		r := httptest.NewRequest(http.MethodPost, "https://as.example/token", strings.NewReader(cc().Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Authorization", authz)
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		return decodeToken(t, w)
	}
	cases := []struct {
		name   string
		do     func() tokenResp
		status int
		code   string
	}{
		{"wrong secret with basic", func() tokenResp { return e.token(cc(), svcID, "wrong") }, 401, server.CodeInvalidClient},
		{"unknown client with basic", func() tokenResp { return e.token(cc(), "nobody", e.svcSecret) }, 401, server.CodeInvalidClient},
		{"empty secret with basic", func() tokenResp { return e.token(cc(), svcID, "") }, 401, server.CodeInvalidClient},
		{"another client's secret", func() tokenResp { return e.token(cc(), svcID, e.confSecret) }, 401, server.CodeInvalidClient},
		{"secret in the body for a basic client", func() tokenResp {
			return e.token(with("client_id", svcID, "client_secret", e.svcSecret), "", "")
		}, 401, server.CodeInvalidClient},
		{"basic for a post client", func() tokenResp {
			return e.token(url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, postID, e.postSecret)
		}, 401, server.CodeInvalidClient},
		{"wrong secret with post", func() tokenResp {
			return e.token(url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {postID}, "client_secret": {"wrong"}}, "", "")
		}, 401, server.CodeInvalidClient},
		{"both basic and post", func() tokenResp {
			return e.token(with("client_secret", e.svcSecret), svcID, e.svcSecret)
		}, 400, server.CodeInvalidRequest},
		{"basic with a different client_id in the body", func() tokenResp {
			return e.token(with("client_id", confID), svcID, e.svcSecret)
		}, 401, server.CodeInvalidClient},
		{"confidential client without secret", func() tokenResp { return e.token(with("client_id", svcID), "", "") }, 401, server.CodeInvalidClient},
		{"public client sending a secret", func() tokenResp {
			return e.token(with("client_id", pubID, "client_secret", "guess"), "", "")
		}, 401, server.CodeInvalidClient},
		{"no client at all", func() tokenResp { return e.token(cc(), "", "") }, 401, server.CodeInvalidClient},
		{"secret without client_id", func() tokenResp { return e.token(with("client_secret", e.svcSecret), "", "") }, 401, server.CodeInvalidClient},
		{"bearer instead of basic", func() tokenResp { return raw("Bearer " + e.svcSecret) }, 401, server.CodeInvalidClient},
		{"basic not base64", func() tokenResp { return raw("Basic !!!") }, 401, server.CodeInvalidClient},
		{"basic without colon", func() tokenResp { return raw("Basic c3ZjLXJlcG9ydGVy") }, 401, server.CodeInvalidClient},
		{"basic with bad escape", func() tokenResp { return raw("Basic c3ZjLXJlcG9ydGVyOiV6eg==") }, 401, server.CodeInvalidClient},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := tc.do()
			wantError(t, tr, tc.status, tc.code)
			if tc.status == 401 && !strings.HasPrefix(tr.Header.Get("WWW-Authenticate"), "Basic ") {
				t.Fatalf("401 without a Basic challenge: %v", tr.Header)
			}
		})
	}
	t.Run("secret with reserved characters is form-decoded", func(t *testing.T) {
		secret := "s3cr:t+with/%chars"
		if _, err := e.srv.RegisterClient(t.Context(), server.Client{
			ID: "svc:odd", SecretHash: server.HashClientSecret(secret), GrantTypes: []server.GrantType{server.GrantClientCredentials},
		}); err != nil {
			t.Fatal(err)
		}
		if tr := e.token(cc(), "svc:odd", secret); tr.Status != http.StatusOK {
			t.Fatalf("form-encoded Basic credentials: %d %s", tr.Status, tr.Error)
		}
	})
	t.Run("deleted client", func(t *testing.T) {
		if err := e.store.DeleteClient(t.Context(), svcID); err != nil {
			t.Fatal(err)
		}
		wantError(t, e.token(cc(), svcID, e.svcSecret), 401, server.CodeInvalidClient)
	})
}

// TestTokenRequestErrors: malformed requests and grants that do not exist.
func TestTokenRequestErrors(t *testing.T) {
	e := newEnv(t)
	send := func(method, target, contentType, body string) tokenResp {
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		r.SetBasicAuth(svcID, e.svcSecret)
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		return decodeToken(t, w)
	}
	form := "application/x-www-form-urlencoded"
	cases := []struct {
		name   string
		tr     func() tokenResp
		status int
		code   string
	}{
		{"password grant", func() tokenResp {
			return send("POST", "/token", form, "grant_type=password&username=alice&password=x")
		}, 400, server.CodeUnsupportedGrantType},
		{"implicit as grant type", func() tokenResp { return send("POST", "/token", form, "grant_type=implicit") }, 400, server.CodeUnsupportedGrantType},
		{"device code grant", func() tokenResp {
			return send("POST", "/token", form, "grant_type="+url.QueryEscape("urn:ietf:params:oauth:grant-type:device_code"))
		}, 400, server.CodeUnsupportedGrantType},
		{"grant type in another case", func() tokenResp { return send("POST", "/token", form, "grant_type=Client_Credentials") }, 400, server.CodeUnsupportedGrantType},
		{"missing grant type", func() tokenResp { return send("POST", "/token", form, "scope=alerts:read") }, 400, server.CodeInvalidRequest},
		{"repeated grant type", func() tokenResp {
			return send("POST", "/token", form, "grant_type=client_credentials&grant_type=client_credentials")
		}, 400, server.CodeInvalidRequest},
		{"parameters in the query", func() tokenResp {
			return send("POST", "/token?grant_type=client_credentials", form, "grant_type=client_credentials")
		}, 400, server.CodeInvalidRequest},
		{"JSON body", func() tokenResp {
			return send("POST", "/token", "application/json", `{"grant_type":"client_credentials"}`)
		}, 400, server.CodeInvalidRequest},
		{"no content type", func() tokenResp { return send("POST", "/token", "", "grant_type=client_credentials") }, 400, server.CodeInvalidRequest},
		{"malformed body", func() tokenResp { return send("POST", "/token", form, "grant_type=%zz") }, 400, server.CodeInvalidRequest},
		{"oversized body", func() tokenResp {
			return send("POST", "/token", form, "grant_type=client_credentials&pad="+strings.Repeat("a", 20<<10))
		}, 400, server.CodeInvalidRequest},
		{"GET", func() tokenResp { return send("GET", "/token", "", "") }, 405, server.CodeInvalidRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantError(t, tc.tr(), tc.status, tc.code) })
	}
	t.Run("charset parameter is accepted", func(t *testing.T) {
		if tr := send("POST", "/token", form+"; charset=UTF-8", "grant_type=client_credentials"); tr.Status != 200 {
			t.Fatalf("%d %s", tr.Status, tr.Error)
		}
	})
	t.Run("authorization code grant not allowed for the client", func(t *testing.T) {
		wantError(t, send("POST", "/token", form, "grant_type=authorization_code&code=x"), 400, server.CodeUnauthorizedClient)
	})
	t.Run("refresh grant not allowed for the client", func(t *testing.T) {
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {postID}, "client_secret": {e.postSecret}}
		wantError(t, e.token(f, "", ""), 400, server.CodeUnauthorizedClient)
	})
	t.Run("client without refresh grant gets no refresh token", func(t *testing.T) {
		code := e.code(authorizeQuery(postID, "https://report.example/cb"))
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://report.example/cb"},
			"code_verifier": {rfcVerifier}, "client_id": {postID}, "client_secret": {e.postSecret}}
		if tr := e.token(f, "", ""); tr.Status != 200 || tr.RefreshToken != "" {
			t.Fatalf("%d %s refresh=%q", tr.Status, tr.Error, tr.RefreshToken)
		}
	})
}

// TestAccessTokenNarrowsPrincipal: the middleware's authenticator turns an
// OAuth token into a principal with the user's roles and the granted
// scopes, and an empty grant stays empty (never un-narrowed).
func TestAccessTokenNarrowsPrincipal(t *testing.T) {
	e := newEnv(t)
	tr := e.login("predictions:read")
	r := httptest.NewRequest(http.MethodGet, "https://plant.example/api/v1/predictions", nil)
	r.Header.Set("Authorization", "Bearer "+tr.AccessToken)
	p, err := e.tokens.Authenticate(r)
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != "user-alice" || strings.Join(p.Roles, ",") != "engineer" || strings.Join(p.Scopes, ",") != "predictions:read" {
		t.Fatalf("principal %+v", p)
	}
	if p.Claims["client_id"] != confID {
		t.Fatalf("client_id claim %v", p.Claims["client_id"])
	}

	e.setApprove(func(http.ResponseWriter, *http.Request, server.AuthorizeRequest) (*auth.Principal, bool) {
		p := alice()
		p.Scopes = []string{}
		return p, true
	})
	empty := e.login("predictions:read")
	claims, err := e.verify(empty.AccessToken)
	if err != nil || claims.Scopes == nil || len(claims.Scopes) != 0 {
		t.Fatalf("empty grant scopes %#v, %v: want a present, empty scope", claims.Scopes, err)
	}
}

// TestAccessTokenLifetime: the OAuth token expires with the provider's TTL.
func TestAccessTokenLifetime(t *testing.T) {
	e := newEnv(t)
	tr := e.login("predictions:read")
	if tr.ExpiresIn != int64((15 * time.Minute).Seconds()) {
		t.Fatalf("expires_in %d", tr.ExpiresIn)
	}
	e.clock.Advance(16 * time.Minute)
	if _, err := e.verify(tr.AccessToken); !errors.Is(err, auth.ErrTokenExpired) {
		t.Fatalf("after 16 minutes: %v", err)
	}
}
