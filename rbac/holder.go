package rbac

import (
	"context"
	"sync/atomic"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// Holder holds the current [Policy] and lets a host replace it at run time
// (hot reload) while requests are being checked. Replacement is one atomic
// pointer swap: every check method loads the policy once, so a check that
// runs during a reload sees either the old policy or the new one, never a
// mix of both.
//
// A Holder is safe for concurrent use. Its zero value holds no policy and
// grants nothing until [Holder.Store] is called; storing nil does the same.
// A Holder must not be copied after first use.
type Holder struct {
	p atomic.Pointer[Policy]
}

// NewHolder returns a Holder holding p.
func NewHolder(p *Policy) *Holder {
	h := new(Holder)
	h.p.Store(p)
	return h
}

// Load returns the current policy, possibly nil. A caller that makes several
// checks that must agree with each other should call Load once and use the
// returned policy for all of them.
func (h *Holder) Load() *Policy { return h.p.Load() }

// Store makes p the current policy for every check that starts afterwards.
// Checks already running finish with the policy they loaded.
func (h *Holder) Store(p *Policy) { h.p.Store(p) }

// Swap stores p and returns the policy it replaced.
func (h *Holder) Swap(p *Policy) *Policy { return h.p.Swap(p) }

// Has calls [Policy.Has] on the current policy.
func (h *Holder) Has(principal *auth.Principal, perm string) bool {
	return h.p.Load().Has(principal, perm)
}

// HasRole calls [Policy.HasRole] on the current policy.
func (h *Holder) HasRole(principal *auth.Principal, role string) bool {
	return h.p.Load().HasRole(principal, role)
}

// Permissions calls [Policy.Permissions] on the current policy.
func (h *Holder) Permissions(principal *auth.Principal) []string {
	return h.p.Load().Permissions(principal)
}

// Check calls [Policy.Check] on the current policy.
func (h *Holder) Check(ctx context.Context, perm string) error {
	return h.p.Load().Check(ctx, perm)
}

// Roles calls [Policy.Roles] on the current policy.
func (h *Holder) Roles() []string { return h.p.Load().Roles() }

// Role calls [Policy.Role] on the current policy.
func (h *Holder) Role(name string) (Role, bool) { return h.p.Load().Role(name) }

// RolePermissions calls [Policy.RolePermissions] on the current policy.
func (h *Holder) RolePermissions(name string) []string {
	return h.p.Load().RolePermissions(name)
}

// ValidatePermission calls the package function [ValidatePermission].
func (h *Holder) ValidatePermission(perm string) error { return ValidatePermission(perm) }
