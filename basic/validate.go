package basic

import (
	"net/mail"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// Limits on user fields.
const (
	// MaxUsernameLength is the longest username in characters.
	MaxUsernameLength = 64
	// MaxEmailLength is the longest email address in bytes (RFC 5321's
	// path limit minus the angle brackets).
	MaxEmailLength = 254
	// MaxRoleLength is the longest role name in bytes.
	MaxRoleLength = 64
	// MaxRoles is the most roles one user may hold.
	MaxRoles = 64
)

// RoleValidator reports whether a role exists. Set Config.Roles to the RBAC
// policy's lookup (for example a closure over rbac's role lookup) so that
// users cannot be given roles the policy does not define.
type RoleValidator func(role string) bool

// checkUsername reports whether name is an acceptable username: 1 to 64
// characters of valid UTF-8, without spaces, control or format characters
// (zero-width joiners and the like), and without ':' (which HTTP Basic
// cannot carry in a user-id, RFC 7617 §2).
func checkUsername(name string) *auth.Error {
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxUsernameLength {
		return errInvalidRequest("username", "the username must be 1 to 64 characters of UTF-8")
	}
	for _, r := range name {
		if r == ':' || unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return errInvalidRequest("username", "the username may not contain spaces, ':' or control characters")
		}
	}
	return nil
}

// checkEmail reports whether addr is empty or a bare email address.
func checkEmail(addr string) *auth.Error {
	if addr == "" {
		return nil
	}
	if len(addr) > MaxEmailLength || !utf8.ValidString(addr) {
		return errInvalidRequest("email", "the email address is too long or not UTF-8")
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr || !strings.Contains(addr, "@") {
		return errInvalidRequest("email", "the email address is not a bare address such as name@example.com")
	}
	return nil
}

// cleanRoles checks roles, drops duplicates (keeping the first) and asks
// valid, when set, about each one.
func cleanRoles(roles []string, valid RoleValidator) ([]string, *auth.Error) {
	if len(roles) > MaxRoles {
		return nil, errInvalidRequest("roles", "too many roles")
	}
	out := make([]string, 0, len(roles))
	var unknown []string
	for _, r := range roles {
		if r == "" || len(r) > MaxRoleLength || !utf8.ValidString(r) ||
			strings.IndexFunc(r, func(c rune) bool { return unicode.IsSpace(c) || unicode.IsControl(c) }) >= 0 {
			return nil, errInvalidRequest("roles", "role names must be 1 to 64 bytes without spaces")
		}
		if slices.Contains(out, r) {
			continue
		}
		if valid != nil && !valid(r) {
			unknown = append(unknown, r)
			continue
		}
		out = append(out, r)
	}
	if len(unknown) > 0 {
		e := errInvalidRequest("roles", "unknown role")
		e.Details["unknown_roles"] = unknown
		return nil, e
	}
	return out, nil
}
