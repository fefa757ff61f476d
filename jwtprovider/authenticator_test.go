package jwtprovider_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

func TestAuthenticatePrincipal(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	mfaAt := f.clock.Now().Add(-time.Minute)
	tok, err := f.p.Issue(ctx, jwtprovider.Subject{
		ID: "user-7", Username: "ada", Email: "ada@example.com", Roles: []string{"engineer"},
		MFA:    auth.MFAState{Verified: true, VerifiedAt: mfaAt, Methods: []string{"pwd", "otp"}},
		Custom: map[string]any{"department": "rolling-mill"},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/api/v1/predictions", nil)
	r.Header.Set("Authorization", "Bearer "+tok.Value)
	p, err := f.p.Authenticate(r)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if p.Subject != "user-7" || p.Username != "ada" || p.Email != "ada@example.com" || !slices.Equal(p.Roles, []string{"engineer"}) ||
		p.Scopes != nil || p.Method != auth.MethodJWT || p.CredentialID != tok.ID || !p.ExpiresAt.Equal(tok.ExpiresAt) {
		t.Fatalf("principal %+v", p)
	}
	if !p.MFA.Verified || !p.MFA.VerifiedAt.Equal(mfaAt.Truncate(time.Second)) || !slices.Contains(p.MFA.Methods, "otp") {
		t.Fatalf("principal MFA %+v", p.MFA)
	}
	if p.Claims["department"] != "rolling-mill" || p.Claims["sub"] != "user-7" || p.Claims["iss"] != testIssuer {
		t.Fatalf("principal claims %v", p.Claims)
	}
	// Each call gets its own principal value.
	p.Subject = "admin"
	p2, err := f.p.Authenticate(r)
	if err != nil || p2.Subject != "user-7" {
		t.Fatalf("a caller's change leaked into the next principal: %+v, %v", p2, err)
	}
	if f.p.Method() != auth.MethodJWT {
		t.Fatalf("Method() = %q", f.p.Method())
	}
}

func TestAuthenticateCredentialSources(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *jwtprovider.Config) { c.CookieName = "gh_at" })
	plain := newFixture(t, nil) // no cookie configured
	tok, _ := f.p.Issue(ctx, jwtprovider.Subject{ID: "u"})
	ptok, _ := plain.p.Issue(ctx, jwtprovider.Subject{ID: "u"})

	type req func() *http.Request
	get := func(target string, hdr ...string) req {
		return func() *http.Request {
			r := httptest.NewRequest("GET", target, nil)
			for i := 0; i+1 < len(hdr); i += 2 {
				r.Header.Add(hdr[i], hdr[i+1])
			}
			return r
		}
	}
	q := url.Values{"access_token": {tok.Value}}.Encode()
	tests := []struct {
		name string
		p    *jwtprovider.Provider
		r    req
		want error // nil: authenticated
	}{
		{"bearer header", f.p, get("/", "Authorization", "Bearer "+tok.Value), nil},
		{"lower-case scheme", f.p, get("/", "Authorization", "bearer "+tok.Value), nil},
		{"upper-case scheme", f.p, get("/", "Authorization", "BEARER "+tok.Value), nil},
		{"no credentials", f.p, get("/"), auth.ErrNoCredentials},
		{"basic credentials are someone else's", f.p, get("/", "Authorization", "Basic dXNlcjpwYXNz"), auth.ErrNoCredentials},
		{"token in the URL query is ignored", f.p, get("/?" + q), auth.ErrNoCredentials},
		{"token in a form body is ignored", f.p, func() *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader(q))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, auth.ErrNoCredentials},
		{"API-key-looking bearer value is ours and invalid", f.p, get("/", "Authorization", "Bearer gk_live_abcdef0123456789"), auth.ErrInvalidToken},
		{"two Authorization headers", f.p, get("/", "Authorization", "Bearer "+tok.Value, "Authorization", "Bearer "+tok.Value), auth.ErrInvalidToken},
		{"bearer with bad characters", f.p, get("/", "Authorization", "Bearer a,b"), auth.ErrInvalidToken},
		{"cookie", f.p, get("/", "Cookie", "gh_at="+tok.Value), nil},
		{"two cookies with the name (cookie tossing)", f.p, get("/", "Cookie", "gh_at="+tok.Value+"; gh_at="+tok.Value), auth.ErrInvalidToken},
		{"header wins over a bad cookie", f.p, get("/", "Authorization", "Bearer "+tok.Value, "Cookie", "gh_at=junk"), nil},
		{"a bad cookie is a bad token", f.p, get("/", "Cookie", "gh_at=not.a.token"), auth.ErrInvalidToken},
		{"basic header with a cookie leaves the request to basic", f.p, get("/", "Authorization", "Basic dXNlcjpwYXNz", "Cookie", "gh_at="+tok.Value), auth.ErrNoCredentials},
		{"cookie ignored when not configured", plain.p, get("/", "Cookie", "gh_at="+ptok.Value), auth.ErrNoCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.p.Authenticate(tc.r())
			if tc.want == nil {
				if err != nil || p == nil {
					t.Fatalf("Authenticate = %v, %v", p, err)
				}
				return
			}
			if p != nil || !errors.Is(err, tc.want) {
				t.Fatalf("Authenticate = %v, %v; want %v", p, err, tc.want)
			}
		})
	}
}

