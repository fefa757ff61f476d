package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/gatehouse-auth/gatehouse/oauth2provider/server"
)

// newPlant mounts an authorization server under /api/v1/oauth beside a
// protected API route, as the reference server does.
func newPlant() (*httptest.Server, *server.Server) {
	mux := http.NewServeMux()
	ts := httptest.NewServer(mux)
	issuer := ts.URL + "/api/v1/oauth"

	key, err := jwtprovider.GenerateKey("at-2030", jwtprovider.ES256)
	if err != nil {
		log.Fatal(err)
	}
	revocations := jwtprovider.NewMemoryRevocationStore()
	tokens, err := jwtprovider.New(jwtprovider.Config{
		Issuer: issuer, Audience: []string{ts.URL + "/api"}, Keys: []jwtprovider.Key{key},
		RevocationStore: revocations,
	})
	if err != nil {
		log.Fatal(err)
	}
	srv, err := server.New(server.Config{
		Issuer: issuer, Tokens: tokens, Revocations: revocations,
		Authorize: func(w http.ResponseWriter, r *http.Request, req server.AuthorizeRequest) (*auth.Principal, bool) {
			// The host renders its login and consent pages here.
			http.Error(w, "please log in", http.StatusUnauthorized)
			return nil, false
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("/api/v1/oauth/", http.StripPrefix("/api/v1/oauth", srv.Handler()))
	mux.HandleFunc("GET /api/v1/alerts", func(w http.ResponseWriter, r *http.Request) {
		p, err := tokens.Authenticate(r)
		if err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "alerts for %s (roles %v, scopes %v)", p.Subject, p.Roles, p.Scopes)
	})
	return ts, srv
}

// ExampleServer registers a service client and gets a token with the client
// credentials grant; the API accepts it with the client's service roles,
// narrowed by the granted scope.
func ExampleServer() {
	ts, srv := newPlant()
	defer ts.Close()

	secret, err := srv.RegisterClient(context.Background(), server.Client{
		ID: "svc-reporting", Name: "Reporting tool",
		GrantTypes:   []server.GrantType{server.GrantClientCredentials},
		Scopes:       []string{"alerts:read", "predictions:read"},
		ServiceRoles: []string{"reporter"},
	})
	if err != nil {
		log.Fatal(err)
	}

	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"alerts:read"}}
	req, _ := http.NewRequest(http.MethodPost, srv.Issuer()+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("svc-reporting", secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Scope       string `json:"scope"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Cache-Control"), tok.TokenType, tok.Scope)

	api, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/v1/alerts", nil)
	api.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(api)
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(body))
	// Output:
	// 200 no-store Bearer alerts:read
	// alerts for svc-reporting (roles [reporter], scopes [alerts:read])
}

// Example_openRedirect plays an attacker who sends a user to the
// authorization endpoint with their own redirect URI: the server shows an
// error page instead of redirecting, so the code (or the error) never
// reaches the attacker.
func Example_openRedirect() {
	ts, srv := newPlant()
	defer ts.Close()
	_, err := srv.RegisterClient(context.Background(), server.Client{
		ID: "maint-app", AuthMethod: server.AuthNone,
		RedirectURIs: []string{"https://maint.example/callback"},
		GrantTypes:   []server.GrantType{server.GrantAuthorizationCode},
		Scopes:       []string{"predictions:read"},
	})
	if err != nil {
		log.Fatal(err)
	}
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, uri := range []string{
		"https://maint.example/callback.evil.example",
		"https://maint.example@evil.example/callback",
		"https://maint.example/callback/../../evil",
	} {
		q := url.Values{"response_type": {"code"}, "client_id": {"maint-app"}, "redirect_uri": {uri},
			"code_challenge": {server.S256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")}, "code_challenge_method": {"S256"}}
		resp, err := noRedirects.Get(srv.Issuer() + "/authorize?" + q.Encode())
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Printf("%d redirected=%v\n", resp.StatusCode, resp.Header.Get("Location") != "")
	}
	// Output:
	// 400 redirected=false
	// 400 redirected=false
	// 400 redirected=false
}
