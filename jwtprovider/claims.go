package jwtprovider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// TokenType tells access tokens from refresh tokens. It is carried in the
// "typ" header, which the signature covers.
type TokenType string

// Token types and the "typ" header values that carry them.
const (
	// AccessToken is an access token, "typ": "at+jwt" (RFC 9068 §2.1).
	AccessToken TokenType = "access"
	// RefreshToken is a refresh token, "typ": "refresh+jwt". It is only
	// ever accepted by [Provider.Refresh] and [Provider.Revoke].
	RefreshToken TokenType = "refresh"
)

const (
	accessTyp  = "at+jwt"
	refreshTyp = "refresh+jwt"
)

// typeFromHeader maps a "typ" header value to a TokenType, or "" for any
// other value. Media types compare case-insensitively and the
// "application/" prefix is optional (RFC 7515 §4.1.9, RFC 9068 §4).
func typeFromHeader(typ string) TokenType {
	if len(typ) > len("application/") && strings.EqualFold(typ[:len("application/")], "application/") {
		typ = typ[len("application/"):]
	}
	switch {
	case strings.EqualFold(typ, accessTyp):
		return AccessToken
	case strings.EqualFold(typ, refreshTyp):
		return RefreshToken
	}
	return ""
}

// Claims are the verified claims of a token. The registered claims (RFC 7519
// §4.1) are in the embedded jwt.RegisteredClaims, so *Claims is a jwt.Claims
// of github.com/golang-jwt/jwt/v5.
//
// Claims returned by [Provider.Verify] may be shared with the verified-token
// cache and with concurrent callers: they are read-only.
type Claims struct {
	jwt.RegisteredClaims

	// Username is the "preferred_username" claim (OpenID Connect Core §5.1).
	Username string
	// Email is the "email" claim.
	Email string
	// Roles is the "roles" claim (RFC 9068 §2.2.3.1).
	Roles []string
	// Scopes holds the space-separated "scope" claim (RFC 9068 §2.2.3),
	// split. Nil when the token has no "scope" claim (not narrowed); a
	// non-nil empty slice when the claim is present and empty (grants
	// nothing).
	Scopes []string
	// ClientID is the "client_id" claim (RFC 9068 §2.2): the OAuth client
	// the token was issued to.
	ClientID string
	// AMR is the "amr" claim: the authentication methods used (RFC 8176).
	AMR []string
	// AuthTime is the "auth_time" claim: when the second factor was
	// verified. Nil when absent.
	AuthTime *jwt.NumericDate
	// SessionID is the "sid" claim: the ID of the refresh-token family the
	// token belongs to. Revoking the family revokes every token carrying it.
	SessionID string
	// Custom holds every other claim, decoded with encoding/json (numbers
	// are float64). Nil when there are none.
	Custom map[string]any

	// Type is the token type from the "typ" header, "" for a type this
	// package does not issue. It is not a claim.
	Type TokenType `json:"-"`
	// KeyID is the "kid" header: the key that signed the token. It is not a
	// claim.
	KeyID string `json:"-"`
}

// The claim names this package models. Custom claims may not use them.
const (
	claimIss      = "iss"
	claimSub      = "sub"
	claimAud      = "aud"
	claimExp      = "exp"
	claimNbf      = "nbf"
	claimIat      = "iat"
	claimJti      = "jti"
	claimUsername = "preferred_username"
	claimEmail    = "email"
	claimRoles    = "roles"
	claimScope    = "scope"
	claimClientID = "client_id"
	claimAMR      = "amr"
	claimAuthTime = "auth_time"
	claimSID      = "sid"
)

