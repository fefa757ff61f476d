package rbac_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/rbac"
)

// The reference server's four roles, each inheriting the one before, loaded
// from the JSON shape hosts write.
func ExampleParseJSON() {
	policy, err := rbac.ParseJSON([]byte(`{
		"operator":   {"description": "Watches the line",
		               "permissions": ["dashboard:read", "predictions:read", "alerts:read", "alerts:acknowledge"]},
		"supervisor": {"inherits": ["operator"],
		               "permissions": ["reports:read", "analytics:read", "users:read", "alerts:manage"]},
		"engineer":   {"inherits": ["supervisor"],
		               "permissions": ["models:read", "models:deploy", "system:configure", "predictions:write"]},
		"admin":      {"inherits": ["engineer"],
		               "permissions": ["users:write", "users:delete", "system:admin", "api_keys:manage"]}
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	admin := &auth.Principal{Subject: "u-1", Roles: []string{"admin"}}
	supervisor := &auth.Principal{Subject: "u-2", Roles: []string{"supervisor"}}
	// An admin's API key, narrowed to reading predictions.
	adminKey := &auth.Principal{Subject: "u-1", Roles: []string{"admin"}, Scopes: []string{"predictions:read"}}

	fmt.Println("admin predictions:read:", policy.Has(admin, "predictions:read"))
	fmt.Println("supervisor models:deploy:", policy.Has(supervisor, "models:deploy"))
	fmt.Println("admin key predictions:read:", policy.Has(adminKey, "predictions:read"))
	fmt.Println("admin key users:delete:", policy.Has(adminKey, "users:delete"))
	fmt.Println("admin has role operator:", policy.HasRole(admin, "operator"))
	fmt.Println("supervisor:", policy.Permissions(supervisor))

	ctx := auth.NewContext(context.Background(), supervisor)
	err = policy.Check(ctx, "models:deploy")
	fmt.Println("check:", errors.Is(err, auth.ErrInsufficientPermissions))
	// Output:
	// admin predictions:read: true
	// supervisor models:deploy: false
	// admin key predictions:read: true
	// admin key users:delete: false
	// admin has role operator: true
	// supervisor: [alerts:acknowledge alerts:manage alerts:read analytics:read dashboard:read predictions:read reports:read users:read]
	// check: true
}

// Wildcards match whole names: "predictions:*" is every action on the
// predictions resource and nothing else.
func ExampleNew_wildcards() {
	policy, err := rbac.New(rbac.Config{Roles: []rbac.Role{
		{Name: "forecaster", Permissions: []string{"predictions:*"}},
		{Name: "root", Permissions: []string{"*"}},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	forecaster := &auth.Principal{Roles: []string{"forecaster"}}
	fmt.Println(policy.Has(forecaster, "predictions:retrain"))
	fmt.Println(policy.Has(forecaster, "predictions_archive:read"))
	fmt.Println(policy.Has(&auth.Principal{Roles: []string{"root"}}, "users:delete"))

	_, err = rbac.New(rbac.Config{Roles: []rbac.Role{
		{Name: "reader", Permissions: []string{"*:read"}},
		{Name: "supervisor", Inherits: []string{"opertor"}},
	}})
	fmt.Println(err)
	// Output:
	// true
	// false
	// true
	// rbac: role "reader": permissions "*:read": invalid permission: no wildcard resource: grant each resource ("reports:read") or everything ("*")
	// rbac: role "supervisor": inherits "opertor": unknown inherited role: no role of that name
}

// A Holder swaps policies while requests are being checked.
func ExampleHolder() {
	v1, _ := rbac.New(rbac.Config{Roles: []rbac.Role{{Name: "operator", Permissions: []string{"alerts:read"}}}})
	v2, _ := rbac.New(rbac.Config{Roles: []rbac.Role{{Name: "operator", Permissions: []string{"alerts:read", "alerts:acknowledge"}}}})
	policy := rbac.NewHolder(v1)
	operator := &auth.Principal{Roles: []string{"operator"}}

	fmt.Println(policy.Has(operator, "alerts:acknowledge"))
	policy.Store(v2) // for example on SIGHUP, after rbac.ParseJSON succeeded
	fmt.Println(policy.Has(operator, "alerts:acknowledge"))
	// Output:
	// false
	// true
}
