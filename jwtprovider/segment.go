package jwtprovider

// This file decodes the base64url segments of a compact JWS (RFC 7515 §2,
// base64url without padding, RFC 4648 §5) straight from the token string into
// a caller's buffer, so that the hot path does not copy the token first.

// b64Value returns the 6-bit value of a base64url character, or 0xff.
func b64Value(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c - 'A'
	case 'a' <= c && c <= 'z':
		return c - 'a' + 26
	case '0' <= c && c <= '9':
		return c - '0' + 52
	case c == '-':
		return 62
	case c == '_':
		return 63
	}
	return 0xff
}

// decodedLen returns the number of bytes an unpadded base64url string of n
// characters decodes to.
func decodedLen(n int) int { return n * 6 / 8 }

// decodeSegment decodes the unpadded base64url s into dst, which must hold
// decodedLen(len(s)) bytes, and returns the number of bytes written. It is
// strict: padding, characters outside the URL-safe alphabet, an impossible
// length, and non-zero trailing bits are rejected, so that each byte string
// has exactly one accepted encoding and a token cannot be altered without
// changing what it decodes to.
func decodeSegment(dst []byte, s string) (int, bool) {
	if len(s)%4 == 1 || len(dst) < decodedLen(len(s)) {
		return 0, false
	}
	n, i := 0, 0
	for ; i+4 <= len(s); i += 4 {
		a, b, c, d := b64Value(s[i]), b64Value(s[i+1]), b64Value(s[i+2]), b64Value(s[i+3])
		if (a|b|c|d)&0xc0 != 0 {
			return 0, false
		}
		dst[n] = a<<2 | b>>4
		dst[n+1] = b<<4 | c>>2
		dst[n+2] = c<<6 | d
		n += 3
	}
	switch len(s) - i {
	case 2:
		a, b := b64Value(s[i]), b64Value(s[i+1])
		if (a|b)&0xc0 != 0 || b&0x0f != 0 {
			return 0, false
		}
		dst[n] = a<<2 | b>>4
		n++
	case 3:
		a, b, c := b64Value(s[i]), b64Value(s[i+1]), b64Value(s[i+2])
		if (a|b|c)&0xc0 != 0 || c&0x03 != 0 {
			return 0, false
		}
		dst[n] = a<<2 | b>>4
		dst[n+1] = b<<4 | c>>2
		n += 2
	}
	return n, true
}
