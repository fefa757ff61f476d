package rbac_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/rbac"
)

// steelplant loads the reference server's four roles from testdata.
func steelplant(t testing.TB) *rbac.Policy {
	t.Helper()
	data, err := os.ReadFile("testdata/steelplant.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := rbac.ParseJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustNew(t testing.TB, roles ...rbac.Role) *rbac.Policy {
	t.Helper()
	p, err := rbac.New(rbac.Config{Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func principal(roles ...string) *auth.Principal {
	return &auth.Principal{Subject: "user-1", Roles: roles}
}

func scoped(scopes []string, roles ...string) *auth.Principal {
	return &auth.Principal{Subject: "key-1", Roles: roles, Scopes: scopes, Method: auth.MethodAPIKey}
}

func TestSteelplantInheritanceChain(t *testing.T) {
	p := steelplant(t)
	tests := []struct {
		role string
		perm string
		want bool
	}{
		{"operator", "dashboard:read", true},
		{"operator", "alerts:acknowledge", true},
		{"operator", "alerts:manage", false},
		{"operator", "users:read", false},
		{"supervisor", "predictions:read", true}, // from operator
		{"supervisor", "alerts:manage", true},
		{"supervisor", "predictions:write", false},
		{"engineer", "alerts:acknowledge", true}, // two levels up
		{"engineer", "users:read", true},
		{"engineer", "models:deploy", true},
		{"engineer", "users:write", false},
		{"admin", "predictions:read", true}, // three levels up
		{"admin", "models:deploy", true},
		{"admin", "api_keys:manage", true},
		{"admin", "billing:read", false},
		{"admin", "users:*", false}, // holds some user actions, not every one
		{"admin", "*", false},
	}
	for _, tt := range tests {
		if got := p.Has(principal(tt.role), tt.perm); got != tt.want {
			t.Errorf("%s Has(%q) = %v, want %v", tt.role, tt.perm, got, tt.want)
		}
	}
	want := map[string]int{"operator": 4, "supervisor": 8, "engineer": 12, "admin": 16}
	for role, n := range want {
		if got := p.RolePermissions(role); len(got) != n || !slices.IsSorted(got) {
			t.Errorf("RolePermissions(%q) = %v, want %d sorted entries", role, got, n)
		}
	}
	if got := p.Roles(); !slices.Equal(got, []string{"admin", "engineer", "operator", "supervisor"}) {
		t.Errorf("Roles() = %v", got)
	}
}

func TestDiamondAndMultipleInheritance(t *testing.T) {
	p := mustNew(t,
		rbac.Role{Name: "base", Permissions: []string{"dashboard:read"}},
		rbac.Role{Name: "left", Inherits: []string{"base"}, Permissions: []string{"reports:read"}},
		rbac.Role{Name: "right", Inherits: []string{"base"}, Permissions: []string{"models:read"}},
		rbac.Role{Name: "top", Inherits: []string{"left", "right", "base"}, Permissions: []string{"system:admin"}},
		rbac.Role{Name: "auditor", Permissions: []string{"audit:read"}},
	)
	for _, perm := range []string{"dashboard:read", "reports:read", "models:read", "system:admin"} {
		if !p.Has(principal("top"), perm) {
			t.Errorf("top lacks %q", perm)
		}
	}
	if got := p.RolePermissions("top"); !slices.Equal(got, []string{"dashboard:read", "models:read", "reports:read", "system:admin"}) {
		t.Errorf("top's effective permissions (base reached twice) = %v", got)
	}
	if p.Has(principal("left"), "models:read") {
		t.Error("a sibling's permission leaked through the shared parent")
	}
	// Two unrelated roles on one principal: the union.
	two := principal("left", "auditor")
	if !p.Has(two, "audit:read") || !p.Has(two, "reports:read") || p.Has(two, "models:read") {
		t.Error("a principal with two roles does not hold exactly their union")
	}
	for _, r := range []string{"top", "left", "right", "base"} {
		if !p.HasRole(principal("top"), r) {
			t.Errorf("top does not have role %q", r)
		}
	}
	if p.HasRole(principal("left"), "right") || p.HasRole(principal("base"), "top") {
		t.Error("HasRole went down or sideways the hierarchy")
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name  string
		roles []rbac.Role
		want  error
		role  string
		entry string
	}{
		{"unknown inherited role", []rbac.Role{{Name: "supervisor", Inherits: []string{"opertor"}}}, rbac.ErrUnknownRole, "supervisor", "opertor"},
		{"inherits itself", []rbac.Role{{Name: "admin", Inherits: []string{"admin"}}}, rbac.ErrCycle, "admin", "admin"},
		{"two-role cycle", []rbac.Role{{Name: "a", Inherits: []string{"b"}}, {Name: "b", Inherits: []string{"a"}}}, rbac.ErrCycle, "b", "a"},
		{"long cycle behind a diamond", []rbac.Role{
			{Name: "top", Inherits: []string{"l", "r"}}, {Name: "l", Inherits: []string{"base"}},
			{Name: "r", Inherits: []string{"base"}}, {Name: "base", Inherits: []string{"top"}},
		}, rbac.ErrCycle, "base", "top"},
		{"empty permission", []rbac.Role{{Name: "operator", Permissions: []string{"alerts:read", ""}}}, rbac.ErrInvalidPermission, "operator", ""},
		{"permission without action", []rbac.Role{{Name: "operator", Permissions: []string{"alerts"}}}, rbac.ErrInvalidPermission, "operator", "alerts"},
		{"wildcard resource", []rbac.Role{{Name: "reader", Permissions: []string{"*:read"}}}, rbac.ErrInvalidPermission, "reader", "*:read"},
		{"trailing space", []rbac.Role{{Name: "operator", Permissions: []string{"alerts:read "}}}, rbac.ErrInvalidPermission, "operator", "alerts:read "},
		{"duplicate role", []rbac.Role{{Name: "admin"}, {Name: "admin", Permissions: []string{"*"}}}, rbac.ErrDuplicateRole, "admin", ""},
		{"roles differing only in case", []rbac.Role{{Name: "admin"}, {Name: "Admin", Permissions: []string{"*"}}}, rbac.ErrDuplicateRole, "Admin", ""},
		{"empty role name", []rbac.Role{{Name: "", Permissions: []string{"*"}}}, rbac.ErrInvalidRoleName, "", ""},
		{"role name with colon", []rbac.Role{{Name: "admin:all"}}, rbac.ErrInvalidRoleName, "admin:all", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := rbac.New(rbac.Config{Roles: tt.roles})
			if p != nil || !errors.Is(err, tt.want) {
				t.Fatalf("New = %v, %v; want nil, %v", p, err, tt.want)
			}
			var re *rbac.RoleError
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a *RoleError", err)
			}
			if re.Role != tt.role || re.Entry != tt.entry {
				t.Errorf("RoleError names role %q entry %q, want %q %q", re.Role, re.Entry, tt.role, tt.entry)
			}
			if !strings.Contains(err.Error(), `role "`+tt.role+`"`) {
				t.Errorf("message %q does not name the role", err)
			}
		})
	}
}

func TestNewReportsEveryProblemAndCycleAsPath(t *testing.T) {
	_, err := rbac.New(rbac.Config{Roles: []rbac.Role{
		{Name: "a", Inherits: []string{"b"}, Permissions: []string{"x"}},
		{Name: "b", Inherits: []string{"c", "ghost"}},
		{Name: "c", Inherits: []string{"a"}},
	}})
	for _, want := range []error{rbac.ErrInvalidPermission, rbac.ErrUnknownRole, rbac.ErrCycle} {
		if !errors.Is(err, want) {
			t.Errorf("error %v does not report %v", err, want)
		}
	}
	if !strings.Contains(err.Error(), "a -> b -> c -> a") {
		t.Errorf("cycle not shown as a path: %v", err)
	}
}

func TestEmptyPolicyGrantsNothing(t *testing.T) {
	p := mustNew(t)
	if p.Has(principal("admin"), "users:read") || p.HasRole(principal("admin"), "admin") {
		t.Error("an empty policy granted something")
	}
	var nilPolicy *rbac.Policy
	if nilPolicy.Has(principal("admin"), "users:read") || nilPolicy.HasRole(principal("admin"), "admin") ||
		len(nilPolicy.Permissions(principal("admin"))) != 0 || nilPolicy.Roles() != nil {
		t.Error("a nil policy granted something")
	}
	if err := nilPolicy.Check(auth.NewContext(context.Background(), principal("admin")), "users:read"); !errors.Is(err, auth.ErrInsufficientPermissions) {
		t.Errorf("nil policy Check = %v", err)
	}
}

func TestWildcards(t *testing.T) {
	p := mustNew(t,
		rbac.Role{Name: "forecaster", Permissions: []string{"predictions:*"}},
		rbac.Role{Name: "root", Permissions: []string{"*"}},
		rbac.Role{Name: "lead", Inherits: []string{"forecaster"}, Permissions: []string{"reports:read"}},
	)
	tests := []struct {
		name string
		role string
		perm string
		want bool
	}{
		{"resource wildcard grants an action", "forecaster", "predictions:write", true},
		{"resource wildcard grants an action not listed anywhere", "forecaster", "predictions:retrain", true},
		{"resource wildcard stops at the resource name", "forecaster", "predictions_archive:read", false},
		{"resource wildcard is not a prefix match", "forecaster", "predictionsx:read", false},
		{"resource wildcard does not grant a shorter resource", "forecaster", "prediction:read", false},
		{"resource wildcard grants itself", "forecaster", "predictions:*", true},
		{"resource wildcard does not grant everything", "forecaster", "*", false},
		{"resource wildcard is case-sensitive", "forecaster", "Predictions:write", false},
		{"malformed request under a resource wildcard", "forecaster", "predictions:", false},
		{"malformed request with extra colon", "forecaster", "predictions:read:x", false},
		{"inherited resource wildcard", "lead", "predictions:delete", true},
		{"star grants anything well formed", "root", "users:delete", true},
		{"star grants a resource wildcard", "root", "users:*", true},
		{"star grants star", "root", "*", true},
		{"star does not grant the malformed", "root", "users", false},
		{"star does not grant an empty permission", "root", "", false},
		{"star does not grant a wildcard resource", "root", "*:read", false},
		{"star does not grant whitespace", "root", "users:read ", false},
	}
	for _, tt := range tests {
		if got := p.Has(principal(tt.role), tt.perm); got != tt.want {
			t.Errorf("%s: %s Has(%q) = %v, want %v", tt.name, tt.role, tt.perm, got, tt.want)
		}
	}
}

func TestUnknownRolesAndCase(t *testing.T) {
	p := steelplant(t)
	tests := []struct {
		name  string
		roles []string
		perm  string
		want  bool
	}{
		{"no roles", nil, "dashboard:read", false},
		{"unknown role", []string{"superuser"}, "dashboard:read", false},
		{"role in another case", []string{"Admin"}, "users:delete", false},
		{"role in upper case", []string{"OPERATOR"}, "dashboard:read", false},
		{"role with trailing space", []string{"admin "}, "users:delete", false},
		{"empty role name", []string{""}, "dashboard:read", false},
		{"unknown role beside a known one", []string{"superuser", "operator"}, "dashboard:read", true},
		{"unknown role adds nothing", []string{"superuser", "operator"}, "users:delete", false},
		{"permission in another case", []string{"admin"}, "Users:Delete", false},
		{"permission with resource in upper case", []string{"admin"}, "USERS:delete", false},
	}
	for _, tt := range tests {
		if got := p.Has(principal(tt.roles...), tt.perm); got != tt.want {
			t.Errorf("%s: Has(%v, %q) = %v, want %v", tt.name, tt.roles, tt.perm, got, tt.want)
		}
	}
	if p.Has(nil, "dashboard:read") {
		t.Error("nil principal holds a permission")
	}
	if p.HasRole(principal("superuser"), "superuser") {
		t.Error("HasRole true for a role the policy does not define")
	}
}

func TestScopesNarrowTheGrant(t *testing.T) {
	p := mustNew(t,
		rbac.Role{Name: "operator", Permissions: []string{"predictions:read", "alerts:read"}},
		rbac.Role{Name: "engineer", Inherits: []string{"operator"}, Permissions: []string{"predictions:*", "models:deploy"}},
		rbac.Role{Name: "root", Permissions: []string{"*"}},
	)
	tests := []struct {
		name   string
		roles  []string
		scopes []string
		perm   string
		want   bool
	}{
		{"nil scopes do not narrow", []string{"operator"}, nil, "alerts:read", true},
		{"empty scopes grant nothing", []string{"root"}, []string{}, "alerts:read", false},
		{"scope within the grant", []string{"operator"}, []string{"alerts:read"}, "alerts:read", true},
		{"granted but out of scope", []string{"operator"}, []string{"alerts:read"}, "predictions:read", false},
		{"scope cannot add a permission", []string{"operator"}, []string{"models:deploy"}, "models:deploy", false},
		{"star scope cannot add a permission", []string{"operator"}, []string{"*"}, "models:deploy", false},
		{"star scope does not narrow", []string{"engineer"}, []string{"*"}, "models:deploy", true},
		{"wildcard scope narrows to a resource", []string{"engineer"}, []string{"predictions:*"}, "predictions:write", true},
		{"wildcard scope excludes other resources", []string{"engineer"}, []string{"predictions:*"}, "models:deploy", false},
		{"wildcard scope stops at the resource name", []string{"root"}, []string{"predictions:*"}, "predictions_archive:read", false},
		{"concrete scope under a wildcard role", []string{"root"}, []string{"users:read"}, "users:read", true},
		{"concrete scope does not grant the wildcard", []string{"engineer"}, []string{"predictions:read"}, "predictions:*", false},
		{"wildcard scope and wildcard grant", []string{"engineer"}, []string{"predictions:*"}, "predictions:*", true},
		{"malformed scope covers nothing", []string{"root"}, []string{"*:read"}, "users:read", false},
		{"malformed wildcard scope covers nothing", []string{"root"}, []string{"us*:*"}, "users:read", false},
		{"scope in another case", []string{"operator"}, []string{"Alerts:read"}, "alerts:read", false},
		{"unknown role with star scope", []string{"ghost"}, []string{"*"}, "alerts:read", false},
	}
	for _, tt := range tests {
		pr := scoped(tt.scopes, tt.roles...)
		if got := p.Has(pr, tt.perm); got != tt.want {
			t.Errorf("%s: Has(roles %v, scopes %#v, %q) = %v, want %v", tt.name, tt.roles, tt.scopes, tt.perm, got, tt.want)
		}
	}
}

func TestHasRoleWithScopes(t *testing.T) {
	p := steelplant(t)
	admin := p.RolePermissions("admin")
	tests := []struct {
		name   string
		scopes []string
		role   string
		want   bool
	}{
		{"unscoped admin is admin", nil, "admin", true},
		{"unscoped admin is operator", nil, "operator", true},
		{"narrow key does not act as admin", []string{"predictions:read"}, "admin", false},
		{"narrow key does not act as operator", []string{"predictions:read"}, "operator", false},
		{"key covering operator acts as operator", []string{"dashboard:read", "predictions:read", "alerts:*"}, "operator", true},
		{"key covering operator does not act as supervisor", []string{"dashboard:read", "predictions:read", "alerts:*"}, "supervisor", false},
		{"star key acts as admin", []string{"*"}, "admin", true},
		{"key listing every admin permission acts as admin", admin, "admin", true},
		{"empty scopes act as nothing", []string{}, "operator", false},
	}
	for _, tt := range tests {
		if got := p.HasRole(scoped(tt.scopes, "admin"), tt.role); got != tt.want {
			t.Errorf("%s: HasRole(%q) = %v, want %v", tt.name, tt.role, got, tt.want)
		}
	}
	if p.HasRole(principal("supervisor"), "engineer") {
		t.Error("a supervisor has the engineer role")
	}
	if p.HasRole(principal("admin"), "ghost") {
		t.Error("HasRole true for an undefined role")
	}
}

func TestPermissions(t *testing.T) {
	p := mustNew(t,
		rbac.Role{Name: "operator", Permissions: []string{"predictions:read", "alerts:read"}},
		rbac.Role{Name: "forecaster", Inherits: []string{"operator"}, Permissions: []string{"predictions:*"}},
		rbac.Role{Name: "root", Permissions: []string{"*"}},
	)
	tests := []struct {
		name string
		p    *auth.Principal
		want []string
	}{
		{"one role", principal("operator"), []string{"alerts:read", "predictions:read"}},
		{"wildcards listed as granted", principal("forecaster"), []string{"alerts:read", "predictions:*", "predictions:read"}},
		{"union, deduplicated", principal("operator", "forecaster", "ghost"), []string{"alerts:read", "predictions:*", "predictions:read"}},
		{"star", principal("root"), []string{"*"}},
		{"unknown role", principal("ghost"), []string{}},
		{"nil principal", nil, []string{}},
		{"scopes narrow", scoped([]string{"predictions:read", "models:deploy"}, "operator"), []string{"predictions:read"}},
		{"wildcard scope on concrete grant", scoped([]string{"predictions:*"}, "operator"), []string{"predictions:read"}},
		{"concrete scope on wildcard grant", scoped([]string{"predictions:write"}, "forecaster"), []string{"predictions:write"}},
		{"star grant shows the scopes", scoped([]string{"users:read", "alerts:*", "bad scope"}, "root"), []string{"alerts:*", "users:read"}},
		{"star scope shows the grant", scoped([]string{"*"}, "forecaster"), []string{"alerts:read", "predictions:*", "predictions:read"}},
		{"empty scopes", scoped([]string{}, "root"), []string{}},
	}
	for _, tt := range tests {
		got := p.Permissions(tt.p)
		if got == nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: Permissions = %#v, want %#v", tt.name, got, tt.want)
		}
		// Everything listed is held.
		for _, perm := range got {
			if !p.Has(tt.p, perm) {
				t.Errorf("%s: Permissions lists %q but Has denies it", tt.name, perm)
			}
		}
	}
}

func TestCheck(t *testing.T) {
	p := steelplant(t)
	ctx := auth.NewContext(context.Background(), principal("operator"))
	if err := p.Check(ctx, "alerts:read"); err != nil {
		t.Errorf("Check(alerts:read) = %v", err)
	}
	err := p.Check(ctx, "models:deploy")
	var ae *auth.Error
	if !errors.Is(err, auth.ErrInsufficientPermissions) || !errors.As(err, &ae) || ae.Status() != 403 {
		t.Errorf("Check(models:deploy) = %v, want 403 insufficient_permissions", err)
	}
	if strings.Contains(ae.ClientDescription(), "models") {
		t.Errorf("client description %q names the permission", ae.ClientDescription())
	}
	err = p.Check(context.Background(), "alerts:read")
	if !errors.Is(err, auth.ErrInvalidCredentials) || !errors.Is(err, auth.ErrNoCredentials) {
		t.Errorf("Check without principal = %v, want invalid_credentials wrapping ErrNoCredentials", err)
	}
	err = p.Check(auth.NewContext(context.Background(), nil), "alerts:read")
	if !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("Check with nil principal = %v", err)
	}
}

