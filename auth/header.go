package auth

import (
	"net/http"
	"strings"
)

// MaxAuthorizationLength caps the Authorization header value that
// [ParseAuthorization] examines; longer values are rejected before any other
// work. 8 KiB is above any token Gatehouse issues.
const MaxAuthorizationLength = 8 << 10

// ParseAuthorization splits an Authorization header value into its scheme and
// credentials (RFC 9110 §11.6.2): `scheme SP credentials`. The scheme is
// returned as sent; compare it case-insensitively. ok is false when the value
// is empty, too long, has no scheme, an invalid scheme token, or control
// characters.
func ParseAuthorization(value string) (scheme, credentials string, ok bool) {
	if value == "" || len(value) > MaxAuthorizationLength {
		return "", "", false
	}
	i := strings.IndexByte(value, ' ')
	if i <= 0 {
		return "", "", false
	}
	scheme = value[:i]
	for j := 0; j < len(scheme); j++ {
		if !isTokenChar(scheme[j]) {
			return "", "", false
		}
	}
	credentials = strings.TrimLeft(value[i+1:], " ")
	for j := 0; j < len(credentials); j++ {
		if c := credentials[j]; c < 0x20 || c == 0x7f {
			return "", "", false
		}
	}
	return scheme, credentials, true
}

// BearerToken returns the token of an "Authorization: Bearer <token>" header
// (RFC 6750 §2.1; the scheme is matched case-insensitively).
//
// It returns [ErrNoCredentials] when there is no Authorization header or its
// scheme is not Bearer, and an *[Error] with code invalid_token when the
// scheme is Bearer but the value is not a b64token, is empty, or the header is
// repeated.
func BearerToken(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return "", ErrNoCredentials
	}
	scheme, cred, ok := ParseAuthorization(values[0])
	if !ok {
		if hasBearerPrefix(values[0]) {
			return "", NewError(CodeInvalidToken, "malformed bearer token")
		}
		return "", ErrNoCredentials
	}
	if !strings.EqualFold(scheme, "Bearer") {
		return "", ErrNoCredentials
	}
	if len(values) > 1 {
		return "", NewError(CodeInvalidToken, "more than one Authorization header")
	}
	if !IsB64Token(cred) {
		return "", NewError(CodeInvalidToken, "malformed bearer token")
	}
	return cred, nil
}

func hasBearerPrefix(v string) bool {
	return len(v) >= 6 && strings.EqualFold(v[:6], "Bearer")
}

// IsB64Token reports whether s matches the RFC 6750 §2.1 b64token syntax:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func IsB64Token(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' {
			continue
		}
		break
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// isTokenChar reports whether c is a tchar of RFC 9110 §5.6.2.
func isTokenChar(c byte) bool {
	if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
