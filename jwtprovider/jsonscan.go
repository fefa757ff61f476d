package jwtprovider

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds the small JSON reader of the verification path. It reads
// the top-level object of a JOSE header or a claims set member by member,
// validating the full RFC 8259 grammar as it goes, and hands each value over
// as its raw text. Strings without escapes are returned as substrings of the
// decoded segment, so reading a header allocates nothing and reading a claims
// set allocates only the slices and dates it returns. Values the provider
// does not model (custom claims, escaped strings) are decoded with
// encoding/json.

// maxJSONDepth bounds the nesting of arrays and objects inside a header or
// claims set; deeper values are rejected with errTooDeep.
const maxJSONDepth = 32

var (
	errSyntax  = errors.New("jwtprovider: invalid JSON")
	errTooDeep = errors.New("jwtprovider: JSON nested too deeply")
	errDupKey  = errors.New("jwtprovider: duplicate JSON member")
)

func skipWS(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString returns the index just past the string literal that starts at
// s[i] (which must be '"'). It rejects control characters, bad escapes and
// invalid UTF-8.
func scanString(s string, i int) (int, bool) {
	if i >= len(s) || s[i] != '"' {
		return 0, false
	}
	i++
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			return i + 1, true
		case c == '\\':
			if i+1 >= len(s) {
				return 0, false
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s) {
					return 0, false
				}
				for _, h := range []byte(s[i+2 : i+6]) {
					if !isHex(h) {
						return 0, false
					}
				}
				i += 6
			default:
				return 0, false
			}
		case c < 0x20:
			return 0, false
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size <= 1 {
				return 0, false
			}
			i += size
		}
	}
	return 0, false
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// scanNumber returns the index just past the number that starts at s[i]:
// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
func scanNumber(s string, i int) (int, bool) {
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return 0, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return 0, false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return 0, false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return i, true
}

// scanValue returns the index just past the JSON value that starts at s[i]
// (after optional white space). It walks nested arrays and objects without
// recursion, keeping one bit per open level (1 for an object).
func scanValue(s string, i int) (int, error) {
	var stack uint64
	depth := 0
	for {
		// A value is due at i.
		i = skipWS(s, i)
		if i >= len(s) {
			return 0, errSyntax
		}
		ok := true
		opened := false
		switch c := s[i]; {
		case c == '{' || c == '[':
			if depth == maxJSONDepth {
				return 0, errTooDeep
			}
			depth++
			stack <<= 1
			if c == '{' {
				stack |= 1
			}
			i = skipWS(s, i+1)
			if i < len(s) && ((c == '{' && s[i] == '}') || (c == '[' && s[i] == ']')) {
				// Empty container: it is a complete value.
				i++
				depth--
				stack >>= 1
				break
			}
			opened = true
			if c == '{' {
				if i, ok = scanKey(s, i); !ok {
					return 0, errSyntax
				}
			}
		case c == '"':
			i, ok = scanString(s, i)
		case c == 't':
			i, ok = scanLiteral(s, i, "true")
		case c == 'f':
			i, ok = scanLiteral(s, i, "false")
		case c == 'n':
			i, ok = scanLiteral(s, i, "null")
		case c == '-' || isDigit(c):
			i, ok = scanNumber(s, i)
		default:
			ok = false
		}
		if !ok {
			return 0, errSyntax
		}
		if opened {
			continue
		}
		// A value ended at i: close containers until one continues.
		for {
			if depth == 0 {
				return i, nil
			}
			i = skipWS(s, i)
			if i >= len(s) {
				return 0, errSyntax
			}
			inObject := stack&1 == 1
			if s[i] == ',' {
				i = skipWS(s, i+1)
				if inObject {
					if i, ok = scanKey(s, i); !ok {
						return 0, errSyntax
					}
				}
				break
			}
			if (inObject && s[i] == '}') || (!inObject && s[i] == ']') {
				i++
				depth--
				stack >>= 1
				continue
			}
			return 0, errSyntax
		}
	}
}