func TestPolicyIsImmutable(t *testing.T) {
	roles := []rbac.Role{
		{Name: "operator", Description: "ops", Permissions: []string{"alerts:read"}},
		{Name: "supervisor", Inherits: []string{"operator"}, Permissions: []string{"reports:read"}},
	}
	p := mustNew(t, roles...)
	roles[0].Permissions[0] = "*"
	roles[1].Inherits[0] = "ghost"
	if p.Has(principal("operator"), "users:delete") || !p.Has(principal("supervisor"), "alerts:read") {
		t.Error("changing the definition after New changed the policy")
	}
	r, ok := p.Role("operator")
	if !ok || r.Description != "ops" || !slices.Equal(r.Permissions, []string{"alerts:read"}) {
		t.Fatalf("Role(operator) = %+v, %v", r, ok)
	}
	r.Permissions[0] = "*"
	p.RolePermissions("operator")[0] = "*"
	p.Roles()[0] = "admin"
	if p.Has(principal("operator"), "users:delete") || p.Roles()[0] != "operator" {
		t.Error("changing a returned slice changed the policy")
	}
	if _, ok := p.Role("ghost"); ok {
		t.Error("Role(ghost) found")
	}
	if p.RolePermissions("ghost") != nil {
		t.Error("RolePermissions(ghost) not nil")
	}
}