// claimBit returns the duplicate-detection bit of a modelled claim name, or
// 0 for a custom claim.
func claimBit(name string) uint32 {
	switch name {
	case claimIss:
		return 1 << 0
	case claimSub:
		return 1 << 1
	case claimAud:
		return 1 << 2
	case claimExp:
		return 1 << 3
	case claimNbf:
		return 1 << 4
	case claimIat:
		return 1 << 5
	case claimJti:
		return 1 << 6
	case claimUsername:
		return 1 << 7
	case claimEmail:
		return 1 << 8
	case claimRoles:
		return 1 << 9
	case claimScope:
		return 1 << 10
	case claimClientID:
		return 1 << 11
	case claimAMR:
		return 1 << 12
	case claimAuthTime:
		return 1 << 13
	case claimSID:
		return 1 << 14
	}
	return 0
}

// IsReservedClaim reports whether name is a claim this package sets itself
// and therefore may not appear in [Subject.Custom].
func IsReservedClaim(name string) bool { return claimBit(name) != 0 }

// parseClaims decodes the claims set s (the decoded payload, which the
// signature has already covered) into c. A member that appears twice, a
// modelled claim of the wrong JSON type, and a date outside
// 1970..9999 are errors.
func parseClaims(s string, c *Claims) error {
	r, err := newObjectReader(s)
	if err != nil {
		return err
	}
	var seen uint32
	for {
		rawKey, raw, ok, err := r.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		name, ok := jsonString(rawKey)
		if !ok {
			return errSyntax
		}
		bit := claimBit(name)
		if bit == 0 {
			if _, dup := c.Custom[name]; dup {
				return errDupKey
			}
			var v any
			if err := json.Unmarshal([]byte(raw), &v); err != nil {
				return errSyntax
			}
			if c.Custom == nil {
				c.Custom = make(map[string]any)
			}
			c.Custom[name] = v
			continue
		}
		if seen&bit != 0 {
			return errDupKey
		}
		seen |= bit
		if !c.setClaim(name, raw) {
			return fmt.Errorf("%w: claim %q has the wrong type", ErrMalformed, name)
		}
	}
}

// setClaim stores the modelled claim name from its raw JSON value.
func (c *Claims) setClaim(name, raw string) bool {
	var ok bool
	switch name {
	case claimIss:
		c.Issuer, ok = jsonString(raw)
	case claimSub:
		c.Subject, ok = jsonString(raw)
	case claimJti:
		c.ID, ok = jsonString(raw)
	case claimUsername:
		c.Username, ok = jsonString(raw)
	case claimEmail:
		c.Email, ok = jsonString(raw)
	case claimClientID:
		c.ClientID, ok = jsonString(raw)
	case claimSID:
		c.SessionID, ok = jsonString(raw)
	case claimAud:
		// RFC 7519 §4.1.3: a single string or an array of strings.
		if raw != "" && raw[0] == '"' {
			var a string
			if a, ok = jsonString(raw); ok {
				c.Audience = jwt.ClaimStrings{a}
			}
		} else {
			var a []string
			a, ok = jsonStrings(raw)
			c.Audience = a
		}
	case claimRoles:
		c.Roles, ok = jsonStrings(raw)
	case claimAMR:
		c.AMR, ok = jsonStrings(raw)
	case claimScope:
		var s string
		if s, ok = jsonString(raw); ok {
			c.Scopes = splitScope(s)
		}
	case claimExp:
		c.ExpiresAt, ok = numericDate(raw)
	case claimNbf:
		c.NotBefore, ok = numericDate(raw)
	case claimIat:
		c.IssuedAt, ok = numericDate(raw)
	case claimAuthTime:
		c.AuthTime, ok = numericDate(raw)
	}
	return ok
}

func numericDate(raw string) (*jwt.NumericDate, bool) {
	t, ok := jsonDate(raw)
	if !ok {
		return nil, false
	}
	return &jwt.NumericDate{Time: t}, true
}

// splitScope splits a "scope" value on spaces (RFC 6749 §3.3). The result is
// never nil.
func splitScope(s string) []string {
	f := strings.Fields(s)
	if f == nil {
		f = []string{}
	}
	return f
}

