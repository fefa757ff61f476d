package middleware

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// PermissionChecker answers authorization questions about a principal.
// *rbac.Policy and *rbac.Holder implement it. Implementations must be safe
// for concurrent use, must not block, and must answer false for a nil
// principal.
type PermissionChecker interface {
	// Has reports whether p holds the permission perm.
	Has(p *auth.Principal, perm string) bool
	// HasRole reports whether p holds role, directly or by inheritance.
	HasRole(p *auth.Principal, role string) bool
}

// PermissionValidator is implemented by a [PermissionChecker] that can tell
// a malformed permission string from a well-formed one nobody holds.
// *rbac.Policy and *rbac.Holder implement it. When the checker given to
// [NewAuthorizer] implements it, requirements are validated when they are
// built; see [Authorizer].
type PermissionValidator interface {
	// ValidatePermission returns an error when perm is malformed.
	ValidatePermission(perm string) error
}

// AuthorizerConfig configures an [Authorizer]. The zero value is usable.
type AuthorizerConfig struct {
	// Events receives a permission_denied event for every rejected request.
	// Nil discards them.
	Events auth.Emitter
	// ErrorHandler writes rejections: auth.ErrNoCredentials when the request
	// carries no principal, an *auth.Error with code
	// insufficient_permissions otherwise. Nil means [WriteError].
	ErrorHandler ErrorHandler
	// Logger, if set, logs requirements that are malformed when they are
	// built (at Error level) and the internal detail of each rejection (at
	// Debug level). Nil logs nothing.
	Logger *slog.Logger
	// Now is the clock for event times. Nil means time.Now.
	Now func() time.Time
}

// Authorizer builds middleware that lets a request through only if its
// principal (put in the context by [Authenticate]) holds a permission or a
// role. A request without a principal is answered 401 invalid_credentials; a
// principal that falls short is answered 403 insufficient_permissions, and a
// permission_denied event names what was missing (the client sees only the
// code). Handlers behind the middleware can rely on the check having
// passed.
//
// Requirements fail closed. A requirement with no permission, an empty
// permission or role, or a permission the checker's [PermissionValidator]
// rejects ("predictions-write", "*:read") answers every request with 403
// (401 when there is no principal), its permission_denied events carry the reason "invalid_requirement", and
// the configured Logger reports it when it is built. The methods never
// panic. A nil checker denies everything in the same way.
//
// An Authorizer is immutable and safe for concurrent use, as is the
// middleware it returns.
type Authorizer struct {
	checker PermissionChecker
	events  auth.Emitter
	onError ErrorHandler
	logger  *slog.Logger
	now     func() time.Time
}

// NewAuthorizer returns an Authorizer asking checker, configured by cfg.
func NewAuthorizer(checker PermissionChecker, cfg AuthorizerConfig) *Authorizer {
	a := &Authorizer{checker: checker, events: cfg.Events, onError: cfg.ErrorHandler, logger: cfg.Logger, now: cfg.Now}
	if a.onError == nil {
		a.onError = WriteError
	}
	if a.now == nil {
		a.now = time.Now
	}
	return a
}

// RequirePermission returns middleware that requires the permission perm
// ("predictions:write").
func (a *Authorizer) RequirePermission(perm string) func(http.Handler) http.Handler {
	return a.RequireAll(perm)
}

// RequireAll returns middleware that requires every one of perms. A
// rejection's event names the first missing permission. RequireAll with no
// permission denies every request.
func (a *Authorizer) RequireAll(perms ...string) func(http.Handler) http.Handler {
	perms = slices.Clone(perms)
	return a.wrap(requirement{
		kind:    "permission",
		items:   perms,
		invalid: a.validate("RequireAll", perms, true),
		check: func(p *auth.Principal) (string, bool) {
			for _, perm := range perms {
				if !a.checker.Has(p, perm) {
					return perm, false
				}
			}
			return "", true
		},
	})
}

