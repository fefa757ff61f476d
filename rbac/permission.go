package rbac

import (
	"fmt"
	"strings"
)

// MaxNameLen is the longest resource, action or role name a policy accepts,
// in bytes.
const MaxNameLen = 64

// All is the wildcard permission that grants every permission.
const All = "*"

// kind classifies a permission string.
type kind uint8

const (
	kindInvalid  kind = iota
	kindConcrete      // "resource:action"
	kindResource      // "resource:*"
	kindAll           // "*"
)

// classify parses s as a permission without allocating. It returns the kind
// and, for the two resource forms, the resource part. The grammar is
//
//	permission = "*" / name ":" name / name ":*"
//	name       = 1*64( ALPHA / DIGIT / "_" / "-" / "." )
func classify(s string) (k kind, resource string) {
	if s == All {
		return kindAll, ""
	}
	colon := strings.IndexByte(s, ':')
	if colon < 0 || !validName(s[:colon]) {
		return kindInvalid, ""
	}
	action := s[colon+1:]
	if action == "*" {
		return kindResource, s[:colon]
	}
	if !validName(action) {
		return kindInvalid, ""
	}
	return kindConcrete, s[:colon]
}

// validName reports whether s is 1 to MaxNameLen bytes of ASCII letters,
// digits, '_', '-' and '.'.
func validName(s string) bool {
	if s == "" || len(s) > MaxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') ||
			c == '_' || c == '-' || c == '.' {
			continue
		}
		return false
	}
	return true
}

// ValidatePermission reports whether s is a well-formed permission: "*",
// "resource:action" or "resource:*", where resource and action are 1 to
// [MaxNameLen] ASCII letters, digits, '_', '-' or '.'. Matching is
// case-sensitive, so "Predictions:read" is well formed and distinct from
// "predictions:read".
//
// There is no action wildcard: "*:read" and "*:*" are rejected, as are
// partial wildcards ("pred*:read", "predictions:re*"), empty parts, extra
// colons and whitespace. The error wraps [ErrInvalidPermission].
func ValidatePermission(s string) error {
	if k, _ := classify(s); k != kindInvalid {
		return nil
	}
	return fmt.Errorf("%w %s: %s", ErrInvalidPermission, quote(s), permissionProblem(s))
}

// permissionProblem says what is wrong with an invalid permission s.
func permissionProblem(s string) string {
	if s == "" {
		return "empty"
	}
	res, action, ok := strings.Cut(s, ":")
	switch {
	case !ok:
		return `want "resource:action", "resource:*" or "*"`
	case strings.Contains(action, ":"):
		return "more than one ':'"
	case res == "*":
		return `no wildcard resource: grant each resource ("reports:read") or everything ("*")`
	case res == "" || action == "":
		return "empty resource or action"
	case len(res) > MaxNameLen || len(action) > MaxNameLen:
		return fmt.Sprintf("resource and action are at most %d bytes", MaxNameLen)
	case strings.Contains(s, "*"):
		return `a wildcard is a whole action ("reports:*") or the whole permission ("*")`
	}
	return "resource and action allow only ASCII letters, digits, '_', '-' and '.'"
}

// ValidateRoleName reports whether name is a well-formed role name: 1 to
// [MaxNameLen] ASCII letters, digits, '_', '-' or '.'. The error wraps
// [ErrInvalidRoleName].
func ValidateRoleName(name string) error {
	if validName(name) {
		return nil
	}
	return fmt.Errorf("%w %s: want 1 to %d ASCII letters, digits, '_', '-' or '.'", ErrInvalidRoleName, quote(name), MaxNameLen)
}

// Covers reports whether the permission pattern grant covers the permission
// want: they are equal, grant is "*", or grant is "resource:*" and want names
// the same resource ("predictions:*" covers "predictions:read" and
// "predictions:*", not "predictions_archive:read"). Both must be well formed;
// a malformed string covers nothing and is covered by nothing.
func Covers(grant, want string) bool {
	wk, wres := classify(want)
	if wk == kindInvalid {
		return false
	}
	return coversValid(grant, want, wk, wres)
}

// coversValid is Covers for a want already classified as valid (wk, wres).
// grant is classified here; an invalid grant covers nothing.
func coversValid(grant, want string, wk kind, wres string) bool {
	if grant == want {
		return grant != "" // want is valid, so grant is too
	}
	if grant == All {
		return true
	}
	// grant must be "resource:*" with want's resource; a concrete grant other
	// than want covers nothing, and "*" as want is only covered by "*".
	if wk == kindAll || len(grant) != len(wres)+2 || grant[len(grant)-2:] != ":*" {
		return false
	}
	return grant[:len(wres)] == wres
}

// quote returns s quoted for an error message, truncated to 80 bytes.
func quote(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%q...", s[:80])
	}
	return fmt.Sprintf("%q", s)
}
