package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/oauth2provider/server"
)

// TestRedirectURIMustMatchExactly sends authorization requests with
// variants of the registered redirect URIs: every one must be shown an error
// page, never redirected to (RFC 9700 §4.1.3, RFC 6749 §4.1.2.1).
func TestRedirectURIMustMatchExactly(t *testing.T) {
	e := newEnv(t)
	bad := []struct{ name, client, uri string }{
		{"suffix appended to the path", confID, "https://maint.example/callbackx"},
		{"suffix as a new host label", confID, "https://maint.example.evil.example/callback"},
		{"prefix of the path", confID, "https://maint.example/call"},
		{"prefix subdomain", confID, "https://evil.maint.example/callback"},
		{"host in upper case", confID, "https://MAINT.example/callback"},
		{"scheme in upper case", confID, "HTTPS://maint.example/callback"},
		{"path in upper case", confID, "https://maint.example/Callback"},
		{"extra path segment", confID, "https://maint.example/callback/evil"},
		{"trailing slash", confID, "https://maint.example/callback/"},
		{"dot segments", confID, "https://maint.example/x/../callback"},
		{"other path", confID, "https://maint.example/other"},
		{"added query", confID, "https://maint.example/callback?next=https://evil.example"},
		{"changed registered query", confID, "https://maint.example/cb?tenant=8"},
		{"extra query after registered query", confID, "https://maint.example/cb?tenant=7&x=1"},
		{"fragment", confID, "https://maint.example/callback#frag"},
		{"empty fragment", confID, "https://maint.example/callback#"},
		{"userinfo before host", confID, "https://evil.example@maint.example/callback"},
		{"registered host as userinfo", confID, "https://maint.example@evil.example/callback"},
		{"percent-encoded path letter", confID, "https://maint.example/%63allback"},
		{"percent-encoded slash", confID, "https://maint.example%2Fcallback"},
		{"percent-encoded dot in host", confID, "https://maint%2Eexample/callback"},
		{"encoded null", confID, "https://maint.example/callback%00"},
		{"explicit default port", confID, "https://maint.example:443/callback"},
		{"other port on a non-loopback host", confID, "https://maint.example:8443/callback"},
		{"http instead of https", confID, "http://maint.example/callback"},
		{"another client's redirect URI", confID, "https://report.example/cb"},
		{"loopback with another path", pubID, "http://127.0.0.1:5000/callback2"},
		{"loopback with another host", pubID, "http://localhost:5000/callback"},
		{"loopback ipv6 for ipv4", pubID, "http://[::1]:5000/callback"},
		{"loopback host as label prefix", pubID, "http://127.0.0.1.evil.example:5000/callback"},
		{"loopback with userinfo", pubID, "http://127.0.0.1:5000@evil.example/callback"},
		{"loopback port zero", pubID, "http://127.0.0.1:0/callback"},
		{"loopback port too large", pubID, "http://127.0.0.1:70000/callback"},
		{"loopback empty port", pubID, "http://127.0.0.1:/callback"},
		{"loopback leading zero port", pubID, "http://127.0.0.1:08080/callback"},
		{"loopback https", pubID, "https://127.0.0.1:5000/callback"},
		{"loopback with query", pubID, "http://127.0.0.1:5000/callback?x=1"},
		{"loopback encoded path", pubID, "http://127.0.0.1:5000/%63allback"},
		{"private-use scheme with other path", pubID, "com.example.mobile:/cb2"},
		{"private-use scheme in upper case", pubID, "COM.example.mobile:/cb"},
		{"missing", confID, ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			w := e.get("/authorize", authorizeQuery(tc.client, tc.uri))
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400 error page", w.Code)
			}
			if loc := w.Header().Get("Location"); loc != "" {
				t.Fatalf("redirected to %q", loc)
			}
			if !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") || w.Header().Get("X-Frame-Options") != "DENY" {
				t.Fatalf("error page headers %v", w.Header())
			}
		})
	}

	good := []struct{ name, client, uri string }{
		{"registered https", confID, confRedirect},
		{"registered with query", confID, "https://maint.example/cb?tenant=7"},
		{"loopback without port", pubID, pubRedirect},
		{"loopback with ephemeral port", pubID, "http://127.0.0.1:51004/callback"},
		{"loopback with highest port", pubID, "http://127.0.0.1:65535/callback"},
		{"private-use scheme", pubID, "com.example.mobile:/cb"},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			u := location(t, e.get("/authorize", authorizeQuery(tc.client, tc.uri)))
			got := u.String()
			if !strings.HasPrefix(got, tc.uri) || u.Query().Get("code") == "" {
				t.Fatalf("redirect to %q, want a code at %q", got, tc.uri)
			}
		})
	}
	t.Run("registered query is kept", func(t *testing.T) {
		u := location(t, e.get("/authorize", authorizeQuery(confID, "https://maint.example/cb?tenant=7")))
		if u.Query().Get("tenant") != "7" || u.Query().Get("code") == "" {
			t.Fatalf("redirect %s lost the registered query", u)
		}
	})
}