// RequireAny returns middleware that requires at least one of perms. A
// rejection's event lists them all, separated by spaces. RequireAny with no
// permission denies every request.
func (a *Authorizer) RequireAny(perms ...string) func(http.Handler) http.Handler {
	perms = slices.Clone(perms)
	all := strings.Join(perms, " ")
	return a.wrap(requirement{
		kind:    "permission",
		items:   perms,
		invalid: a.validate("RequireAny", perms, true),
		check: func(p *auth.Principal) (string, bool) {
			for _, perm := range perms {
				if a.checker.Has(p, perm) {
					return "", true
				}
			}
			return all, false
		},
	})
}

// RequireRole returns middleware that requires role, held directly or by
// inheritance as the checker defines it. With package rbac an admin holds
// every role admin inherits, and a principal narrowed by scopes holds a role
// only if its scopes cover all of the role's permissions. Prefer
// permissions where possible: they say what a route needs, not who usually
// needs it.
func (a *Authorizer) RequireRole(role string) func(http.Handler) http.Handler {
	return a.wrap(requirement{
		kind:    "role",
		items:   []string{role},
		invalid: a.validate("RequireRole", []string{role}, false),
		check: func(p *auth.Principal) (string, bool) {
			return role, a.checker.HasRole(p, role)
		},
	})
}

// requirement is one built check.
type requirement struct {
	kind    string // event attribute naming what is missing: "permission" or "role"
	items   []string
	invalid error // non-nil: the requirement denies everything
	// check returns what is missing and whether p passes.
	check func(p *auth.Principal) (missing string, ok bool)
}

// validate returns why items cannot form a requirement, or nil, and logs it.
func (a *Authorizer) validate(method string, items []string, permissions bool) error {
	err := a.problem(items, permissions)
	if err != nil && a.logger != nil {
		a.logger.Error("gatehouse: authorization requirement denies every request",
			slog.String("requirement", method), slog.Any("items", items), slog.String("error", err.Error()))
	}
	return err
}

func (a *Authorizer) problem(items []string, permissions bool) error {
	if a.checker == nil {
		return errors.New("middleware: nil PermissionChecker")
	}
	if len(items) == 0 {
		return errors.New("middleware: no permission given")
	}
	v, validates := a.checker.(PermissionValidator)
	for _, it := range items {
		if it == "" {
			return errors.New("middleware: empty permission or role")
		}
		if permissions && validates {
			if err := v.ValidatePermission(it); err != nil {
				return fmt.Errorf("middleware: %w", err)
			}
		}
	}
	return nil
}

func (a *Authorizer) wrap(req requirement) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := auth.FromContext(r.Context())
			if !ok {
				a.deny(w, r, nil, req, strings.Join(req.items, " "), "no_principal", auth.ErrNoCredentials)
				return
			}
			if req.invalid != nil {
				a.deny(w, r, p, req, strings.Join(req.items, " "), "invalid_requirement",
					auth.WrapError(auth.CodeInsufficientPermissions, "", req.invalid))
				return
			}
			missing, ok := req.check(p)
			if !ok {
				a.deny(w, r, p, req, missing, "missing_"+req.kind,
					auth.WrapError(auth.CodeInsufficientPermissions, "",
						fmt.Errorf("middleware: missing %s %q", req.kind, missing)))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// deny emits the permission_denied event and writes the rejection.
func (a *Authorizer) deny(w http.ResponseWriter, r *http.Request, p *auth.Principal, req requirement, missing, reason string, err error) {
	e := auth.NewEvent(r.Context(), auth.EventPermissionDenied, a.now())
	if p != nil {
		e.Subject, e.Username, e.Method = p.Subject, p.Username, p.Method
	}
	e.Reason = reason
	e.Attrs = map[string]string{req.kind: missing}
	auth.Emit(a.events, e)
	logError(a.logger, r, err)
	a.onError(w, r, err)
}
