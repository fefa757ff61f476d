package oauth2provider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/oauth2provider"
)

// A plant logs its engineers in through the corporate IdP: members of the
// IdP group "Engineering" become local engineers. A callback link crafted by
// an attacker (a code and state of the attacker's own login, opened in the
// victim's browser) is refused, because the victim's browser holds no flow
// cookie with that state.
func Example() {
	idp := startFakeIdP(newClock()) // a small OpenID Connect provider on httptest
	defer idp.srv.Close()

	mux := http.NewServeMux()
	app := httptest.NewTLSServer(mux)
	defer app.Close()
	idp.redirectURI = app.URL + "/auth/callback"

	cfg := oauth2provider.OIDC("corp-sso", idp.URL())
	cfg.ClientID, cfg.ClientSecret = "steelplant", "s3cret-of-the-client"
	cfg.RedirectURL = app.URL + "/auth/callback"
	cfg.GroupRoleMapping = map[string]string{"Engineering": "engineer", "Operations": "operator"}
	cfg.CookieKey = []byte("an example key of 32 bytes or more!")
	cfg.HTTPClient = idp.srv.Client() // trusts the test IdP's certificate
	cfg.Accounts = oauth2provider.AccountsFunc(func(_ context.Context, id oauth2provider.Identity) (*auth.Principal, error) {
		// Find or create the local user keyed by (id.Issuer, id.Subject).
		return &auth.Principal{Subject: "u-42", Username: id.Username, Roles: id.Roles}, nil
	})
	cfg.OnLogin = func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		// Start a session or issue tokens here.
		return json.NewEncoder(w).Encode(map[string]any{"user": p.Username, "roles": p.Roles})
	}
	cfg.Events = auth.EmitterFunc(func(e auth.Event) {
		fmt.Printf("event %s method=%s idp=%s reason=%q\n", e.Type, e.Method, e.Attrs["idp"], e.Reason)
	})
	p, err := oauth2provider.New(cfg)
	if err != nil {
		panic(err)
	}
	mux.Handle("/auth/login", p.LoginHandler())
	mux.Handle("/auth/callback", p.CallbackHandler())

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Transport: idp.srv.Client().Transport, Jar: jar}
	show := func(what, url string) {
		resp, err := browser.Get(url)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Printf("%s: %d %s", what, resp.StatusCode, body)
	}

	show("login", app.URL+"/auth/login") // follows the redirects to the IdP and back
	show("crafted callback", app.URL+"/auth/callback?code=attackers-code&state=attackers-state")
	// Output:
	// event login_success method=oauth2 idp=corp-sso reason=""
	// login: 200 {"roles":["engineer"],"user":"ada"}
	// event login_failure method=oauth2 idp=corp-sso reason="flow_missing"
	// crafted callback: 400 {"error":"invalid_request","error_description":"the login flow is missing or has expired; start again"}
}