// TestLoopbackRegistrationWithPort: a loopback URI registered with a port
// still accepts any port.
func TestLoopbackRegistrationVariants(t *testing.T) {
	e := newEnv(t)
	_, err := e.srv.RegisterClient(t.Context(), server.Client{
		ID: "cli", AuthMethod: server.AuthNone, GrantTypes: []server.GrantType{server.GrantAuthorizationCode},
		RedirectURIs: []string{"http://localhost:8080/cb", "http://[::1]/cb"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, uri := range []string{"http://localhost:9999/cb", "http://localhost/cb", "http://[::1]:1234/cb"} {
		if u := location(t, e.get("/authorize", authorizeQuery("cli", uri))); u.Query().Get("code") == "" {
			t.Errorf("%s: no code in %s", uri, u)
		}
	}
	if w := e.get("/authorize", authorizeQuery("cli", "http://LOCALHOST:9999/cb")); w.Code != http.StatusBadRequest {
		t.Errorf("upper-case localhost accepted: %d", w.Code)
	}
}

// TestAuthorizeErrorPage: problems with the client or the redirect URI are
// shown to the user, never sent to a redirect URI.
func TestAuthorizeErrorPage(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name string
		raw  string
	}{
		{"unknown client", authorizeQuery("nobody", confRedirect).Encode()},
		{"missing client_id", authorizeQuery("", confRedirect).Encode()},
		{"repeated client_id", authorizeQuery(confID, confRedirect).Encode() + "&client_id=" + postID},
		{"repeated redirect_uri", authorizeQuery(confID, confRedirect).Encode() + "&redirect_uri=" + url.QueryEscape("https://evil.example/")},
		{"malformed query escape", "client_id=" + confID + "&redirect_uri=%zz"},
		{"client_id with a control character", "client_id=maint%0Aapp&redirect_uri=" + url.QueryEscape(confRedirect)},
		{"huge state", authorizeQuery(confID, confRedirect, "state", strings.Repeat("s", 2000)).Encode()},
		{"client_id of a client-credentials client", authorizeQuery(svcID, confRedirect).Encode()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "https://as.example/authorize?"+tc.raw, nil)
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			if w.Code < 400 || w.Header().Get("Location") != "" {
				t.Fatalf("status %d, Location %q: want an error page", w.Code, w.Header().Get("Location"))
			}
			if got := w.Header().Get("Content-Security-Policy"); !strings.Contains(got, "frame-ancestors 'none'") {
				t.Fatalf("CSP %q", got)
			}
			if strings.Contains(w.Body.String(), "<script") || strings.Contains(w.Body.String(), "evil.example") {
				t.Fatalf("error page echoes input: %q", w.Body.String())
			}
		})
	}
	t.Run("host error page hook", func(t *testing.T) {
		var gotCode string
		e := newEnv(t, func(c *server.Config) {
			c.ErrorPage = func(w http.ResponseWriter, r *http.Request, status int, code, description string) {
				gotCode = code
				w.WriteHeader(status)
			}
		})
		w := e.get("/authorize", authorizeQuery("nobody", confRedirect))
		if w.Code != http.StatusBadRequest || gotCode != server.CodeInvalidRequest {
			t.Fatalf("hook saw %q, status %d", gotCode, w.Code)
		}
	})
}

