package apikey_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/apikey"
)

func TestChecksumKnownAnswer(t *testing.T) {
	// CRC-32/IEEE("123456789") = 0xCBF43926, the standard check value.
	if got := apikey.Checksum("123456789"); got != "3jZRME" {
		t.Errorf("Checksum(123456789) = %q; want 3jZRME (0xCBF43926 in base62)", got)
	}
	if got := apikey.Checksum(""); got != "000000" {
		t.Errorf("Checksum(\"\") = %q; want 000000", got)
	}
}

func TestFormatCheck(t *testing.T) {
	const good = "gk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA21Vf3d"
	body := strings.Repeat("A", 32)
	withSum := func(s string) string { return s + apikey.Checksum(s) }
	ab := withSum("gk_AB" + body[2:])
	swapped := ab[:3] + "BA" + ab[5:]
	tests := []struct {
		name string
		key  string
		want error
	}{
		{"known good key", good, nil},
		{"longest body", withSum("gk_" + strings.Repeat("z", apikey.MaxBodyLength)), nil},
		{"empty", "", apikey.ErrMalformed},
		{"prefix only", "gk_", apikey.ErrMalformed},
		{"body one short of the minimum", withSum("gk_" + body[1:]), apikey.ErrMalformed},
		{"body one over the maximum", withSum("gk_" + strings.Repeat("z", apikey.MaxBodyLength+1)), apikey.ErrMalformed},
		{"megabyte of base62", "gk_" + strings.Repeat("a", 1<<20), apikey.ErrMalformed},
		{"other prefix with valid checksum", withSum("tfx_" + body), apikey.ErrMalformed},
		{"prefix in upper case", "GK_" + good[3:], apikey.ErrMalformed},
		{"prefix without underscore", withSum("gk" + body + "A"), apikey.ErrMalformed},
		{"underscore in body", withSum("gk_" + body[:10] + "_" + body[11:]), apikey.ErrMalformed},
		{"dash in body", withSum("gk_" + body[:10] + "-" + body[11:]), apikey.ErrMalformed},
		{"NUL in body", withSum("gk_" + body[:10] + "\x00" + body[11:]), apikey.ErrMalformed},
		{"non-ASCII lookalike in body", "gk_" + strings.Repeat("А", 16) + "21Vf3d", apikey.ErrMalformed},
		{"trailing newline", good + "\n", apikey.ErrMalformed},
		{"leading space", " " + good, apikey.ErrMalformed},
		{"one body character mistyped", "gk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB21Vf3d", apikey.ErrChecksum},
		{"two body characters swapped", swapped, apikey.ErrChecksum},
		{"checksum mistyped", "gk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA21Vf3e", apikey.ErrChecksum},
		{"checksum above 32 bits", "gk_" + body + "zzzzzz", apikey.ErrChecksum},
		{"minimum-length key truncated", good[:len(good)-1], apikey.ErrMalformed},
		{"longer key truncated", withSum("gk_" + body + "BBBB")[:3+36+5], apikey.ErrChecksum},
		{"checksum of a different prefix", "gk_" + body + apikey.Checksum("tfx_"+body), apikey.ErrChecksum},
	}
	var f apikey.Format
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := f.Check(tc.key)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Check(%.60q) = %v; want %v", tc.key, err, tc.want)
			}
		})
	}
}

func TestFormatGenerate(t *testing.T) {
	for _, f := range []apikey.Format{{}, {Prefix: "tfx_"}, {Prefix: "acme_live_", BodyLength: 48}} {
		seen := map[string]bool{}
		for range 50 {
			key, err := f.Generate()
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Check(key); err != nil {
				t.Fatalf("%+v: generated %q fails Check: %v", f, key, err)
			}
			prefix := f.Prefix
			if prefix == "" {
				prefix = apikey.DefaultPrefix
			}
			bodyLen := f.BodyLength
			if bodyLen == 0 {
				bodyLen = apikey.DefaultBodyLength
			}
			if !strings.HasPrefix(key, prefix) || len(key) != len(prefix)+bodyLen+apikey.ChecksumLength {
				t.Fatalf("%+v: generated %q has the wrong shape", f, key)
			}
			if d := f.Display(key); d != key[:len(prefix)+4] {
				t.Fatalf("Display(%q) = %q", key, d)
			}
			if seen[key] {
				t.Fatalf("duplicate key %q", key)
			}
			seen[key] = true
		}
	}
}

