package jwtprovider

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseHeader compares the header parser with encoding/json. Whatever
// parseHeader accepts must be a JSON object whose "alg", "kid" and "typ"
// encoding/json reads the same way, with no "crit" or embedded key; and a
// well-formed JSON object must never be rejected as malformed JSON.
func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{
		`{"alg":"HS256","kid":"hs-1","typ":"at+jwt"}`,
		"{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}",
		`{"alg":"none"}`,
		`{"alg":"HS256","crit":["exp"]}`,
		`{"alg":"HS256","\u0063rit":[]}`,
		`{"alg":"RS256","jwk":{"kty":"RSA","n":"AQAB","e":"AQAB"}}`,
		`{"alg":"RS256","jku":"https://attacker.example/jwks"}`,
		`{"alg":"HS256","alg":"none"}`,
		`{"alg":"HS\u0032\u00356","kid":"\ud83d\ude00"}`,
		`{"alg":"HS256","x":[1,2,{"a":[null,true,false,-0.5e+10]}]}`,
		`{"alg":"HS256",}`,
		`{"alg":"HS256"} `,
		`{"alg":"HS256"}{}`,
		`[]`,
		`{"alg":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseHeader(s)
		var m map[string]any
		jsonErr := json.Unmarshal([]byte(s), &m)
		if err == nil {
			if jsonErr != nil || m == nil {
				t.Fatalf("parseHeader accepted %q, encoding/json: %v", s, jsonErr)
			}
			for name, got := range map[string]string{"alg": h.alg, "kid": h.kid, "typ": h.typ} {
				want, present := m[name]
				if !present && got == "" {
					continue
				}
				if w, ok := want.(string); !ok || w != got {
					t.Fatalf("%s: parseHeader %q, encoding/json %#v (input %q)", name, got, want, s)
				}
			}
			for _, bad := range []string{"crit", "jwk", "jku", "x5u", "x5c"} {
				if _, ok := m[bad]; ok {
					t.Fatalf("parseHeader accepted a header with %q: %q", bad, s)
				}
			}
			return
		}
		if jsonErr == nil && m != nil && utf8.ValidString(s) && errors.Is(err, errSyntax) {
			t.Fatalf("parseHeader rejected valid JSON object %q as a syntax error: %v", s, err)
		}
	})
}

// FuzzParseClaims compares the claims parser with encoding/json: every
// accepted claims set must decode with encoding/json to the same values.
func FuzzParseClaims(f *testing.F) {
	for _, s := range []string{
		`{"iss":"https://auth.example.com","sub":"u","aud":"api","exp":1900000000,"iat":1.5,"jti":"j"}`,
		`{"aud":["a","b"],"roles":["x"],"amr":[],"scope":"a b  c","auth_time":0,"sid":"s","client_id":"c"}`,
		`{"preferred_username":"ad\u0061","email":"a@b","custom":{"deep":[1,{"x":null}]},"n":-1e3}`,
		"{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}",
		`{"sub":"a","sub":"b"}`,
		`{"exp":"1"}`,
		`{"exp":1e400}`,
		`{"x":1,"x":2}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var c Claims
		if err := parseClaims(s, &c); err != nil {
			return
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil || m == nil {
			t.Fatalf("parseClaims accepted %q, encoding/json: %v", s, err)
		}
		got := c.Map()
		// Map writes dates as whole seconds; compare those with the
		// original value truncated toward zero.
		for _, name := range []string{claimExp, claimNbf, claimIat, claimAuthTime} {
			if v, ok := m[name].(float64); ok {
				m[name] = float64(int64(v))
			}
		}
		if aud, ok := m[claimAud].(string); ok {
			m[claimAud] = []any{aud}
		}
		if sc, ok := m[claimScope].(string); ok {
			m[claimScope] = strings.Join(strings.Fields(sc), " ")
		}
		for _, name := range []string{claimIss, claimSub, claimJti, claimUsername, claimEmail, claimClientID, claimSID} {
			if m[name] == "" {
				delete(m, name) // Map leaves out empty strings
			}
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(m)
		if !bytes.Equal(gj, wj) {
			t.Fatalf("claims of %q\nparseClaims   %s\nencoding/json %s", s, gj, wj)
		}
		if !reflect.DeepEqual(c.Custom, customOnly(m)) {
			t.Fatalf("custom claims of %q: %v vs %v", s, c.Custom, customOnly(m))
		}
	})
}

func customOnly(m map[string]any) map[string]any {
	var out map[string]any
	for k, v := range m {
		if !IsReservedClaim(k) {
			if out == nil {
				out = map[string]any{}
			}
			out[k] = v
		}
	}
	return out
}

// FuzzDecodeSegment compares the segment decoder with the standard library's
// strict unpadded base64url (which, unlike it, skips CR and LF).
func FuzzDecodeSegment(f *testing.F) {
	for _, s := range []string{"", "A", "AA", "AAA", "AAAA", "eyJhbGciOiJIUzI1NiJ9", "AB", "AC", "_-", "a=", "a+/b"} {
		f.Add(s)
	}
	strict := base64.RawURLEncoding.Strict()
	f.Fuzz(func(t *testing.T, s string) {
		dst := make([]byte, decodedLen(len(s)))
		n, ok := decodeSegment(dst, s)
		want, err := strict.DecodeString(s)
		if strings.ContainsAny(s, "\r\n") {
			if ok {
				t.Fatalf("decodeSegment accepted a line break in %q", s)
			}
			return
		}
		if ok != (err == nil) || (ok && !bytes.Equal(dst[:n], want)) {
			t.Fatalf("decodeSegment(%q) = %x, %v; encoding/base64 %x, %v", s, dst[:n], ok, want, err)
		}
	})
}