// validScopeToken reports whether s is a scope-token of RFC 6749 §3.3:
// 1*( %x21 / %x23-5B / %x5D-7E ).
func validScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// has reports whether the claim name is present in c.
func (c *Claims) has(name string) bool {
	switch name {
	case claimIss:
		return c.Issuer != ""
	case claimSub:
		return c.Subject != ""
	case claimAud:
		return len(c.Audience) > 0
	case claimExp:
		return c.ExpiresAt != nil
	case claimNbf:
		return c.NotBefore != nil
	case claimIat:
		return c.IssuedAt != nil
	case claimJti:
		return c.ID != ""
	case claimUsername:
		return c.Username != ""
	case claimEmail:
		return c.Email != ""
	case claimRoles:
		return c.Roles != nil
	case claimScope:
		return c.Scopes != nil
	case claimClientID:
		return c.ClientID != ""
	case claimAMR:
		return c.AMR != nil
	case claimAuthTime:
		return c.AuthTime != nil
	case claimSID:
		return c.SessionID != ""
	}
	_, ok := c.Custom[name]
	return ok
}

// wireClaims is the JSON form of the modelled claims.
type wireClaims struct {
	Iss      string   `json:"iss,omitempty"`
	Sub      string   `json:"sub,omitempty"`
	Aud      any      `json:"aud,omitempty"`
	Exp      *int64   `json:"exp,omitempty"`
	Nbf      *int64   `json:"nbf,omitempty"`
	Iat      *int64   `json:"iat,omitempty"`
	Jti      string   `json:"jti,omitempty"`
	Username string   `json:"preferred_username,omitempty"`
	Email    string   `json:"email,omitempty"`
	Roles    []string `json:"roles,omitempty"`
	Scope    *string  `json:"scope,omitempty"`
	ClientID string   `json:"client_id,omitempty"`
	AMR      []string `json:"amr,omitempty"`
	AuthTime *int64   `json:"auth_time,omitempty"`
	SID      string   `json:"sid,omitempty"`
}

func unixPtr(d *jwt.NumericDate) *int64 {
	if d == nil {
		return nil
	}
	u := d.Unix()
	return &u
}

