package middleware_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/middleware"
	"github.com/gatehouse-auth/gatehouse/rbac"
)

// Routes of the reference server protected by permissions. An operator may
// read predictions but not write them; an engineer may do both. The client
// learns only the error code; the permission_denied event tells the audit
// log which permission was missing.
func ExampleAuthorizer() {
	policy, err := rbac.ParseJSON([]byte(`{
		"operator": {"permissions": ["dashboard:read", "predictions:read", "alerts:read", "alerts:acknowledge"]},
		"supervisor": {"inherits": ["operator"], "permissions": ["reports:read", "analytics:read", "users:read", "alerts:manage"]},
		"engineer": {"inherits": ["supervisor"], "permissions": ["models:read", "models:deploy", "system:configure", "predictions:write"]}
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	// A stand-in for the JWT authenticator: two known tokens.
	users := map[string]*auth.Principal{
		"operator-token": {Subject: "u-1", Username: "operator_001", Roles: []string{"operator"}, Method: auth.MethodJWT},
		"engineer-token": {Subject: "u-2", Username: "engineer_001", Roles: []string{"engineer"}, Method: auth.MethodJWT},
	}
	tokens := auth.AuthenticatorFunc(func(r *http.Request) (*auth.Principal, error) {
		tok, err := auth.BearerToken(r)
		if err != nil {
			return nil, err
		}
		if p, ok := users[tok]; ok {
			return p, nil
		}
		return nil, auth.NewError(auth.CodeInvalidToken, "")
	})
	audit := auth.EmitterFunc(func(e auth.Event) {
		fmt.Printf("  event %s: %s lacks %s\n", e.Type, e.Username, e.Attrs["permission"])
	})

	authz := middleware.NewAuthorizer(policy, middleware.AuthorizerConfig{Events: audit})
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/predictions", authz.RequirePermission("predictions:read")(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "[]") })))
	mux.Handle("POST /api/v1/predictions", authz.RequirePermission("predictions:write")(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })))
	srv := httptest.NewServer(middleware.Authenticate([]auth.Authenticator{tokens})(mux))
	defer srv.Close()

	do := func(method, token string) {
		req, _ := http.NewRequest(method, srv.URL+"/api/v1/predictions", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Printf("%s %s -> %d %s\n", method, token, resp.StatusCode, bytes.TrimSpace(body))
	}
	do("GET", "operator-token")
	do("POST", "operator-token")
	do("POST", "engineer-token")
	// Output:
	// GET operator-token -> 200 []
	//   event permission_denied: operator_001 lacks predictions:write
	// POST operator-token -> 403 {"error":"insufficient_permissions","error_description":"insufficient permissions"}
	// POST engineer-token -> 201
}
