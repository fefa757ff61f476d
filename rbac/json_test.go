package rbac_test

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/rbac"
)

// steelplantRoles are the reference server's roles written as Go values; they
// must compile to the same policy as testdata/steelplant.json.
var steelplantRoles = []rbac.Role{
	{Name: "operator", Permissions: []string{"dashboard:read", "predictions:read", "alerts:read", "alerts:acknowledge"}},
	{Name: "supervisor", Inherits: []string{"operator"}, Permissions: []string{"reports:read", "analytics:read", "users:read", "alerts:manage"}},
	{Name: "engineer", Inherits: []string{"supervisor"}, Permissions: []string{"models:read", "models:deploy", "system:configure", "predictions:write"}},
	{Name: "admin", Inherits: []string{"engineer"}, Permissions: []string{"users:write", "users:delete", "system:admin", "api_keys:manage"}},
}

func TestJSONMatchesGoValues(t *testing.T) {
	fromJSON := steelplant(t)
	fromGo := mustNew(t, steelplantRoles...)
	for _, name := range fromGo.Roles() {
		if got, want := fromJSON.RolePermissions(name), fromGo.RolePermissions(name); !slices.Equal(got, want) {
			t.Errorf("%s: JSON %v, Go %v", name, got, want)
		}
		r, _ := fromJSON.Role(name)
		if r.Description == "" {
			t.Errorf("%s: description not loaded", name)
		}
	}
	if !slices.Equal(fromJSON.Roles(), fromGo.Roles()) {
		t.Errorf("roles differ: %v vs %v", fromJSON.Roles(), fromGo.Roles())
	}
}

func TestParseJSONRejects(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want error
		role string
	}{
		{"duplicate role key", `{"admin": {"permissions": ["users:read"]}, "admin": {"permissions": ["*"]}}`, rbac.ErrDuplicateRole, "admin"},
		{"duplicate role key spelt with an escape", `{"admin": {}, "adm\u0069n": {"permissions": ["*"]}}`, rbac.ErrDuplicateRole, "admin"},
		{"duplicate role differing in case", `{"admin": {}, "ADMIN": {"permissions": ["*"]}}`, rbac.ErrDuplicateRole, "ADMIN"},
		{"duplicate permissions member", `{"operator": {"permissions": ["alerts:read"], "permissions": ["*"]}}`, rbac.ErrInvalidJSON, "operator"},
		{"misspelt member", `{"operator": {"permisions": ["alerts:read"]}}`, rbac.ErrInvalidJSON, "operator"},
		{"role is an array", `{"operator": ["alerts:read"]}`, rbac.ErrInvalidJSON, "operator"},
		{"role is null", `{"operator": null}`, rbac.ErrInvalidJSON, "operator"},
		{"permissions is a string", `{"operator": {"permissions": "alerts:read"}}`, rbac.ErrInvalidJSON, "operator"},
		{"permission is a number", `{"operator": {"permissions": [1]}}`, rbac.ErrInvalidJSON, "operator"},
		{"description is an array", `{"operator": {"description": ["x"]}}`, rbac.ErrInvalidJSON, "operator"},
		{"unknown inherited role", `{"supervisor": {"inherits": ["operator"]}}`, rbac.ErrUnknownRole, "supervisor"},
		{"cycle", `{"a": {"inherits": ["b"]}, "b": {"inherits": ["a"]}}`, rbac.ErrCycle, "b"},
		{"malformed permission", `{"reader": {"permissions": ["*:read"]}}`, rbac.ErrInvalidPermission, "reader"},
		{"empty permission", `{"reader": {"permissions": [""]}}`, rbac.ErrInvalidPermission, "reader"},
		{"empty role name", `{"": {"permissions": ["*"]}}`, rbac.ErrInvalidRoleName, ""},
		{"top level array", `[{"operator": {}}]`, rbac.ErrInvalidJSON, ""},
		{"top level null", `null`, rbac.ErrInvalidJSON, ""},
		{"empty input", ``, rbac.ErrInvalidJSON, ""},
		{"truncated", `{"operator": {"permissions": ["alerts:read"]`, rbac.ErrInvalidJSON, ""},
		{"trailing object", `{"operator": {}} {"admin": {"permissions": ["*"]}}`, rbac.ErrInvalidJSON, ""},
		{"trailing garbage", `{"operator": {}} x`, rbac.ErrInvalidJSON, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := rbac.ParseJSON([]byte(tt.doc))
			if p != nil || !errors.Is(err, tt.want) {
				t.Fatalf("ParseJSON = %v, %v; want nil, %v", p, err, tt.want)
			}
			var re *rbac.RoleError
			if tt.role != "" && (!errors.As(err, &re) || re.Role != tt.role) {
				t.Errorf("error %v does not name role %q", err, tt.role)
			}
		})
	}
}

func TestParseJSONAccepts(t *testing.T) {
	p, err := rbac.ParseJSON([]byte(` {"guest": {}, "viewer": {"permissions": null, "inherits": null, "description": null},
		"operator": {"inherits": ["guest", "viewer"], "permissions": ["alerts:read", "alerts:read"]}} `))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Has(principal("operator"), "alerts:read") || len(p.RolePermissions("guest")) != 0 {
		t.Errorf("policy = %v / %v", p.RolePermissions("operator"), p.RolePermissions("guest"))
	}
	if p, err := rbac.ParseJSON([]byte(`{}`)); err != nil || len(p.Roles()) != 0 {
		t.Errorf("empty document: %v, %v", p, err)
	}
}

func TestParseRolesKeepsDocumentOrder(t *testing.T) {
	data, err := os.ReadFile("testdata/steelplant.json")
	if err != nil {
		t.Fatal(err)
	}
	roles, err := rbac.ParseRoles(data)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range roles {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"operator", "supervisor", "engineer", "admin"}) {
		t.Errorf("order = %v", names)
	}
}

func TestMarshalJSONRoundTrip(t *testing.T) {
	p := steelplant(t)
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), `{"admin":{"description":`) {
		t.Errorf("not in name order: %s", data)
	}
	q, err := rbac.ParseJSON(data)
	if err != nil {
		t.Fatalf("ParseJSON(MarshalJSON) = %v\n%s", err, data)
	}
	for _, name := range p.Roles() {
		a, _ := p.Role(name)
		b, _ := q.Role(name)
		if a.Description != b.Description || !slices.Equal(a.Inherits, b.Inherits) ||
			!slices.Equal(a.Permissions, b.Permissions) {
			t.Errorf("%s: %+v became %+v", name, a, b)
		}
	}
}

// FuzzParseJSON feeds arbitrary documents to the policy loader: it must not
// panic, must never return both a policy and an error, and a policy it
// accepts must survive a round trip through MarshalJSON.
func FuzzParseJSON(f *testing.F) {
	data, err := os.ReadFile("testdata/steelplant.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"a": {"inherits": ["b"]}, "b": {"inherits": ["a"]}}`))
	f.Add([]byte(`{"a": {}, "a": {}}`))
	f.Add([]byte(`{"a": {"permissions": ["*", "x:*", "*:x"]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := rbac.ParseJSON(data)
		if (p == nil) == (err == nil) {
			t.Fatalf("ParseJSON = %v, %v", p, err)
		}
		if err != nil {
			return
		}
		out, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := rbac.ParseJSON(out)
		if err != nil {
			t.Fatalf("round trip of %s: %v", out, err)
		}
		for _, name := range p.Roles() {
			if !slices.Equal(p.RolePermissions(name), q.RolePermissions(name)) {
				t.Fatalf("round trip changed role %q", name)
			}
		}
	})
}
