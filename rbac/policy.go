package rbac

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// Role is the definition of one role, as a host writes it in Go or in JSON
// (see [ParseJSON]). It is a plain value; [New] keeps its own copy.
type Role struct {
	// Name identifies the role; principals carry it in auth.Principal.Roles.
	// It is case-sensitive and follows [ValidateRoleName].
	Name string
	// Description is free text for administrators; it grants nothing.
	Description string
	// Inherits lists the roles whose permissions this role also holds,
	// transitively. A role may inherit several roles; cycles are rejected.
	Inherits []string
	// Permissions lists the role's own permissions in the grammar of
	// [ValidatePermission], wildcards included.
	Permissions []string
}

// Config is the definition of a policy, for [New].
type Config struct {
	// Roles are the roles of the policy, in any order. A nil or empty list
	// is a valid policy that grants nothing.
	Roles []Role
}

// Policy is a compiled, immutable RBAC policy: every role's effective
// permissions (its own and those of every role it inherits, transitively)
// are computed once by [New], so that [Policy.Has] is a constant number of
// map lookups per role of the principal, with no allocation.
//
// A Policy is never modified after New returns and is safe for concurrent
// use. A nil *Policy grants nothing. To replace a policy at run time, hold
// it in a [Holder].
type Policy struct {
	roles map[string]*role
	names []string // sorted
}

type role struct {
	def Role
	// set holds every effective permission pattern, wildcards included.
	set map[string]struct{}
	// resources holds the resources R of the "R:*" patterns in set; nil
	// when there are none.
	resources map[string]struct{}
	// all reports whether set holds "*".
	all bool
	// wild reports whether set holds any wildcard.
	wild bool
	// effective is set, sorted.
	effective []string
	// includes holds this role and every role it inherits, transitively.
	includes map[string]struct{}
}

