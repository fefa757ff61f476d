package rbac

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels wrapped by the errors of this package. Test them with errors.Is.
var (
	// ErrInvalidPermission reports a permission that does not follow the
	// grammar of [ValidatePermission].
	ErrInvalidPermission = errors.New("rbac: invalid permission")
	// ErrInvalidRoleName reports a role name that does not follow the grammar
	// of [ValidateRoleName].
	ErrInvalidRoleName = errors.New("rbac: invalid role name")
	// ErrDuplicateRole reports a role defined twice, or two roles whose names
	// differ only in letter case.
	ErrDuplicateRole = errors.New("rbac: duplicate role")
	// ErrUnknownRole reports an inherited role that the policy does not
	// define.
	ErrUnknownRole = errors.New("rbac: unknown inherited role")
	// ErrCycle reports an inheritance cycle, including a role that inherits
	// itself.
	ErrCycle = errors.New("rbac: inheritance cycle")
	// ErrInvalidJSON reports a policy document that is not valid JSON or not
	// in the shape [ParseJSON] reads.
	ErrInvalidJSON = errors.New("rbac: invalid policy JSON")
)

// RoleError is a problem with one role of a policy definition. It names the
// role, the field ("name", "permissions", "inherits", or a JSON member) and
// the bad entry, and wraps one of the sentinels above.
type RoleError struct {
	// Role is the name of the role, as written.
	Role string
	// Field is the part of the role definition at fault.
	Field string
	// Entry is the bad entry: the permission, the inherited role, the name.
	Entry string
	// Err is the cause; it wraps a sentinel of this package.
	Err error
}

// Error implements error.
func (e *RoleError) Error() string {
	s := "rbac: role " + quote(e.Role)
	if e.Field != "" {
		s += ": " + e.Field
	}
	if e.Entry != "" {
		s += " " + quote(e.Entry)
	}
	return s + ": " + strings.TrimPrefix(e.Err.Error(), "rbac: ")
}

// Unwrap returns the cause.
func (e *RoleError) Unwrap() error { return e.Err }

func roleErr(role, field, entry string, err error) *RoleError {
	return &RoleError{Role: role, Field: field, Entry: entry, Err: err}
}

func roleErrf(role, field, entry string, sentinel error, format string, args ...any) *RoleError {
	return roleErr(role, field, entry, fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...))
}
