package server

import (
	"crypto/sha256"
	"encoding/base64"

	"github.com/gatehouse-auth/gatehouse/internal/secure"
)

// S256Challenge returns the S256 code_challenge of a PKCE code_verifier:
// BASE64URL(SHA256(ASCII(verifier))) without padding (RFC 7636 §4.2).
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// verifyPKCE checks a code_verifier against the stored challenge (RFC 7636
// §4.6), in constant time.
func verifyPKCE(method, challenge, verifier string, allowPlain bool) bool {
	if !validVerifier(verifier) {
		return false
	}
	switch method {
	case pkceS256:
		return secure.Equal(S256Challenge(verifier), challenge)
	case pkcePlain:
		return allowPlain && secure.Equal(verifier, challenge)
	}
	return false
}

// validVerifier reports whether v is a code_verifier of RFC 7636 §4.1:
// 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
func validVerifier(v string) bool {
	return len(v) >= 43 && len(v) <= 128 && pkceChars(v)
}

func pkceChars(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !isAlnum(c) && c != '-' && c != '.' && c != '_' && c != '~' {
			return false
		}
	}
	return true
}
