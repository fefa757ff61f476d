package apikey

import (
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/gatehouse-auth/gatehouse/internal/secure"
)

// Limits and defaults of the key format.
const (
	// DefaultPrefix is the prefix of keys when [Format.Prefix] is empty.
	DefaultPrefix = "gk_"
	// MaxPrefixLength is the longest prefix a [Format] accepts.
	MaxPrefixLength = 16
	// DefaultBodyLength is the number of random base62 characters in a new
	// key when [Format.BodyLength] is zero: about 190 bits.
	DefaultBodyLength = 32
	// MinBodyLength and MaxBodyLength bound the random body, both when
	// generating and when parsing.
	MinBodyLength = 32
	MaxBodyLength = 128
	// ChecksumLength is the length of the base62 CRC-32 checksum that ends
	// every key.
	ChecksumLength = 6
	// MaxKeyLength is the length of the longest key any Format accepts.
	// Longer values are rejected before any other work.
	MaxKeyLength = MaxPrefixLength + MaxBodyLength + ChecksumLength
	// displayBodyChars is how many body characters the display prefix keeps.
	displayBodyChars = 4
)

// Format is the syntax of API keys:
//
//	<prefix><body><checksum>
//	gk_   7Hq2...(32 or more base62 characters)   4bZ0aQ
//
// The body is random base62 from crypto/rand. The checksum is the CRC-32
// (IEEE) of prefix and body, written as exactly 6 base62 digits, most
// significant first. It lets a secret scanner, a client library or the
// server tell a well-formed key from a mistyped, truncated or invented one
// without any lookup; it is an integrity check against accidents, not a
// secret and not a signature.
//
// Base62 and the underscore are "word" characters, so a key is selected by a
// double click and survives URLs, headers and shell quoting unchanged; the
// prefix makes keys recognisable to people and to scanners.
//
// The zero Format is the default: prefix "gk_", 32-character body. A Format
// is a value and safe for concurrent use.
type Format struct {
	// Prefix starts every key. Empty means [DefaultPrefix]. It must be 2 to
	// 16 characters of [A-Za-z0-9_] ending with "_" (for example "tfx_" or
	// "acme_live_"); the trailing underscore separates it from the body.
	Prefix string
	// BodyLength is the number of random base62 characters of new keys.
	// Zero means [DefaultBodyLength]; it must be between [MinBodyLength] and
	// [MaxBodyLength]. Parsing accepts any body length in that range, so
	// changing BodyLength does not invalidate existing keys.
	BodyLength int
}

func (f Format) withDefaults() Format {
	if f.Prefix == "" {
		f.Prefix = DefaultPrefix
	}
	if f.BodyLength == 0 {
		f.BodyLength = DefaultBodyLength
	}
	return f
}

// Validate reports whether f (after defaults) is a usable format.
func (f Format) Validate() error {
	f = f.withDefaults()
	p := f.Prefix
	if len(p) < 2 || len(p) > MaxPrefixLength || p[len(p)-1] != '_' {
		return fmt.Errorf("apikey: prefix %q must be 2-%d characters ending with '_'", p, MaxPrefixLength)
	}
	for i := 0; i < len(p); i++ {
		if !isBase62(p[i]) && p[i] != '_' {
			return fmt.Errorf("apikey: prefix %q may only hold [A-Za-z0-9_]", p)
		}
	}
	if f.BodyLength < MinBodyLength || f.BodyLength > MaxBodyLength {
		return fmt.Errorf("apikey: body length %d outside [%d, %d]", f.BodyLength, MinBodyLength, MaxBodyLength)
	}
	return nil
}

// Generate returns a new random key in format f. It fails only when f is
// invalid.
func (f Format) Generate() (string, error) {
	if err := f.Validate(); err != nil {
		return "", err
	}
	f = f.withDefaults()
	s := f.Prefix + secure.Base62(f.BodyLength)
	return s + Checksum(s), nil
}

// Check reports whether key is well formed in format f and carries a valid
// checksum. It returns nil, [ErrMalformed] or [ErrChecksum]. It does not
// tell whether the key exists: that takes a [Manager].
func (f Format) Check(key string) error {
	return f.withDefaults().check(key)
}

// check is Check for a format with defaults filled.
func (f Format) check(key string) error {
	return parser{prefix: f.Prefix, prefixCRC: crcUpdate(^uint32(0), f.Prefix)}.check(key)
}