func TestFormatValidate(t *testing.T) {
	bad := []apikey.Format{
		{Prefix: "gk"},                       // no trailing underscore
		{Prefix: "_"},                        // too short
		{Prefix: "a-b_"},                     // dash
		{Prefix: "gk _"},                     // space
		{Prefix: "prefix_that_is_too_long_"}, // > 16
		{BodyLength: 31},
		{BodyLength: apikey.MaxBodyLength + 1},
		{BodyLength: -5},
	}
	for _, f := range bad {
		if err := f.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil; want an error", f)
		}
		if _, err := f.Generate(); err == nil {
			t.Errorf("Generate(%+v) succeeded", f)
		}
	}
}

func TestDisplayOfGarbage(t *testing.T) {
	var f apikey.Format
	for _, s := range []string{"", "gk_", "gk_ab", "tfx_abcd", "gk_ab\ncd", "gk_ab<s>"} {
		if d := f.Display(s); d != "" {
			t.Errorf("Display(%q) = %q; want empty", s, d)
		}
	}
}

// FuzzCheck feeds arbitrary strings to the key parser. Check must never
// panic, must accept only values of the key shape whose checksum matches,
// and every accepted value must still be accepted after a round trip.
func FuzzCheck(f *testing.F) {
	f.Add("gk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA21Vf3d")
	f.Add("gk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB21Vf3d")
	f.Add("gk_" + strings.Repeat("z", 32) + "zzzzzz")
	f.Add("tfx_" + strings.Repeat("9", 40) + "000000")
	f.Add("gk_")
	f.Add("")
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig")
	f.Add("gk_\xff\xfe" + strings.Repeat("A", 36))
	var format apikey.Format
	f.Fuzz(func(t *testing.T, s string) {
		err := format.Check(s)
		if err != nil {
			if !errors.Is(err, apikey.ErrMalformed) && !errors.Is(err, apikey.ErrChecksum) {
				t.Fatalf("Check(%q) = %v; want ErrMalformed or ErrChecksum", s, err)
			}
			return
		}
		n := len(s) - apikey.ChecksumLength
		if !strings.HasPrefix(s, "gk_") || n-3 < apikey.MinBodyLength || n-3 > apikey.MaxBodyLength {
			t.Fatalf("Check accepted %q of the wrong shape", s)
		}
		if apikey.Checksum(s[:n]) != s[n:] {
			t.Fatalf("Check accepted %q whose checksum is not %q", s, apikey.Checksum(s[:n]))
		}
		for _, c := range []byte(s[3:]) {
			if !strings.ContainsRune("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", rune(c)) {
				t.Fatalf("Check accepted %q with non-base62 %q", s, c)
			}
		}
		if d := format.Display(s); d != s[:7] {
			t.Fatalf("Display(%q) = %q", s, d)
		}
	})
}

// FuzzTypoDetected builds a valid key from an arbitrary base62 body, checks
// that it is accepted, then changes one character and checks that the change
// is always caught: CRC-32 detects every error burst of up to 32 bits, so a
// single substituted character can never pass.
func FuzzTypoDetected(f *testing.F) {
	f.Add(strings.Repeat("A", 32), uint(0), byte('B'))
	f.Add("0123456789abcdefghijklmnopqrstuvwxyzABCDEF", uint(41), byte('z'))
	f.Add(strings.Repeat("z", 128), uint(200), byte('0'))
	var format apikey.Format
	f.Fuzz(func(t *testing.T, body string, pos uint, c byte) {
		if len(body) < apikey.MinBodyLength || len(body) > apikey.MaxBodyLength {
			return
		}
		for i := 0; i < len(body); i++ {
			if !isAlnum(body[i]) {
				return
			}
		}
		key := "gk_" + body + apikey.Checksum("gk_"+body)
		if err := format.Check(key); err != nil {
			t.Fatalf("Check(%q) = %v for a key built by the format", key, err)
		}
		i := int(pos % uint(len(key)))
		if key[i] == c {
			return
		}
		typo := key[:i] + string([]byte{c}) + key[i+1:]
		if err := format.Check(typo); err == nil {
			t.Fatalf("Check accepted %q, a one-character change of %q", typo, key)
		}
	})
}

func isAlnum(c byte) bool {
	return ('0' <= c && c <= '9') || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z')
}
