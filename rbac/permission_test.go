package rbac_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/rbac"
)

func TestValidatePermission(t *testing.T) {
	long := strings.Repeat("r", rbac.MaxNameLen)
	tests := []struct {
		perm string
		ok   bool
	}{
		{"predictions:read", true},
		{"api_keys:manage", true},
		{"v1.reports-x:read_all", true},
		{"Predictions:Read", true}, // well formed; distinct from the lower-case one
		{"predictions:*", true},
		{"*", true},
		{long + ":" + long, true},
		{long + "r:read", false},
		{"reports:" + long + "x", false},
		{"", false},
		{":", false},
		{"predictions", false},
		{"predictions:", false},
		{":read", false},
		{"*:read", false},
		{"*:*", false},
		{"**", false},
		{"* ", false},
		{"pred*:read", false},
		{"predictions:re*", false},
		{"predictions:**", false},
		{"a:b:c", false},
		{"predictions:read ", false},
		{" predictions:read", false},
		{"predictions :read", false},
		{"predictions:read\n", false},
		{"predictions:read\x00", false},
		{"prédictions:read", false},
		{"predictions/archive:read", false},
		{"predictions:read,write", false},
	}
	for _, tt := range tests {
		err := rbac.ValidatePermission(tt.perm)
		if tt.ok && err != nil {
			t.Errorf("ValidatePermission(%q) = %v, want nil", tt.perm, err)
		}
		if !tt.ok && !errors.Is(err, rbac.ErrInvalidPermission) {
			t.Errorf("ValidatePermission(%q) = %v, want ErrInvalidPermission", tt.perm, err)
		}
	}
}

func TestValidateRoleName(t *testing.T) {
	for _, name := range []string{"admin", "shift-lead", "ops.team_2", strings.Repeat("a", rbac.MaxNameLen)} {
		if err := rbac.ValidateRoleName(name); err != nil {
			t.Errorf("ValidateRoleName(%q) = %v", name, err)
		}
	}
	for _, name := range []string{"", "ad min", "admin:*", "*", "rôle", strings.Repeat("a", rbac.MaxNameLen+1)} {
		if err := rbac.ValidateRoleName(name); !errors.Is(err, rbac.ErrInvalidRoleName) {
			t.Errorf("ValidateRoleName(%q) = %v, want ErrInvalidRoleName", name, err)
		}
	}
}

func TestCovers(t *testing.T) {
	tests := []struct {
		name        string
		grant, want string
		covers      bool
	}{
		{"equal", "predictions:read", "predictions:read", true},
		{"other action", "predictions:read", "predictions:write", false},
		{"resource wildcard", "predictions:*", "predictions:write", true},
		{"resource wildcard covers itself", "predictions:*", "predictions:*", true},
		{"resource wildcard does not cover longer resource", "predictions:*", "predictions_archive:read", false},
		{"resource wildcard does not cover prefix resource", "predictions:*", "prediction:read", false},
		{"resource wildcard does not cover everything", "predictions:*", "*", false},
		{"star covers all", "*", "users:delete", true},
		{"star covers resource wildcard", "*", "users:*", true},
		{"star covers star", "*", "*", true},
		{"concrete does not cover wildcard", "predictions:read", "predictions:*", false},
		{"case differs", "predictions:read", "Predictions:read", false},
		{"wildcard case differs", "predictions:*", "PREDICTIONS:read", false},
		{"star does not cover malformed", "*", "predictions", false},
		{"star does not cover action wildcard", "*", "*:read", false},
		{"malformed grant equal to malformed want", "a b", "a b", false},
		{"empty", "", "", false},
		{"malformed grant with wildcard resource", "*:*", "x:read", false},
		{"malformed grant with partial wildcard", "pred*:*", "pred*:read", false},
	}
	for _, tt := range tests {
		if got := rbac.Covers(tt.grant, tt.want); got != tt.covers {
			t.Errorf("%s: Covers(%q, %q) = %v, want %v", tt.name, tt.grant, tt.want, got, tt.covers)
		}
	}
}

// FuzzValidatePermission checks the permission parser's invariants on
// arbitrary strings: it never panics, it accepts exactly the grammar, and
// coverage agrees with it.
func FuzzValidatePermission(f *testing.F) {
	for _, s := range []string{"predictions:read", "predictions:*", "*", "*:read", "a:b:c", "", ":", "p:", "x:r*", "é:x", "A-b.c_d:E"} {
		f.Add(s)
	}
	policy, err := rbac.New(rbac.Config{Roles: []rbac.Role{{Name: "root", Permissions: []string{"*"}}}})
	if err != nil {
		f.Fatal(err)
	}
	root := &auth.Principal{Roles: []string{"root"}}
	f.Fuzz(func(t *testing.T, s string) {
		err := rbac.ValidatePermission(s)
		valid := err == nil
		if !valid && !errors.Is(err, rbac.ErrInvalidPermission) {
			t.Fatalf("ValidatePermission(%q) = %v, not ErrInvalidPermission", s, err)
		}
		if valid != referenceValid(s) {
			t.Fatalf("ValidatePermission(%q) valid=%v, reference grammar says %v", s, valid, !valid)
		}
		if rbac.Covers(s, s) != valid {
			t.Fatalf("Covers(%q, itself) = %v, want %v", s, !valid, valid)
		}
		if rbac.Covers("*", s) != valid || policy.Has(root, s) != valid {
			t.Fatalf("%q: the \"*\" grant does not cover exactly the well-formed permissions", s)
		}
		if res, _, ok := strings.Cut(s, ":"); ok && valid {
			if !rbac.Covers(res+":*", s) {
				t.Fatalf("Covers(%q, %q) = false", res+":*", s)
			}
			if rbac.Covers(res+"x:*", s) || rbac.Covers(res+":*", "x"+s) {
				t.Fatalf("%q: a resource wildcard covered another resource", s)
			}
		}
	})
}

// referenceValid is the grammar of ValidatePermission written independently,
// with strings functions rather than a byte loop.
func referenceValid(s string) bool {
	if s == "*" {
		return true
	}
	parts := strings.Split(s, ":")
	if len(parts) != 2 {
		return false
	}
	name := func(n string) bool {
		return n != "" && len(n) <= rbac.MaxNameLen && strings.Trim(n,
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == ""
	}
	return name(parts[0]) && (parts[1] == "*" || name(parts[1]))
}
