package rbac_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/rbac"
)

// version builds a policy in which role "r" holds "common:read" and
// "gen:v<n>", and says so in its description, and role "s" (inherited by
// "r" in even versions only) holds "extra:v<n>".
func version(t testing.TB, n int) *rbac.Policy {
	t.Helper()
	r := rbac.Role{
		Name:        "r",
		Description: fmt.Sprintf("v%d", n),
		Permissions: []string{"common:read", fmt.Sprintf("gen:v%d", n)},
	}
	if n%2 == 0 {
		r.Inherits = []string{"s"}
	}
	return mustNew(t, r, rbac.Role{Name: "s", Permissions: []string{fmt.Sprintf("extra:v%d", n)}})
}

func TestHolderReloadUnderLoad(t *testing.T) {
	const versions = 4
	policies := make([]*rbac.Policy, versions)
	wantPerms := make(map[string]int) // Permissions(...) rendered -> version
	for i := range policies {
		policies[i] = version(t, i)
		wantPerms[fmt.Sprint(policies[i].Permissions(principal("r")))] = i
	}
	h := rbac.NewHolder(policies[0])
	pr := principal("r")

	var wg sync.WaitGroup
	errc := make(chan error, 8)
	fail := func(format string, args ...any) {
		select {
		case errc <- fmt.Errorf(format, args...):
		default:
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 2000 {
			h.Store(policies[i%versions])
		}
	}()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				// A permission every version grants is never denied mid-swap.
				if !h.Has(pr, "common:read") {
					fail("common:read denied during a reload")
				}
				// One call on the holder sees one whole policy.
				perms := fmt.Sprint(h.Permissions(pr))
				if _, ok := wantPerms[perms]; !ok {
					fail("Permissions returned a mix of versions: %s", perms)
				}
				// A snapshot answers every question from the same version.
				pol := h.Load()
				r, _ := pol.Role("r")
				var n int
				fmt.Sscanf(r.Description, "v%d", &n)
				for v := range versions {
					if got := pol.Has(pr, fmt.Sprintf("gen:v%d", v)); got != (v == n) {
						fail("snapshot %s: Has(gen:v%d) = %v", r.Description, v, got)
					}
				}
				if got := pol.Has(pr, fmt.Sprintf("extra:v%d", n)); got != (n%2 == 0) {
					fail("snapshot %s: inherited permission = %v", r.Description, got)
				}
				if got := pol.HasRole(pr, "s"); got != (n%2 == 0) {
					fail("snapshot %s: HasRole(s) = %v", r.Description, got)
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	// After the last reload every check sees the last version.
	last := policies[(2000-1)%versions]
	if h.Load() != last || !h.Has(pr, "gen:v3") || h.Has(pr, "gen:v2") {
		t.Error("the last stored policy is not the one answering")
	}
}

func TestHolderZeroAndNil(t *testing.T) {
	var h rbac.Holder
	admin := principal("admin")
	ctx := auth.NewContext(context.Background(), admin)
	if h.Has(admin, "users:read") || h.HasRole(admin, "admin") || len(h.Permissions(admin)) != 0 ||
		h.Roles() != nil || h.RolePermissions("admin") != nil {
		t.Error("a holder without a policy granted something")
	}
	if _, ok := h.Role("admin"); ok {
		t.Error("a holder without a policy has a role")
	}
	if err := h.Check(ctx, "users:read"); !errors.Is(err, auth.ErrInsufficientPermissions) {
		t.Errorf("Check = %v", err)
	}

	p := steelplant(t)
	h.Store(p)
	if !h.Has(admin, "users:delete") || !h.HasRole(admin, "operator") || h.Check(ctx, "users:delete") != nil ||
		!slices.Equal(h.Roles(), p.Roles()) || len(h.RolePermissions("admin")) != 16 {
		t.Error("the stored policy is not answering")
	}
	if r, ok := h.Role("operator"); !ok || r.Name != "operator" {
		t.Errorf("Role(operator) = %+v, %v", r, ok)
	}
	if !slices.Equal(h.Permissions(admin), p.Permissions(admin)) {
		t.Error("Permissions differ between holder and policy")
	}
	if old := h.Swap(nil); old != p {
		t.Error("Swap did not return the replaced policy")
	}
	if h.Has(admin, "users:read") {
		t.Error("a holder storing nil granted something")
	}
	if err := h.ValidatePermission("*:read"); !errors.Is(err, rbac.ErrInvalidPermission) {
		t.Errorf("ValidatePermission = %v", err)
	}
}
