// Package rbacbench compares the cost of one permission check in Gatehouse's
// compiled RBAC policy with Casbin's RBAC model.
package rbacbench

import (
	"strings"
	"testing"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	stringadapter "github.com/casbin/casbin/v2/persist/string-adapter"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/rbac"
)

// steelplantJSON holds the reference server's four roles, each inheriting
// the one before.
const steelplantJSON = `{
  "operator":   {"permissions": ["dashboard:read", "predictions:read", "alerts:read", "alerts:acknowledge"]},
  "supervisor": {"inherits": ["operator"], "permissions": ["reports:read", "analytics:read", "users:read", "alerts:manage"]},
  "engineer":   {"inherits": ["supervisor"], "permissions": ["models:read", "models:deploy", "system:configure", "predictions:write"]},
  "admin":      {"inherits": ["engineer"], "permissions": ["users:write", "users:delete", "system:admin", "api_keys:manage"]}
}`

// casbinModel is the classic Casbin RBAC model: a request (subject, object,
// action) is allowed when a policy line for a role the subject has, directly
// or through g inheritance, names that object and action.
const casbinModel = `
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act
`

// casbinPolicy builds the Casbin policy lines for the same roles as the
// Gatehouse policy: one "p" line per own permission and one "g" line per
// inheritance edge ("g, child, parent": the child has the parent's role).
func casbinPolicy(tb testing.TB, policy *rbac.Policy) string {
	tb.Helper()
	var b strings.Builder
	for _, name := range policy.Roles() {
		r, _ := policy.Role(name)
		for _, perm := range r.Permissions {
			obj, act, _ := strings.Cut(perm, ":")
			b.WriteString("p, " + name + ", " + obj + ", " + act + "\n")
		}
		for _, parent := range r.Inherits {
			b.WriteString("g, " + name + ", " + parent + "\n")
		}
	}
	return b.String()
}

// BenchmarkRBACCheck measures one permission check against the reference
// server's four roles (operator < supervisor < engineer < admin):
//
//   - allowed: an admin asks for predictions:read, which admin holds only
//     through three levels of inheritance (it is operator's);
//   - denied: a supervisor asks for models:deploy, which only engineer and
//     admin hold.
//
// gatehouse is rbac.Policy.Has on a principal with that role; casbin is
// Enforcer.Enforce(role, resource, action) on the same roles, permissions and
// inheritance; casbin-cached is CachedEnforcer.Enforce, which answers
// repeated requests from its result cache.
func BenchmarkRBACCheck(b *testing.B) {
	policy, err := rbac.ParseJSON([]byte(steelplantJSON))
	if err != nil {
		b.Fatal(err)
	}
	lines := casbinPolicy(b, policy)
	newModel := func() model.Model {
		m, err := model.NewModelFromString(casbinModel)
		if err != nil {
			b.Fatal(err)
		}
		return m
	}
	enforcer, err := casbin.NewEnforcer(newModel(), stringadapter.NewAdapter(lines))
	if err != nil {
		b.Fatal(err)
	}
	cached, err := casbin.NewCachedEnforcer(newModel(), stringadapter.NewAdapter(lines))
	if err != nil {
		b.Fatal(err)
	}

	cases := []struct {
		name, role, resource, action string
		want                         bool
	}{
		{"allowed", "admin", "predictions", "read", true},
		{"denied", "supervisor", "models", "deploy", false},
	}
	for _, c := range cases {
		perm := c.resource + ":" + c.action
		principal := &auth.Principal{Subject: "user-1", Roles: []string{c.role}}
		// The three must agree before anything is timed.
		if got := policy.Has(principal, perm); got != c.want {
			b.Fatalf("gatehouse %s %s = %v", c.role, perm, got)
		}
		for _, e := range []casbin.IEnforcer{enforcer, cached} {
			if got, err := e.Enforce(c.role, c.resource, c.action); err != nil || got != c.want {
				b.Fatalf("casbin %s %s = %v, %v", c.role, perm, got, err)
			}
		}

		b.Run(c.name+"/gatehouse", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if policy.Has(principal, perm) != c.want {
					b.Fatal("wrong answer")
				}
			}
		})
		b.Run(c.name+"/casbin", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ok, _ := enforcer.Enforce(c.role, c.resource, c.action); ok != c.want {
					b.Fatal("wrong answer")
				}
			}
		})
		b.Run(c.name+"/casbin-cached", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ok, _ := cached.Enforce(c.role, c.resource, c.action); ok != c.want {
					b.Fatal("wrong answer")
				}
			}
		})
	}
}
