package rbac

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ParseJSON reads a policy document and compiles it with [New]. The document
// is one JSON object whose members are roles:
//
//	{
//	  "operator":   {"description": "...", "permissions": ["dashboard:read", "alerts:read"]},
//	  "supervisor": {"description": "...", "inherits": ["operator"], "permissions": ["reports:read"]}
//	}
//
// Every member of a role is optional; "description" is a string,
// "inherits" and "permissions" are arrays of strings (null counts as
// empty). Unknown members are rejected, so a misspelt "permisions" cannot
// silently grant nothing, and so are duplicate members: a role defined twice
// is reported as [ErrDuplicateRole] rather than resolved by keeping the last
// definition, as encoding/json would. Structural problems wrap
// [ErrInvalidJSON]; problems of content are those of New.
func ParseJSON(data []byte) (*Policy, error) {
	roles, err := ParseRoles(data)
	if err != nil {
		return nil, err
	}
	return New(Config{Roles: roles})
}

// ParseRoles reads a policy document in the shape of [ParseJSON] and returns
// its roles in document order, without compiling them, for hosts that merge
// roles from several sources before calling [New]. Duplicate roles are
// reported as by ParseJSON; nothing else about the roles is checked.
func ParseRoles(data []byte) ([]Role, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := expectDelim(dec, '{'); err != nil {
		return nil, fmt.Errorf("%w: the document must be an object of roles: %w", ErrInvalidJSON, err)
	}
	var roles []Role
	var errs []error
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidJSON, err)
		}
		name, _ := tok.(string) // object keys are always strings
		r, err := decodeRole(dec, name)
		if err != nil {
			return nil, err
		}
		if seen[name] {
			errs = append(errs, roleErrf(name, "", "", ErrDuplicateRole, "defined more than once"))
			continue
		}
		seen[name] = true
		roles = append(roles, r)
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidJSON, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the policy object", ErrInvalidJSON)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return roles, nil
}

// decodeRole reads the object defining the role called name.
func decodeRole(dec *json.Decoder, name string) (Role, error) {
	r := Role{Name: name}
	if err := expectDelim(dec, '{'); err != nil {
		return r, roleErrf(name, "", "", ErrInvalidJSON, "a role must be an object: %w", err)
	}
	seen := make(map[string]bool, 3)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return r, roleErrf(name, "", "", ErrInvalidJSON, "%w", err)
		}
		field, _ := tok.(string)
		if seen[field] {
			return r, roleErrf(name, field, "", ErrInvalidJSON, "member given more than once")
		}
		seen[field] = true
		var dst any
		switch field {
		case "description":
			dst = &r.Description
		case "inherits":
			dst = &r.Inherits
		case "permissions":
			dst = &r.Permissions
		default:
			return r, roleErrf(name, field, "", ErrInvalidJSON, `unknown member (want "description", "inherits" or "permissions")`)
		}
		if err := dec.Decode(dst); err != nil {
			return r, roleErrf(name, field, "", ErrInvalidJSON, "%w", err)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return r, roleErrf(name, "", "", ErrInvalidJSON, "%w", err)
	}
	return r, nil
}

// expectDelim reads the next token and checks that it is the delimiter d.
func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		return fmt.Errorf("want %q, got %v", rune(d), tok)
	}
	return nil
}
