// Package secure holds the small cryptographic helpers Gatehouse packages
// share: random tokens from crypto/rand, unbiased base62 strings, SHA-256
// digests of high-entropy secrets for storage, and constant-time comparison.
package secure

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
)

// RandomBytes returns n bytes from crypto/rand. (Since Go 1.24 crypto/rand.Read
// never fails; it aborts the program if the OS source is broken.)
func RandomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// Token returns n random bytes encoded as unpadded base64url: n=32 gives a
// 43-character, 256-bit token.
func Token(n int) string {
	return base64.RawURLEncoding.EncodeToString(RandomBytes(n))
}

// Base62Alphabet is the alphabet of [Base62]: digits, upper, then lower case.
const Base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Base62 returns n random base62 characters (about 5.95 bits each), without
// modulo bias: bytes of 248 and above are rejected.
func Base62(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+8)
	for len(out) < n {
		_, _ = rand.Read(buf)
		for _, b := range buf {
			if b >= 248 {
				continue
			}
			out = append(out, Base62Alphabet[b%62])
			if len(out) == n {
				break
			}
		}
	}
	return string(out)
}

// HashHex returns the hex SHA-256 of s. It is the storage form of
// high-entropy secrets (random tokens, session IDs, one-time codes with a
// server-side salt); it must not be used for passwords.
func HashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Equal compares a and b in time that depends only on their lengths.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