func TestAuthenticateExpiredAndRevoked(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	tok, _ := f.p.Issue(ctx, jwtprovider.Subject{ID: "u"})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok.Value)
	r = r.WithContext(auth.WithRequestMeta(r.Context(), auth.RequestMeta{RequestID: "req-1", ClientIP: "203.0.113.9"}))
	if err := f.p.Revoke(ctx, tok.Value); err != nil {
		t.Fatal(err)
	}
	if _, err := f.p.Authenticate(r); !errors.Is(err, auth.ErrTokenRevoked) {
		t.Fatalf("revoked: %v", err)
	}
	tok2, _ := f.p.Issue(ctx, jwtprovider.Subject{ID: "u"})
	r.Header.Set("Authorization", "Bearer "+tok2.Value)
	f.clock.Advance(jwtprovider.DefaultAccessTTL + jwtprovider.DefaultLeeway)
	if _, err := f.p.Authenticate(r); !errors.Is(err, auth.ErrTokenExpired) {
		t.Fatalf("expired: %v", err)
	}
	ev := f.events.of(auth.EventTokenExpired)
	if len(ev) != 1 || ev[0].RequestID != "req-1" || ev[0].ClientIP != "203.0.113.9" || ev[0].Subject != "u" {
		t.Fatalf("token_expired events %+v", ev)
	}
}

func TestTokenInfo(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	tok, _ := f.p.Issue(ctx, jwtprovider.Subject{ID: "client-9", Scopes: []string{"alerts:read"}})
	info, err := f.p.TokenInfo(ctx, tok.Value)
	if err != nil {
		t.Fatal(err)
	}
	want := jwtprovider.TokenInfo{ID: tok.ID, IssuedAt: tok.IssuedAt, ExpiresAt: tok.ExpiresAt, Subject: "client-9",
		TokenType: jwtprovider.AccessToken, Scopes: []string{"alerts:read"}}
	if !jsonEqual(info, want) {
		t.Fatalf("TokenInfo %+v, want %+v", info, want)
	}
	raw, _ := json.Marshal(info)
	var shape map[string]any
	if err := json.Unmarshal(raw, &shape); err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(shape, map[string]any{"jti": tok.ID, "issued_at": "2030-01-02T03:04:05Z", "expires_at": "2030-01-02T03:19:05Z",
		"subject": "client-9", "token_type": "access", "scopes": []string{"alerts:read"}}) {
		t.Fatalf("TokenInfo JSON shape changed: %+v", info)
	}
	if _, err := f.p.TokenInfo(ctx, "junk"); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("TokenInfo(junk): %v", err)
	}
}