func TestHasDoesNotAllocate(t *testing.T) {
	p := mustNew(t,
		rbac.Role{Name: "operator", Permissions: []string{"predictions:read"}},
		rbac.Role{Name: "admin", Inherits: []string{"operator"}, Permissions: []string{"users:*"}},
		rbac.Role{Name: "root", Permissions: []string{"*"}},
	)
	tests := []struct {
		name string
		p    *auth.Principal
		perm string
		want bool
	}{
		{"inherited", principal("admin"), "predictions:read", true},
		{"denied", principal("operator"), "users:delete", false},
		{"resource wildcard", principal("admin"), "users:delete", true},
		{"star", principal("root"), "anything:goes", true},
		{"unknown role first", principal("ghost", "admin"), "predictions:read", true},
		{"scoped", scoped([]string{"alerts:read", "users:*"}, "admin"), "users:delete", true},
		{"scoped out", scoped([]string{"alerts:read"}, "admin"), "users:delete", false},
	}
	for _, tt := range tests {
		var got bool
		allocs := testing.AllocsPerRun(100, func() { got = p.Has(tt.p, tt.perm) })
		if got != tt.want {
			t.Errorf("%s: Has = %v, want %v", tt.name, got, tt.want)
		}
		if allocs != 0 {
			t.Errorf("%s: Has allocates %v times", tt.name, allocs)
		}
	}
	h := rbac.NewHolder(p)
	admin := principal("admin")
	if allocs := testing.AllocsPerRun(100, func() { h.Has(admin, "predictions:read") }); allocs != 0 {
		t.Errorf("Holder.Has allocates %v times", allocs)
	}
}