// scanKey reads `"name" ws :` starting at s[i] and returns the index after
// the colon.
func scanKey(s string, i int) (int, bool) {
	i, ok := scanString(s, i)
	if !ok {
		return 0, false
	}
	i = skipWS(s, i)
	if i >= len(s) || s[i] != ':' {
		return 0, false
	}
	return i + 1, true
}

func scanLiteral(s string, i int, lit string) (int, bool) {
	if strings.HasPrefix(s[i:], lit) {
		return i + len(lit), true
	}
	return 0, false
}

// objectReader reads the members of a JSON text that must be exactly one
// object (white space around it allowed).
type objectReader struct {
	s    string
	i    int
	n    int
	done bool
}

func newObjectReader(s string) (objectReader, error) {
	i := skipWS(s, 0)
	if i >= len(s) || s[i] != '{' {
		return objectReader{}, errSyntax
	}
	return objectReader{s: s, i: i + 1}, nil
}

// next returns the next member as its raw key literal (quotes included) and
// raw value text. ok is false, with a nil error, once the object has closed
// and nothing but white space follows it.
func (r *objectReader) next() (key, value string, ok bool, err error) {
	if r.done {
		return "", "", false, nil
	}
	s := r.s
	i := skipWS(s, r.i)
	if i >= len(s) {
		return "", "", false, errSyntax
	}
	if s[i] == '}' {
		if skipWS(s, i+1) != len(s) {
			return "", "", false, errSyntax
		}
		r.done = true
		return "", "", false, nil
	}
	if r.n > 0 {
		if s[i] != ',' {
			return "", "", false, errSyntax
		}
		i = skipWS(s, i+1)
	}
	start := i
	end, ok := scanString(s, i)
	if !ok {
		return "", "", false, errSyntax
	}
	key = s[start:end]
	i = skipWS(s, end)
	if i >= len(s) || s[i] != ':' {
		return "", "", false, errSyntax
	}
	i = skipWS(s, i+1)
	vend, err := scanValue(s, i)
	if err != nil {
		return "", "", false, err
	}
	r.i = vend
	r.n++
	return key, s[i:vend], true, nil
}

// jsonString returns the value of the string literal raw (quotes included).
// raw must have been accepted by scanString. Literals without escapes are
// returned as substrings of raw.
func jsonString(raw string) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if strings.IndexByte(inner, '\\') < 0 {
		return inner, true
	}
	var v string
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return "", false
	}
	return v, true
}

// jsonStrings returns the elements of raw, which must be an array whose
// elements are all strings.
func jsonStrings(raw string) ([]string, bool) {
	if len(raw) < 2 || raw[0] != '[' {
		return nil, false
	}
	count := 0
	for pass := 0; pass < 2; pass++ {
		var out []string
		if pass == 1 {
			out = make([]string, 0, count)
		}
		i := skipWS(raw, 1)
		if i < len(raw) && raw[i] == ']' {
			return []string{}, true
		}
		for {
			start := i
			end, ok := scanString(raw, i)
			if !ok {
				return nil, false
			}
			if pass == 0 {
				count++
			} else {
				v, ok := jsonString(raw[start:end])
				if !ok {
					return nil, false
				}
				out = append(out, v)
			}
			i = skipWS(raw, end)
			if i < len(raw) && raw[i] == ',' {
				i = skipWS(raw, i+1)
				continue
			}
			if i < len(raw) && raw[i] == ']' {
				break
			}
			return nil, false
		}
		if pass == 1 {
			return out, true
		}
	}
	return nil, false
}

// maxNumericDate is 9999-12-31T23:59:59Z. Dates outside [0, max] are
// rejected rather than converted with undefined float-to-int results.
const maxNumericDate = 253402300799

// jsonDate converts a NumericDate (RFC 7519 §2: seconds since the epoch,
// possibly fractional) to a time.
func jsonDate(raw string) (time.Time, bool) {
	if raw == "" || (raw[0] != '-' && !isDigit(raw[0])) {
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || f < 0 || f > maxNumericDate {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}