// New validates cfg and compiles it into a Policy. It reports every problem
// it finds, joined with errors.Join; each one is a *[RoleError] naming the
// role and the bad entry, wrapping [ErrInvalidRoleName], [ErrDuplicateRole],
// [ErrInvalidPermission], [ErrUnknownRole] or [ErrCycle].
func New(cfg Config) (*Policy, error) {
	var errs []error
	defs := make(map[string]*Role, len(cfg.Roles))
	folded := make(map[string]string, len(cfg.Roles))
	var order []string
	for i := range cfg.Roles {
		r := &cfg.Roles[i]
		if !validName(r.Name) {
			errs = append(errs, roleErrf(r.Name, "name", "", ErrInvalidRoleName,
				"want 1 to %d ASCII letters, digits, '_', '-' or '.'", MaxNameLen))
			continue
		}
		if _, dup := defs[r.Name]; dup {
			errs = append(errs, roleErrf(r.Name, "", "", ErrDuplicateRole, "defined more than once"))
			continue
		}
		if other, dup := folded[strings.ToLower(r.Name)]; dup {
			errs = append(errs, roleErrf(r.Name, "", "", ErrDuplicateRole, "differs from %s only in letter case", quote(other)))
			continue
		}
		defs[r.Name] = r
		folded[strings.ToLower(r.Name)] = r.Name
		order = append(order, r.Name)
	}
	for _, name := range order {
		r := defs[name]
		for _, perm := range r.Permissions {
			if k, _ := classify(perm); k == kindInvalid {
				errs = append(errs, roleErrf(name, "permissions", perm, ErrInvalidPermission, "%s", permissionProblem(perm)))
			}
		}
		for _, parent := range r.Inherits {
			if _, ok := defs[parent]; !ok {
				errs = append(errs, roleErrf(name, "inherits", parent, ErrUnknownRole, "no role of that name"))
			}
		}
	}
	errs = append(errs, findCycles(order, defs)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	p := &Policy{roles: make(map[string]*role, len(order)), names: slices.Sorted(slices.Values(order))}
	for _, name := range order {
		p.compile(name, defs)
	}
	return p, nil
}

// findCycles reports every inheritance cycle among defs, once per edge that
// closes one, by depth-first search in definition order.
func findCycles(order []string, defs map[string]*Role) []error {
	const (
		unvisited = iota
		onStack
		done
	)
	state := make(map[string]int, len(order))
	var stack []string
	var errs []error
	var visit func(name string)
	visit = func(name string) {
		state[name] = onStack
		stack = append(stack, name)
		for _, parent := range defs[name].Inherits {
			if _, ok := defs[parent]; !ok {
				continue // reported as unknown
			}
			switch state[parent] {
			case unvisited:
				visit(parent)
			case onStack:
				start := slices.Index(stack, parent)
				path := append(slices.Clone(stack[start:]), parent)
				errs = append(errs, roleErrf(name, "inherits", parent, ErrCycle, "%s", strings.Join(path, " -> ")))
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = done
	}
	for _, name := range order {
		if state[name] == unvisited {
			visit(name)
		}
	}
	return errs
}

// compile builds the role name and, first, every role it inherits. defs is
// acyclic and complete.
func (p *Policy) compile(name string, defs map[string]*Role) *role {
	if r, ok := p.roles[name]; ok {
		return r
	}
	d := defs[name]
	r := &role{
		def: Role{
			Name:        d.Name,
			Description: d.Description,
			Inherits:    slices.Clone(d.Inherits),
			Permissions: slices.Clone(d.Permissions),
		},
		set:      make(map[string]struct{}),
		includes: map[string]struct{}{name: {}},
	}
	for _, perm := range d.Permissions {
		r.set[perm] = struct{}{}
	}
	for _, parent := range d.Inherits {
		pr := p.compile(parent, defs)
		for perm := range pr.set {
			r.set[perm] = struct{}{}
		}
		for inc := range pr.includes {
			r.includes[inc] = struct{}{}
		}
	}
	for perm := range r.set {
		r.effective = append(r.effective, perm)
		switch k, res := classify(perm); k {
		case kindAll:
			r.all, r.wild = true, true
		case kindResource:
			r.wild = true
			if r.resources == nil {
				r.resources = make(map[string]struct{})
			}
			r.resources[res] = struct{}{}
		}
	}
	slices.Sort(r.effective)
	p.roles[name] = r
	return r
}

// coversWildcard reports whether the role's wildcards ("*" and "R:*")
// cover perm.
func (r *role) coversWildcard(perm string) bool {
	switch k, res := classify(perm); k {
	case kindInvalid:
		return false
	case kindAll:
		return r.all
	default:
		if r.all {
			return true
		}
		_, ok := r.resources[res]
		return ok
	}
}

// Has reports whether principal holds perm. The grant is the union of the
// effective permissions of principal's roles; roles the policy does not
// define grant nothing. When principal.Scopes is non-nil the grant is
// narrowed to it: perm must also be covered by one of the scopes, which are
// permission patterns in the same grammar ("predictions:*" narrows the
// grant to the predictions resource, "*" does not narrow, and a malformed
// scope covers nothing). A non-nil empty Scopes grants nothing.
//
// perm may itself be a pattern: Has(p, "predictions:*") holds only when p
// holds every action on predictions, that is "predictions:*" or "*". A
// malformed perm is never held. Has does not allocate; it is false for a nil
// principal or a nil policy.
func (p *Policy) Has(principal *auth.Principal, perm string) bool {
	if p == nil || principal == nil {
		return false
	}
	for _, name := range principal.Roles {
		r := p.roles[name]
		if r == nil {
			continue
		}
		if _, ok := r.set[perm]; ok || (r.wild && r.coversWildcard(perm)) {
			return principal.Scopes == nil || scopesCover(principal.Scopes, perm)
		}
	}
	return false
}

// scopesCover reports whether one of scopes covers perm, a permission some
// role already grants (so well formed).
func scopesCover(scopes []string, perm string) bool {
	for _, s := range scopes {
		if s == perm {
			return true
		}
	}
	wk, wres := classify(perm)
	if wk == kindInvalid {
		return false
	}
	for _, s := range scopes {
		if coversValid(s, perm, wk, wres) {
			return true
		}
	}
	return false
}

// HasRole reports whether principal holds role, directly or through
// inheritance: with operator < supervisor < engineer < admin, an admin has
// the operator role. Roles the policy does not define are never held, even
// when the principal lists them (use auth.Principal.HasRole for the raw
// list).
//
// A principal narrowed by scopes holds role only if its scopes cover every
// effective permission of role: an admin's API key scoped to
// "predictions:read" does not act as admin.
func (p *Policy) HasRole(principal *auth.Principal, role string) bool {
	if p == nil || principal == nil {
		return false
	}
	target := p.roles[role]
	if target == nil {
		return false
	}
	for _, name := range principal.Roles {
		r := p.roles[name]
		if r == nil {
			continue
		}
		if _, ok := r.includes[role]; !ok {
			continue
		}
		if principal.Scopes == nil {
			return true
		}
		for _, perm := range target.effective {
			if !scopesCover(principal.Scopes, perm) {
				return false
			}
		}
		return true
	}
	return false
}

// Permissions returns the sorted effective permissions of principal: the
// union of its roles' permissions, narrowed by its scopes when it carries
// any. Wildcards are listed as granted ("predictions:*", "*"), next to any
// concrete permission they also cover, so a client of a "/me" endpoint must
// treat them as patterns (see [Covers]). The result is never nil.
func (p *Policy) Permissions(principal *auth.Principal) []string {
	out := []string{}
	if p == nil || principal == nil {
		return out
	}
	union := make(map[string]struct{})
	for _, name := range principal.Roles {
		if r := p.roles[name]; r != nil {
			for perm := range r.set {
				union[perm] = struct{}{}
			}
		}
	}
	if principal.Scopes == nil {
		for perm := range union {
			out = append(out, perm)
		}
		slices.Sort(out)
		return out
	}
	narrowed := make(map[string]struct{})
	for perm := range union {
		for _, s := range principal.Scopes {
			if m, ok := meet(perm, s); ok {
				narrowed[m] = struct{}{}
			}
		}
	}
	for perm := range narrowed {
		out = append(out, perm)
	}
	slices.Sort(out)
	return out
}

// meet returns the pattern covering exactly what both the valid pattern
// grant and the scope s cover, if they overlap.
func meet(grant, s string) (string, bool) {
	sk, _ := classify(s)
	switch {
	case sk == kindInvalid:
		return "", false
	case Covers(grant, s):
		return s, true
	case Covers(s, grant):
		return grant, true
	}
	return "", false
}

// Check reports whether the principal in ctx (auth.FromContext) holds perm,
// for code outside an HTTP handler chain. It returns nil when it does; an
// *auth.Error with code insufficient_permissions when it does not; and an
// *auth.Error with code invalid_credentials, wrapping auth.ErrNoCredentials,
// when ctx carries no principal.
func (p *Policy) Check(ctx context.Context, perm string) error {
	principal, ok := auth.FromContext(ctx)
	if !ok {
		return errNoPrincipal()
	}
	if p.Has(principal, perm) {
		return nil
	}
	return errDenied(perm)
}

func errNoPrincipal() error {
	return auth.WrapError(auth.CodeInvalidCredentials, "authentication required", auth.ErrNoCredentials)
}

func errDenied(perm string) error {
	return auth.WrapError(auth.CodeInsufficientPermissions, "",
		fmt.Errorf("rbac: permission %s not granted", quote(perm)))
}

// Roles returns the names of the policy's roles, sorted.
func (p *Policy) Roles() []string {
	if p == nil {
		return nil
	}
	return slices.Clone(p.names)
}

// Role returns the definition of the role called name, as given to [New]
// (its own permissions and direct parents), and whether it exists. The
// returned value is a copy.
func (p *Policy) Role(name string) (Role, bool) {
	if p == nil {
		return Role{}, false
	}
	r, ok := p.roles[name]
	if !ok {
		return Role{}, false
	}
	return Role{
		Name:        r.def.Name,
		Description: r.def.Description,
		Inherits:    slices.Clone(r.def.Inherits),
		Permissions: slices.Clone(r.def.Permissions),
	}, true
}

// RolePermissions returns the sorted effective permissions of the role
// called name (its own and every inherited one), or nil when the policy does
// not define it.
func (p *Policy) RolePermissions(name string) []string {
	if p == nil {
		return nil
	}
	if r, ok := p.roles[name]; ok {
		return slices.Clone(r.effective)
	}
	return nil
}

// ValidatePermission calls the package function [ValidatePermission]. It
// lets HTTP middleware reject malformed requirements when it is built.
func (p *Policy) ValidatePermission(perm string) error { return ValidatePermission(perm) }

// MarshalJSON encodes the policy in the shape [ParseJSON] reads, roles in
// name order, so that ParseJSON(MarshalJSON()) yields an equivalent policy.
func (p *Policy) MarshalJSON() ([]byte, error) {
	doc := make(map[string]roleJSON)
	if p != nil {
		for name, r := range p.roles {
			doc[name] = roleJSON{
				Description: r.def.Description,
				Inherits:    r.def.Inherits,
				Permissions: r.def.Permissions,
			}
		}
	}
	return json.Marshal(doc)
}

type roleJSON struct {
	Description string   `json:"description,omitempty"`
	Inherits    []string `json:"inherits,omitempty"`
	Permissions []string `json:"permissions,omitempty"`
}
