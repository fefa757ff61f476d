package apikey_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/apikey"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/middleware"
)

func newAuthenticator(t *testing.T, v apikey.Verifier, cfg apikey.AuthenticatorConfig) *apikey.Authenticator {
	t.Helper()
	a, err := apikey.NewAuthenticator(v, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAuthenticatorSources(t *testing.T) {
	e := newEnv(t)
	plain, _ := e.create(t, e.alice, "predictions:read")
	other, _ := e.create(t, e.bob, "alerts:read")
	const jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1LWFsaWNlIn0.c2lnbmF0dXJl"

	type want int
	const (
		wantAlice   want = iota
		wantNone         // auth.ErrNoCredentials exactly, so the chain moves on
		wantInvalid      // *auth.Error invalid_token
	)
	tests := []struct {
		name   string
		cfg    apikey.AuthenticatorConfig
		header http.Header
		query  string
		want   want
	}{
		{"X-API-Key header", apikey.AuthenticatorConfig{}, http.Header{"X-Api-Key": {plain}}, "", wantAlice},
		{"bearer token with the key prefix", apikey.AuthenticatorConfig{}, http.Header{"Authorization": {"Bearer " + plain}}, "", wantAlice},
		{"bearer scheme in lower case", apikey.AuthenticatorConfig{}, http.Header{"Authorization": {"bearer " + plain}}, "", wantAlice},
		{"bearer JWT is left to the next authenticator", apikey.AuthenticatorConfig{}, http.Header{"Authorization": {"Bearer " + jwt}}, "", wantNone},
		{"basic credentials are left alone", apikey.AuthenticatorConfig{}, http.Header{"Authorization": {"Basic YWxpY2U6cHc="}}, "", wantNone},
		{"no credential at all", apikey.AuthenticatorConfig{}, nil, "", wantNone},
		{"empty X-API-Key header", apikey.AuthenticatorConfig{}, http.Header{"X-Api-Key": {""}}, "", wantNone},
		{"key in query ignored by default", apikey.AuthenticatorConfig{}, nil, "api_key=" + plain, wantNone},
		{"key in query when insecurely allowed", apikey.AuthenticatorConfig{InsecureAllowQueryParam: true}, nil, "api_key=" + plain, wantAlice},
		{"custom query parameter", apikey.AuthenticatorConfig{InsecureAllowQueryParam: true, QueryParam: "k"}, nil, "k=" + plain, wantAlice},
		{"repeated query parameter", apikey.AuthenticatorConfig{InsecureAllowQueryParam: true}, nil, "api_key=" + plain + "&api_key=" + plain, wantInvalid},
		{"custom header name", apikey.AuthenticatorConfig{Header: "x-plant-key"}, http.Header{"X-Plant-Key": {plain}}, "", wantAlice},
		{"default header unread under a custom name", apikey.AuthenticatorConfig{Header: "X-Plant-Key"}, http.Header{"X-Api-Key": {plain}}, "", wantNone},
		{"X-API-Key with a JWT bearer beside it", apikey.AuthenticatorConfig{}, http.Header{"X-Api-Key": {plain}, "Authorization": {"Bearer " + jwt}}, "", wantAlice},
		{"two keys: header and bearer", apikey.AuthenticatorConfig{}, http.Header{"X-Api-Key": {other}, "Authorization": {"Bearer " + plain}}, "", wantInvalid},
		{"same key twice: header and bearer", apikey.AuthenticatorConfig{}, http.Header{"X-Api-Key": {plain}, "Authorization": {"Bearer " + plain}}, "", wantInvalid},
		{"two keys: header and query", apikey.AuthenticatorConfig{InsecureAllowQueryParam: true}, http.Header{"X-Api-Key": {plain}}, "api_key=" + other, wantInvalid},
		{"X-API-Key header repeated", apikey.AuthenticatorConfig{}, http.Header{"X-Api-Key": {plain, other}}, "", wantInvalid},
		{"Authorization repeated, second one ours", apikey.AuthenticatorConfig{}, http.Header{"Authorization": {"Bearer " + jwt, "Bearer " + plain}}, "", wantInvalid},
		{"bearer with our prefix and a bad character", apikey.AuthenticatorConfig{}, http.Header{"Authorization": {"Bearer " + plain + "@"}}, "", wantInvalid},
		{"bearer with our prefix and a bad checksum", apikey.AuthenticatorConfig{}, http.Header{"Authorization": {"Bearer " + plain[:len(plain)-1] + "x"}}, "", wantInvalid},
		{"header with garbage", apikey.AuthenticatorConfig{}, http.Header{"X-Api-Key": {"hunter2"}}, "", wantInvalid},
		{"header with a JWT", apikey.AuthenticatorConfig{}, http.Header{"X-Api-Key": {jwt}}, "", wantInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAuthenticator(t, e.m, tc.cfg)
			r := httptest.NewRequest("GET", "/api/v1/predictions?"+tc.query, nil)
			for k, v := range tc.header {
				r.Header[k] = v
			}
			p, err := a.Authenticate(r)
			switch tc.want {
			case wantAlice:
				if err != nil || p.Subject != "u-alice" || p.Method != auth.MethodAPIKey {
					t.Fatalf("Authenticate = %+v, %v; want alice's key", p, err)
				}
			case wantNone:
				if err != auth.ErrNoCredentials || p != nil {
					t.Fatalf("Authenticate = %+v, %v; want exactly auth.ErrNoCredentials", p, err)
				}
			case wantInvalid:
				if !errors.Is(err, auth.ErrInvalidToken) || p != nil {
					t.Fatalf("Authenticate = %+v, %v; want invalid_token", p, err)
				}
			}
		})
	}
}

func TestNewAuthenticatorRejectsBadConfig(t *testing.T) {
	e := newEnv(t)
	for _, h := range []string{"Authorization", "authorization", "X API Key", "X-Key:"} {
		if _, err := apikey.NewAuthenticator(e.m, apikey.AuthenticatorConfig{Header: h}); err == nil {
			t.Errorf("header %q accepted", h)
		}
	}
	if _, err := apikey.NewAuthenticator(nil, apikey.AuthenticatorConfig{}); err == nil {
		t.Error("nil verifier accepted")
	}
}

// In the chain the key authenticator comes before the JWT one: keys are
// claimed, JWTs pass through, and a store outage is 503, not 401.
func TestChainOrderingWithJWT(t *testing.T) {
	e := newEnv(t, func(c *apikey.Config) { c.Format = apikey.Format{Prefix: "tfx_"} })
	plain, _ := e.create(t, e.alice, "predictions:read")
	jwtCalls := 0
	jwtAuth := auth.AuthenticatorFunc(func(r *http.Request) (*auth.Principal, error) {
		jwtCalls++
		tok, err := auth.BearerToken(r)
		if err != nil {
			return nil, err
		}
		if tok != "header.payload.sig" {
			return nil, auth.NewError(auth.CodeInvalidToken, "")
		}
		return &auth.Principal{Subject: "u-bob", Method: auth.MethodJWT}, nil
	})
	keys := newAuthenticator(t, e.m, apikey.AuthenticatorConfig{})
	h := middleware.Authenticate([]auth.Authenticator{keys, jwtAuth})(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			p, _ := auth.FromContext(r.Context())
			_, _ = w.Write([]byte(p.Subject + " via " + string(p.Method)))
		}))
	do := func(authz string) (int, string) {
		r := httptest.NewRequest("GET", "/api/v1/predictions", nil)
		r.Header.Set("Authorization", authz)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, strings.TrimSpace(w.Body.String())
	}
	tests := []struct {
		name, authz string
		status      int
		body        string
		jwtCalled   bool
	}{
		{"API key as bearer", "Bearer " + plain, 200, "u-alice via api_key", false},
		{"JWT as bearer", "Bearer header.payload.sig", 200, "u-bob via jwt", true},
		{"mistyped API key is not retried as a JWT", "Bearer " + plain[:8] + "Z" + plain[9:], 401, `"invalid_token"`, false},
		{"default prefix is not ours here", "Bearer gk_" + plain[4:], 401, `"invalid_token"`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			jwtCalls = 0
			status, body := do(tc.authz)
			if status != tc.status || !strings.Contains(body, tc.body) {
				t.Fatalf("got %d %s; want %d containing %s", status, body, tc.status, tc.body)
			}
			if (jwtCalls > 0) != tc.jwtCalled {
				t.Fatalf("JWT authenticator called %d times", jwtCalls)
			}
		})
	}
	e.store.failWith(errors.New("db down"))
	if status, body := do("Bearer " + plain); status != http.StatusServiceUnavailable || !strings.Contains(body, "unavailable") ||
		strings.Contains(body, "db down") {
		t.Fatalf("store down: %d %s; want 503 unavailable without internals", status, body)
	}
}