// parser checks keys of one prefix. Its prefixCRC is the running CRC-32
// state after the prefix, so that check hashes only the body.
type parser struct {
	prefix    string
	prefixCRC uint32
}

func newParser(f Format) parser {
	return parser{prefix: f.Prefix, prefixCRC: crcUpdate(^uint32(0), f.Prefix)}
}

// check validates key in one pass and does not allocate. Every key of a
// given length costs the same, whatever its content.
func (ps parser) check(key string) error {
	p, n := len(ps.prefix), len(key)
	if n < p+MinBodyLength+ChecksumLength || n > p+MaxBodyLength+ChecksumLength {
		return ErrMalformed
	}
	if key[:p] != ps.prefix {
		return ErrMalformed
	}
	body, sum := key[p:n-ChecksumLength], key[n-ChecksumLength:]
	crc, ok := ps.prefixCRC, true
	for i := 0; i < len(body); i++ {
		c := body[i]
		ok = ok && isBase62(c)
		crc = crc32.IEEETable[byte(crc)^c] ^ (crc >> 8)
	}
	var v uint64
	for i := 0; i < len(sum); i++ {
		c := sum[i]
		ok = ok && isBase62(c)
		v = v*62 + uint64(base62Value(c))
	}
	if !ok {
		return ErrMalformed
	}
	if v != uint64(^crc) {
		return ErrChecksum
	}
	return nil
}

// Display returns the display prefix of key: its prefix and the first 4
// characters of its body ("gk_7Hq2"), which identify a key to people in
// lists and logs without revealing it. It returns "" when key does not start
// with f's prefix followed by 4 base62 characters.
func (f Format) Display(key string) string {
	f = f.withDefaults()
	n := len(f.Prefix) + displayBodyChars
	if len(key) < n || key[:len(f.Prefix)] != f.Prefix {
		return ""
	}
	for i := len(f.Prefix); i < n; i++ {
		if !isBase62(key[i]) {
			return ""
		}
	}
	return key[:n]
}

// HasPrefix reports whether s starts with f's prefix: whether s claims to be
// a key of this format, well formed or not.
func (f Format) HasPrefix(s string) bool {
	p := f.withDefaults().Prefix
	return len(s) >= len(p) && s[:len(p)] == p
}

// Checksum returns the 6-character base62 CRC-32 (IEEE) checksum of s, as
// appended to prefix and body to form a key.
func Checksum(s string) string {
	c := uint64(crcString(s))
	var b [ChecksumLength]byte
	for i := ChecksumLength - 1; i >= 0; i-- {
		b[i] = secure.Base62Alphabet[c%62]
		c /= 62
	}
	return string(b[:])
}

// crcString is crc32.ChecksumIEEE over a string, without converting it to a
// byte slice (which would allocate).
func crcString(s string) uint32 { return ^crcUpdate(^uint32(0), s) }

// crcUpdate feeds s to a running (pre-inverted) CRC-32 state.
func crcUpdate(crc uint32, s string) uint32 {
	for i := 0; i < len(s); i++ {
		crc = crc32.IEEETable[byte(crc)^s[i]] ^ (crc >> 8)
	}
	return crc
}

func isBase62(c byte) bool {
	return c-'0' < 10 || (c|0x20)-'a' < 26
}

// base62Value is the digit value of c in [secure.Base62Alphabet]; for a
// character outside base62 the result is meaningless but in range.
func base62Value(c byte) byte {
	switch {
	case c <= '9':
		return (c - '0') & 63
	case c <= 'Z':
		return (c - 'A' + 10) & 63
	}
	return (c - 'a' + 36) & 63
}

// reasonOf maps a rejection cause to the Reason of an api_key_rejected event.
func reasonOf(err error) string {
	switch {
	case errors.Is(err, ErrMalformed):
		return "malformed"
	case errors.Is(err, ErrChecksum):
		return "bad_checksum"
	case errors.Is(err, ErrNotFound):
		return "unknown_key"
	case errors.Is(err, ErrRevoked):
		return "revoked"
	case errors.Is(err, ErrExpired):
		return "expired"
	case errors.Is(err, ErrOwnerDisabled):
		return "owner_disabled"
	}
	return "rejected"
}
