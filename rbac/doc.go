// Package rbac decides what an authenticated principal may do, with roles,
// "resource:action" permissions and multiple inheritance.
//
// A host defines roles in Go ([New]) or JSON ([ParseJSON]); both are
// validated before anything is granted: malformed permissions, unknown or
// cyclic inheritance and duplicate roles are errors naming the role and the
// entry, never a policy that silently grants less or more than written. The
// result is a compiled, immutable [Policy] holding each role's effective
// permissions, so that [Policy.Has] costs a few map lookups per role of the
// principal and allocates nothing; a [Holder] swaps policies atomically for
// hot reload. The middleware package wraps either one as
// RequirePermission, RequireAll, RequireAny and RequireRole.
//
// # Permissions and wildcards
//
// A permission is "resource:action" ("predictions:write"). Two wildcards
// exist: "resource:*" grants every action on that one resource, and "*"
// grants everything. There is no wildcard resource: "*:read" is rejected,
// because it would silently grant read access to every resource added to the
// application later; list the resources, or grant "*". Wildcards match whole
// names only: "predictions:*" does not grant "predictions_archive:read".
// Names are ASCII letters, digits, '_', '-' and '.', at most [MaxNameLen]
// bytes; see [ValidatePermission].
//
// Permissions and role names are case-sensitive and compared byte for byte:
// "Predictions:read" is a different permission from "predictions:read", and a
// principal with role "Admin" holds nothing in a policy that defines
// "admin". A mismatch therefore denies; it never grants. To keep the
// distinction from being a trap, a policy may not define two roles whose
// names differ only in case.
//
// # Principals, unknown roles and scopes
//
// A principal's grant is the union of the effective permissions of its
// roles (auth.Principal.Roles). Roles the policy does not define grant
// nothing, so a token minted with a role that was later removed loses its
// permissions at the next reload. When the principal carries scopes
// (auth.Principal.Scopes non-nil: API keys and OAuth access tokens), the
// grant is intersected with them: a permission is held only if a role
// grants it and a scope covers it. Scopes use the permission grammar,
// wildcards included ("predictions:*" narrows to one resource, "*" does not
// narrow); a malformed scope covers nothing, and a non-nil empty list grants
// nothing. Scopes narrow; they never add.
//
// # What this package does not check
//
// It does not authenticate: the principal and its roles and scopes are taken
// as the authenticator produced them. It does not check that an API key's or
// token's scopes were within its owner's grant when it was issued (the
// issuer must, with [Policy.Has]); it does not know about resource
// ownership ("may edit this report") or attributes beyond roles and scopes.
// A role removed from a policy stops granting at once, but a role added to a
// user only appears in credentials issued afterwards.
package rbac