// TestAuthorizeRedirectErrors: once client and redirect URI are valid,
// errors go back to the client with state and iss.
func TestAuthorizeRedirectErrors(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name  string
		q     url.Values
		code  string
		setup func(e *env)
	}{
		{"implicit grant response type", authorizeQuery(confID, confRedirect, "response_type", "token"), server.CodeUnsupportedResponseType, nil},
		{"hybrid response type", authorizeQuery(confID, confRedirect, "response_type", "code id_token"), server.CodeUnsupportedResponseType, nil},
		{"missing response type", authorizeQuery(confID, confRedirect, "response_type", ""), server.CodeInvalidRequest, nil},
		{"fragment response mode", authorizeQuery(confID, confRedirect, "response_mode", "fragment"), server.CodeInvalidRequest, nil},
		{"scope not allowed for the client", authorizeQuery(confID, confRedirect, "scope", "models:deploy"), server.CodeInvalidScope, nil},
		{"malformed scope", authorizeQuery(confID, confRedirect, "scope", "a\"b"), server.CodeInvalidScope, nil},
		{"repeated scope parameter", func() url.Values {
			q := authorizeQuery(confID, confRedirect)
			q["scope"] = []string{"alerts:read", "predictions:read"}
			return q
		}(), server.CodeInvalidRequest, nil},
		{"public client without PKCE", authorizeQuery(pubID, pubRedirect, "code_challenge", "", "code_challenge_method", ""), server.CodeInvalidRequest, nil},
		{"public client with plain PKCE", authorizeQuery(pubID, pubRedirect, "code_challenge", rfcVerifier, "code_challenge_method", "plain"), server.CodeInvalidRequest, nil},
		{"challenge without method means plain", authorizeQuery(confID, confRedirect, "code_challenge_method", ""), server.CodeInvalidRequest, nil},
		{"unknown PKCE method", authorizeQuery(confID, confRedirect, "code_challenge_method", "S512"), server.CodeInvalidRequest, nil},
		{"S256 challenge of wrong length", authorizeQuery(confID, confRedirect, "code_challenge", rfcChallenge+"A"), server.CodeInvalidRequest, nil},
		{"method without challenge", authorizeQuery(confID, confRedirect, "code_challenge", ""), server.CodeInvalidRequest, nil},
		{"request object", authorizeQuery(confID, confRedirect, "request", "eyJ.eyJ.sig"), server.CodeRequestNotSupported, nil},
		{"request_uri", authorizeQuery(confID, confRedirect, "request_uri", "https://evil.example/r"), server.CodeRequestURINotSupported, nil},
		{"user denies", authorizeQuery(confID, confRedirect), server.CodeAccessDenied, func(e *env) {
			e.setApprove(func(http.ResponseWriter, *http.Request, server.AuthorizeRequest) (*auth.Principal, bool) {
				return nil, true
			})
		}},
		{"hook returns a principal without subject", authorizeQuery(confID, confRedirect), server.CodeServerError, func(e *env) {
			e.setApprove(func(http.ResponseWriter, *http.Request, server.AuthorizeRequest) (*auth.Principal, bool) {
				return &auth.Principal{}, true
			})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := e
			if tc.setup != nil {
				e = newEnv(t)
				tc.setup(e)
			}
			w := e.get("/authorize", tc.q)
			if w.Code != http.StatusFound {
				t.Fatalf("status %d, want 302; body %q", w.Code, w.Body.String())
			}
			u := location(t, w)
			q := u.Query()
			if q.Get("error") != tc.code || q.Get("state") != "st-123" || q.Get("iss") != testIssuer || q.Get("code") != "" {
				t.Fatalf("redirect %s: want error %q with state and iss, no code", u, tc.code)
			}
			if !strings.HasPrefix(u.String(), tc.q.Get("redirect_uri")+"?") {
				t.Fatalf("redirected to %s, not the registered URI", u)
			}
		})
	}

	t.Run("client without the authorization code grant", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.srv.RegisterClient(t.Context(), server.Client{
			ID: "cc-with-uri", GrantTypes: []server.GrantType{server.GrantClientCredentials},
			RedirectURIs: []string{"https://cc.example/cb"},
		})
		if err != nil {
			t.Fatal(err)
		}
		u := location(t, e.get("/authorize", authorizeQuery("cc-with-uri", "https://cc.example/cb")))
		if u.Query().Get("error") != server.CodeUnauthorizedClient {
			t.Fatalf("redirect %s, want unauthorized_client", u)
		}
	})
}