// MarshalJSON encodes c as a flat claims set: the modelled claims, then the
// custom claims in key order. Dates are whole seconds; a single audience is
// a string (RFC 7519 §4.1.3). It fails if a custom claim reuses a modelled
// name.
func (c Claims) MarshalJSON() ([]byte, error) {
	w := wireClaims{
		Iss: c.Issuer, Sub: c.Subject, Jti: c.ID,
		Exp: unixPtr(c.ExpiresAt), Nbf: unixPtr(c.NotBefore), Iat: unixPtr(c.IssuedAt),
		Username: c.Username, Email: c.Email, Roles: c.Roles, ClientID: c.ClientID,
		AMR: c.AMR, AuthTime: unixPtr(c.AuthTime), SID: c.SessionID,
	}
	switch len(c.Audience) {
	case 0:
	case 1:
		w.Aud = c.Audience[0]
	default:
		w.Aud = []string(c.Audience)
	}
	if c.Scopes != nil {
		s := strings.Join(c.Scopes, " ")
		w.Scope = &s
	}
	out, err := json.Marshal(w)
	if err != nil || len(c.Custom) == 0 {
		return out, err
	}
	var buf bytes.Buffer
	buf.Write(out[:len(out)-1])
	first := len(out) == 2 // "{}"
	for _, k := range slices.Sorted(maps.Keys(c.Custom)) {
		if IsReservedClaim(k) {
			return nil, fmt.Errorf("jwtprovider: custom claim %q is reserved", k)
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(c.Custom[k])
		if err != nil {
			return nil, fmt.Errorf("jwtprovider: custom claim %q: %w", k, err)
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// Map returns the claims as a new map in their JSON shape (dates as Unix
// seconds in float64, as encoding/json would decode them; "aud" and "roles"
// as []string; "scope" as the space-separated string), with the custom
// claims. It is what [auth.Principal.Claims] holds.
func (c *Claims) Map() map[string]any {
	m := make(map[string]any, 12+len(c.Custom))
	maps.Copy(m, c.Custom)
	putString := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	putDate := func(k string, d *jwt.NumericDate) {
		if d != nil {
			m[k] = float64(d.Unix())
		}
	}
	putString(claimIss, c.Issuer)
	putString(claimSub, c.Subject)
	putString(claimJti, c.ID)
	putString(claimUsername, c.Username)
	putString(claimEmail, c.Email)
	putString(claimClientID, c.ClientID)
	putString(claimSID, c.SessionID)
	putDate(claimExp, c.ExpiresAt)
	putDate(claimNbf, c.NotBefore)
	putDate(claimIat, c.IssuedAt)
	putDate(claimAuthTime, c.AuthTime)
	if c.Audience != nil {
		m[claimAud] = []string(c.Audience)
	}
	if c.Roles != nil {
		m[claimRoles] = c.Roles
	}
	if c.AMR != nil {
		m[claimAMR] = c.AMR
	}
	if c.Scopes != nil {
		m[claimScope] = strings.Join(c.Scopes, " ")
	}
	return m
}

// MFA returns the second-factor state the claims record: verified when
// "amr" contains "mfa" (RFC 8176 §2), at "auth_time".
func (c *Claims) MFA() auth.MFAState {
	st := auth.MFAState{Methods: c.AMR}
	if slices.Contains(c.AMR, "mfa") {
		st.Verified = true
		if c.AuthTime != nil {
			st.VerifiedAt = c.AuthTime.Time
		}
	}
	return st
}

// Principal returns the principal the claims describe, authenticated with
// [auth.MethodJWT]. The principal shares c's slices: treat both as
// read-only.
func (c *Claims) Principal() *auth.Principal {
	p := &auth.Principal{
		Subject:      c.Subject,
		Username:     c.Username,
		Email:        c.Email,
		Roles:        c.Roles,
		Scopes:       c.Scopes,
		Method:       auth.MethodJWT,
		CredentialID: c.ID,
		MFA:          c.MFA(),
		Claims:       c.Map(),
	}
	if c.ExpiresAt != nil {
		p.ExpiresAt = c.ExpiresAt.Time
	}
	return p
}

// TokenInfo describes a token for the /token/info endpoint. Times are
// encoded in RFC 3339.
type TokenInfo struct {
	// ID is the "jti" claim.
	ID string `json:"jti"`
	// IssuedAt is the "iat" claim.
	IssuedAt time.Time `json:"issued_at"`
	// ExpiresAt is the "exp" claim.
	ExpiresAt time.Time `json:"expires_at"`
	// Subject is the "sub" claim.
	Subject string `json:"subject"`
	// TokenType is "access" or "refresh".
	TokenType TokenType `json:"token_type"`
	// Scopes are the token's scopes; null when the token is not narrowed
	// by scopes.
	Scopes []string `json:"scopes"`
}

// Info returns the [TokenInfo] of c, times in UTC.
func (c *Claims) Info() TokenInfo {
	ti := TokenInfo{ID: c.ID, Subject: c.Subject, TokenType: c.Type, Scopes: c.Scopes}
	if c.IssuedAt != nil {
		ti.IssuedAt = c.IssuedAt.UTC()
	}
	if c.ExpiresAt != nil {
		ti.ExpiresAt = c.ExpiresAt.UTC()
	}
	return ti
}

// UnmarshalJSON decodes a claims set as the verifier does: the modelled
// claims into their fields, every other claim into Custom. It rejects
// duplicate members and modelled claims of the wrong JSON type. With it,
// *Claims works as the claims type of golang-jwt's ParseWithClaims.
func (c *Claims) UnmarshalJSON(b []byte) error {
	*c = Claims{}
	if err := parseClaims(string(b), c); err != nil {
		return fmt.Errorf("jwtprovider: decode claims: %w", err)
	}
	return nil
}
