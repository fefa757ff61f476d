package server

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzParseAuthorizeQuery feeds the authorization request parser attacker
// queries: it must not panic, and whatever it accepts must be well formed.
func FuzzParseAuthorizeQuery(f *testing.F) {
	for _, seed := range []string{
		"response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fa.example%2Fcb&state=xyz&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
		"response_type=token&client_id=app&redirect_uri=x",
		"client_id=app&client_id=evil&redirect_uri=x",
		"client_id=app&redirect_uri=%zz",
		"client_id=app&redirect_uri=x&scope=openid++a%09b&nonce=n",
		"client_id=app&redirect_uri=x&code_challenge=abc",
		"client_id=a%00b&redirect_uri=x",
		"client_id=app&redirect_uri=x&request=e30.e30.&response_mode=form_post",
		"",
		";;&&==",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, fatal := parseAuthorizeQuery(raw)
		if fatal != nil {
			if fatal.code == "" || fatal.status == 0 {
				t.Fatalf("fatal error without code or status: %+v", fatal)
			}
			return
		}
		if !validClientID(p.clientID) || p.redirectURI == "" || len(p.state) > maxStateLen {
			t.Fatalf("accepted client_id %q redirect_uri %q state of %d bytes", p.clientID, p.redirectURI, len(p.state))
		}
		for _, sc := range p.scopes {
			if !validScopeToken(sc) {
				t.Fatalf("accepted scope token %q", sc)
			}
		}
		if p.err != nil {
			return
		}
		if p.responseType != "code" {
			t.Fatalf("accepted response_type %q", p.responseType)
		}
		switch p.challengeMethod {
		case "":
			if p.challenge != "" {
				t.Fatalf("challenge without method")
			}
		case pkceS256:
			if len(p.challenge) != 43 || !pkceChars(p.challenge) {
				t.Fatalf("accepted S256 challenge %q", p.challenge)
			}
		case pkcePlain:
			if !validVerifier(p.challenge) {
				t.Fatalf("accepted plain challenge %q", p.challenge)
			}
		default:
			t.Fatalf("accepted method %q", p.challengeMethod)
		}
		if len(p.nonce) > maxNonceLen {
			t.Fatalf("accepted nonce of %d bytes", len(p.nonce))
		}
	})
}

// FuzzParseTokenRequest feeds the token request parser attacker bodies.
func FuzzParseTokenRequest(f *testing.F) {
	form := "application/x-www-form-urlencoded"
	for _, seed := range [][2]string{
		{form, "grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fa.example%2Fcb&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"},
		{form, "grant_type=refresh_token&refresh_token=x&scope=a+b"},
		{form, "grant_type=client_credentials&grant_type=password"},
		{form + "; charset=utf-8", "grant_type=client_credentials&client_id=a&client_secret=b"},
		{"application/json", `{"grant_type":"password"}`},
		{form, "code_verifier=short"},
		{form, "scope=%22"},
		{"", ""},
		{"text/plain;;", "%"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, contentType, body string) {
		req, e := parseTokenRequest(contentType, []byte(body))
		if e != nil {
			if e.code != CodeInvalidRequest && e.code != CodeInvalidScope {
				t.Fatalf("parser error code %q", e.code)
			}
			return
		}
		if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "application/x-www-form-urlencoded") {
			t.Fatalf("accepted content type %q", contentType)
		}
		vals, err := url.ParseQuery(body)
		if err != nil {
			t.Fatalf("accepted a body url.ParseQuery refuses: %v", err)
		}
		for name, vs := range vals {
			if len(vs) > 1 {
				t.Fatalf("accepted repeated %q", name)
			}
		}
		if req.codeVerifier != "" && !validVerifier(req.codeVerifier) {
			t.Fatalf("accepted code_verifier %q", req.codeVerifier)
		}
		for _, sc := range req.scopes {
			if !validScopeToken(sc) {
				t.Fatalf("accepted scope token %q", sc)
			}
		}
	})
}

// FuzzMatchRedirectURI checks that a match is either byte equality or a
// loopback URI differing in the port only.
func FuzzMatchRedirectURI(f *testing.F) {
	for _, seed := range [][2]string{
		{"https://a.example/cb", "https://a.example/cb"},
		{"https://a.example/cb", "https://A.example/cb"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:8080/cb"},
		{"http://127.0.0.1:80/cb", "http://127.0.0.1:8080@evil/cb"},
		{"http://[::1]/cb", "http://[::1]:1/cb"},
		{"http://localhost/cb", "http://localhost.evil/cb"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, registered, requested string) {
		if !matchRedirectURI([]string{registered}, requested) || registered == requested {
			return
		}
		rh, rr, ok1 := splitLoopback(registered)
		qh, qr, ok2 := splitLoopback(requested)
		if !ok1 || !ok2 || rh != qh || rr != qr {
			t.Fatalf("%q matched %q", requested, registered)
		}
		u, err := url.Parse(requested)
		if err != nil {
			return
		}
		if u.User != nil || u.Hostname() != strings.Trim(qh, "[]") {
			t.Fatalf("%q matched %q but parses to host %q user %v", requested, registered, u.Hostname(), u.User)
		}
	})
}
