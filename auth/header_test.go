package auth_test

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
)

func TestBearerToken(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    string
		err     error
	}{
		{"no header", nil, "", auth.ErrNoCredentials},
		{"basic scheme passes", []string{"Basic dXNlcjpwYXNz"}, "", auth.ErrNoCredentials},
		{"bearer", []string{"Bearer abc.def.ghi"}, "abc.def.ghi", nil},
		{"scheme in lower case", []string{"bearer abc"}, "abc", nil},
		{"scheme in mixed case", []string{"BeArEr abc"}, "abc", nil},
		{"b64token padding", []string{"Bearer YWJj=="}, "YWJj==", nil},
		{"padding in the middle", []string{"Bearer YW=Jj"}, "", auth.ErrInvalidToken},
		{"empty token", []string{"Bearer "}, "", auth.ErrInvalidToken},
		{"no space", []string{"Bearer"}, "", auth.ErrInvalidToken},
		{"token with a space", []string{"Bearer abc def"}, "", auth.ErrInvalidToken},
		{"token with a comma", []string{"Bearer abc,def"}, "", auth.ErrInvalidToken},
		{"token with a quote", []string{`Bearer "abc"`}, "", auth.ErrInvalidToken},
		{"control character", []string{"Bearer abc\x00"}, "", auth.ErrInvalidToken},
		{"tab instead of space", []string{"Bearer\tabc"}, "", auth.ErrInvalidToken},
		{"two bearer headers", []string{"Bearer a", "Bearer b"}, "", auth.ErrInvalidToken},
		{"oversized header", []string{"Bearer " + strings.Repeat("a", auth.MaxAuthorizationLength)}, "", auth.ErrInvalidToken},
		{"bearer prefix of another scheme", []string{"Bearerx abc"}, "", auth.ErrNoCredentials},
		{"multiple spaces", []string{"Bearer   abc"}, "abc", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			for _, h := range tt.headers {
				r.Header.Add("Authorization", h)
			}
			got, err := auth.BearerToken(r)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("BearerToken = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestParseAuthorization(t *testing.T) {
	s, c, ok := auth.ParseAuthorization("Basic dXNlcjpwYXNz")
	if !ok || s != "Basic" || c != "dXNlcjpwYXNz" {
		t.Fatalf("got %q %q %v", s, c, ok)
	}
	for _, v := range []string{"", " Bearer x", "Be(arer x", "Bearer x\x7f", "nospace"} {
		if _, _, ok := auth.ParseAuthorization(v); ok {
			t.Errorf("ParseAuthorization(%q) accepted", v)
		}
	}
}

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{"Bearer abc", "Basic dXNlcjpwYXNz", "bearer  a==", "Bearer", "", "Bearer \x00", "X a b c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		scheme, cred, ok := auth.ParseAuthorization(v)
		if !ok {
			return
		}
		if scheme == "" || strings.ContainsAny(scheme, " \t") {
			t.Fatalf("bad scheme %q from %q", scheme, v)
		}
		if len(scheme)+len(cred) >= len(v) || !strings.HasSuffix(v, cred) {
			t.Fatalf("credentials %q not a suffix of %q", cred, v)
		}
		for i := 0; i < len(cred); i++ {
			if cred[i] < 0x20 || cred[i] == 0x7f {
				t.Fatalf("control character in credentials of %q", v)
			}
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", v)
		tok, err := auth.BearerToken(r)
		if err == nil && (!auth.IsB64Token(tok) || !strings.EqualFold(scheme, "bearer")) {
			t.Fatalf("BearerToken accepted %q from %q", tok, v)
		}
	})
}