// TestAuthorizeSuccess checks the success redirect and what the hook sees.
func TestAuthorizeSuccess(t *testing.T) {
	e := newEnv(t)
	var seen server.AuthorizeRequest
	e.setApprove(func(_ http.ResponseWriter, _ *http.Request, req server.AuthorizeRequest) (*auth.Principal, bool) {
		seen = req
		return alice(), true
	})
	w := e.get("/authorize", authorizeQuery(confID, confRedirect, "scope", "openid predictions:read predictions:read", "nonce", "n-1"))
	u := location(t, w)
	q := u.Query()
	if q.Get("state") != "st-123" || q.Get("iss") != testIssuer || len(q.Get("code")) < 43 || q.Get("error") != "" {
		t.Fatalf("success redirect %s", u)
	}
	if seen.Client.ID != confID || seen.Client.SecretHash != "" || seen.Nonce != "n-1" || seen.State != "st-123" ||
		strings.Join(seen.Scopes, " ") != "openid predictions:read" || seen.CodeChallengeMethod != "S256" {
		t.Fatalf("hook saw %+v", seen)
	}
	t.Run("no scope means every scope of the client", func(t *testing.T) {
		e.get("/authorize", authorizeQuery(confID, confRedirect))
		if len(seen.Scopes) != 6 {
			t.Fatalf("hook saw scopes %v", seen.Scopes)
		}
	})
	t.Run("state is optional", func(t *testing.T) {
		u := location(t, e.get("/authorize", authorizeQuery(confID, confRedirect, "state", "")))
		if _, ok := u.Query()["state"]; ok {
			t.Fatalf("redirect %s has a state", u)
		}
	})
}

// TestAuthorizePageHeaders: the hook's login and consent pages get
// clickjacking protection, a POST back is answered with 303, and
// cross-origin POSTs never reach the hook.
func TestAuthorizePageHeaders(t *testing.T) {
	e := newEnv(t)
	hookCalls := 0
	e.setApprove(func(w http.ResponseWriter, r *http.Request, req server.AuthorizeRequest) (*auth.Principal, bool) {
		hookCalls++
		if r.Method == http.MethodPost && r.PostFormValue("consent") == "yes" {
			return alice(), true
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<form method="post"><button name="consent" value="yes">Allow</button></form>`))
		return nil, false
	})
	q := authorizeQuery(confID, confRedirect)
	w := e.get("/authorize", q)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "<form") {
		t.Fatalf("consent page: %d %q", w.Code, w.Body.String())
	}
	h := w.Header()
	if h.Get("X-Frame-Options") != "DENY" || h.Get("Content-Security-Policy") != "frame-ancestors 'none'" || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("consent page headers %v", h)
	}

	post := func(origin string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "https://as.example/authorize?"+q.Encode(), strings.NewReader("consent=yes"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			r.Header.Set("Origin", origin)
			r.Header.Set("Sec-Fetch-Site", "cross-site")
		} else {
			r.Header.Set("Sec-Fetch-Site", "same-origin")
		}
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		return w
	}
	w = post("")
	if w.Code != http.StatusSeeOther {
		t.Fatalf("after the consent POST: status %d, want 303", w.Code)
	}
	if location(t, w).Query().Get("code") == "" {
		t.Fatalf("303 without code")
	}
	before := hookCalls
	if w := post("https://evil.example"); w.Code != http.StatusForbidden || w.Header().Get("Location") != "" {
		t.Fatalf("cross-origin POST: %d %q", w.Code, w.Header().Get("Location"))
	}
	if hookCalls != before {
		t.Fatalf("the hook ran for a cross-origin POST")
	}
	r := httptest.NewRequest(http.MethodPut, "https://as.example/authorize?"+q.Encode(), nil)
	w = httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("PUT /authorize: %d", w.Code)
	}
}

// TestConsentNarrowsScopes: a principal with scopes (a consent form that
// unchecked some, or an API key) narrows the grant; OpenID scopes stay.
func TestConsentNarrowsScopes(t *testing.T) {
	e := newEnv(t)
	e.setApprove(func(http.ResponseWriter, *http.Request, server.AuthorizeRequest) (*auth.Principal, bool) {
		p := alice()
		p.Scopes = []string{"predictions:read"}
		return p, true
	})
	tr := e.login("openid predictions:read predictions:write")
	if tr.Scope != "openid predictions:read" {
		t.Fatalf("granted scope %q", tr.Scope)
	}
	claims, err := e.verify(tr.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if p := claims.Principal(); strings.Join(p.Scopes, " ") != "openid predictions:read" || p.Subject != "user-alice" {
		t.Fatalf("principal %+v", p)
	}
}
