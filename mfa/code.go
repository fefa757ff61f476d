package mfa

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"hash"
)

// codeKind is what a submitted code looks like.
type codeKind int

const (
	kindOTP    codeKind = iota + 1 // 6 to 8 digits: TOTP or a sent code
	kindBackup                     // 12 Crockford base32 characters
)

// maxCodeInput caps the length of a submitted code before any other work.
const maxCodeInput = 64

// backupLen is the number of symbols of a backup code (5 bits each).
const backupLen = 12

// crockford is the alphabet of backup codes: Crockford's base32, which has no
// I, L, O or U, so that 1/I/L and 0/O cannot be confused.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// parseCode classifies a code typed by a user and returns its canonical
// form. Spaces and hyphens are ignored. A one-time code is 6 to 8 ASCII
// digits. A backup code is 12 symbols of Crockford base32 in either case,
// with O read as 0 and I or L as 1. Anything else is ErrMalformedCode.
func parseCode(s string) (codeKind, string, error) {
	if len(s) > maxCodeInput {
		return 0, "", ErrMalformedCode
	}
	var buf [backupLen]byte
	n, digits := 0, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '-' {
			continue
		}
		if n == len(buf) {
			return 0, "", ErrMalformedCode
		}
		if c < '0' || c > '9' {
			digits = false
		}
		buf[n] = c
		n++
	}
	if digits && n >= 6 && n <= 8 {
		if n == len(s) {
			return kindOTP, s, nil // already canonical: no copy
		}
		return kindOTP, string(buf[:n]), nil
	}
	if n != backupLen {
		return 0, "", ErrMalformedCode
	}
	for i := range n {
		c, ok := crockfordSymbol(buf[i])
		if !ok {
			return 0, "", ErrMalformedCode
		}
		buf[i] = c
	}
	return kindBackup, string(buf[:n]), nil
}

// crockfordSymbol returns the canonical backup-code symbol for c.
func crockfordSymbol(c byte) (byte, bool) {
	if 'a' <= c && c <= 'z' {
		c -= 'a' - 'A'
	}
	switch c {
	case 'O':
		return '0', true
	case 'I', 'L':
		return '1', true
	case 'U':
		return 0, false
	}
	if ('0' <= c && c <= '9') || ('A' <= c && c <= 'Z') {
		return c, true
	}
	return 0, false
}

// parseDigits returns the value of an all-digit code of 6 to 8 digits.
func parseDigits(s string) uint32 {
	var v uint32
	for i := 0; i < len(s); i++ {
		v = v*10 + uint32(s[i]-'0')
	}
	return v
}

// hashFunc returns the constructor of the HMAC hash named alg ("SHA1",
// "SHA256", "SHA512"; RFC 6238 §1.2), or nil.
func hashFunc(alg string) func() hash.Hash {
	switch alg {
	case "SHA1":
		return sha1.New
	case "SHA256":
		return sha256.New
	case "SHA512":
		return sha512.New
	}
	return nil
}

// pow10 holds 10^digits for the supported code lengths.
var pow10 = [...]uint32{6: 1_000_000, 7: 10_000_000, 8: 100_000_000}

// hotp computes the HOTP value of counter (RFC 4226 §5.3: HMAC, dynamic
// truncation, modulo 10^digits) with mac, an HMAC keyed with the secret
// that is fresh or was reset. buf is scratch space for the digest.
func hotp(mac hash.Hash, counter uint64, digits int, buf []byte) uint32 {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac.Write(msg[:])
	h := mac.Sum(buf[:0])
	off := h[len(h)-1] & 0x0f
	bin := binary.BigEndian.Uint32(h[off:off+4]) & 0x7fffffff
	return bin % pow10[digits]
}

// totpMatcher checks TOTP codes for one secret. It is not safe for
// concurrent use.
type totpMatcher struct {
	mac    hash.Hash
	dirty  bool // mac has been written to since it was made or reset
	digits int
	period int64
	buf    [sha512.Size]byte // digest scratch space
}

// code returns the HOTP value of counter under the matcher's secret.
func (t *totpMatcher) code(counter uint64) uint32 {
	if t.dirty {
		t.mac.Reset()
	}
	t.dirty = true
	return hotp(t.mac, counter, t.digits, t.buf[:])
}

func newTOTPMatcher(secret []byte, alg string, digits, period int) (*totpMatcher, bool) {
	h := hashFunc(alg)
	if h == nil || digits < 6 || digits > 8 || period <= 0 {
		return nil, false
	}
	return &totpMatcher{mac: hmac.New(h, secret), digits: digits, period: int64(period)}, true
}

// step returns the time step of Unix time unix (RFC 6238 §4.2: floor of
// (unix - T0) / X with T0 = 0).
func (t *totpMatcher) step(unix int64) int64 {
	s := unix / t.period
	if unix%t.period < 0 {
		s--
	}
	return s
}

// match returns the time step whose code is code among the current step of
// unix and one step either side (RFC 6238 §5.2 recommends at most one step
// of network delay), trying the current step first. code must already have
// t.digits digits. Each comparison is constant-time.
func (t *totpMatcher) match(code string, unix int64) (int64, bool) {
	if len(code) != t.digits {
		return 0, false
	}
	want := int32(parseDigits(code))
	cur := t.step(unix)
	for _, s := range [3]int64{cur, cur - 1, cur + 1} {
		if s < 0 {
			continue
		}
		if subtle.ConstantTimeEq(int32(t.code(uint64(s))), want) == 1 {
			return s, true
		}
	}
	return 0, false
}
