package apikey_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/apikey"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/middleware"
)

// directory is a host's user store seen through apikey.OwnerLookup.
type directory map[string]*auth.Principal

func (d directory) Owner(_ context.Context, id string) (*auth.Principal, error) {
	if p, ok := d[id]; ok {
		return p, nil
	}
	return nil, apikey.ErrNotFound
}

// roles is a tiny stand-in for an rbac.Policy: the permissions of each role,
// narrowed by the principal's scopes.
type roles map[string][]string

func (r roles) Has(p *auth.Principal, perm string) bool {
	if p.Scopes != nil && !slices.Contains(p.Scopes, perm) {
		return false
	}
	for _, role := range p.Roles {
		if slices.Contains(r[role], perm) {
			return true
		}
	}
	return false
}

// A SCADA integration gets a read-only key; a mistyped copy is rejected
// without a store lookup, a revoked key stops at once, and an operator
// cannot mint a key with a permission it lacks.
func Example() {
	users := directory{
		"u-17": {Subject: "u-17", Username: "supervisor_03", Roles: []string{"supervisor"}},
		"u-42": {Subject: "u-42", Username: "operator_001", Roles: []string{"operator"}},
	}
	policy := roles{
		"operator":   {"predictions:read"},
		"supervisor": {"predictions:read", "predictions:write"},
	}
	keys, err := apikey.New(apikey.Config{
		Owners:  users,
		Policy:  policy,
		HashKey: []byte("server secret from the vault, 32+ bytes"),
		Format:  apikey.Format{Prefix: "tfx_"},
	})
	if err != nil {
		panic(err)
	}
	defer keys.Close(context.Background())

	ctx := context.Background()
	key, rec, err := keys.Create(ctx, users["u-17"], apikey.Params{
		Name:        "SCADA line 3",
		Permissions: []string{"predictions:read"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("prefix:", strings.HasPrefix(key, "tfx_"), "display:", len(rec.Prefix), "chars")

	_, _, err = keys.Create(ctx, users["u-42"], apikey.Params{
		Name:        "escalation attempt",
		Permissions: []string{"predictions:write"},
	})
	fmt.Println("operator asks for write:", auth.AsError(err).Code)

	authn, err := apikey.NewAuthenticator(keys, apikey.AuthenticatorConfig{})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(middleware.Authenticate([]auth.Authenticator{authn})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, _ := auth.FromContext(r.Context())
			fmt.Fprintf(w, "predictions for %s, scopes %v", p.Username, p.Scopes)
		})))
	defer srv.Close()

	get := func(label, header, value string) {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/predictions", nil)
		req.Header.Set(header, value)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Printf("%s: %d %s\n", label, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	typo := byte('a')
	if key[10] == typo {
		typo = 'b'
	}
	mistyped := key[:10] + string(typo) + key[11:]
	get("X-API-Key", "X-API-Key", key)
	get("bearer", "Authorization", "Bearer "+key)
	get("mistyped", "X-API-Key", mistyped)
	if err := keys.Revoke(ctx, rec.ID); err != nil {
		panic(err)
	}
	get("revoked", "X-API-Key", key)
	// Output:
	// prefix: true display: 8 chars
	// operator asks for write: insufficient_permissions
	// X-API-Key: 200 predictions for supervisor_03, scopes [predictions:read]
	// bearer: 200 predictions for supervisor_03, scopes [predictions:read]
	// mistyped: 401 {"error":"invalid_token","error_description":"invalid API key"}
	// revoked: 401 {"error":"invalid_token","error_description":"invalid API key"}
}
