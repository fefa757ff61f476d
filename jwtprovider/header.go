package jwtprovider

import "fmt"

// maxHeaderSize bounds the decoded JOSE header. Headers this package
// issues are under 100 bytes.
const maxHeaderSize = 1024

// header holds the JOSE header parameters the verifier uses (RFC 7515 §4.1).
// Its strings are substrings of the decoded header.
type header struct {
	alg string
	kid string
	typ string
}

// parseHeader reads a decoded JOSE header. It requires a JSON object with a
// string "alg"; "kid" and "typ", when present, must be strings. It rejects:
//   - any "crit" parameter (RFC 7515 §4.1.11: a recipient must reject a JWS
//     whose critical extensions it does not understand, and this package
//     understands none), with [ErrCritical];
//   - the key-carrying parameters "jwk", "jku", "x5u" and "x5c" (RFC 7515
//     §4.1.2-4.1.6), with [ErrEmbeddedKey]: keys come only from the key set,
//     and a token this package issued never carries them;
//   - a parameter it reads that appears twice (RFC 7515 §4 allows rejecting
//     duplicates), and anything that is not exactly one JSON object, with
//     [ErrMalformed].
//
// Other parameters are ignored, as RFC 7515 §4 requires. Member names are
// compared after JSON unescaping, so "\u0063rit" is "crit".
func parseHeader(s string) (header, error) {
	var h header
	r, err := newObjectReader(s)
	if err != nil {
		return h, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	var seen uint8
	for {
		rawKey, raw, ok, err := r.next()
		if err != nil {
			return header{}, fmt.Errorf("%w: header: %w", ErrMalformed, err)
		}
		if !ok {
			break
		}
		name, ok := jsonString(rawKey)
		if !ok {
			return header{}, fmt.Errorf("%w: header: %w", ErrMalformed, errSyntax)
		}
		var bit uint8
		var dst *string
		switch name {
		case "alg":
			bit, dst = 1, &h.alg
		case "kid":
			bit, dst = 2, &h.kid
		case "typ":
			bit, dst = 4, &h.typ
		case "crit":
			return header{}, ErrCritical
		case "jwk", "jku", "x5u", "x5c":
			return header{}, fmt.Errorf("%w: %q", ErrEmbeddedKey, name)
		default:
			continue
		}
		if seen&bit != 0 {
			return header{}, fmt.Errorf("%w: header: %w: %q", ErrMalformed, errDupKey, name)
		}
		seen |= bit
		v, ok := jsonString(raw)
		if !ok {
			return header{}, fmt.Errorf("%w: header parameter %q is not a string", ErrMalformed, name)
		}
		*dst = v
	}
	if seen&1 == 0 {
		return header{}, fmt.Errorf("%w: header has no \"alg\"", ErrMalformed)
	}
	return h, nil
}
