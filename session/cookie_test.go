package session

import (
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
)

func TestNewSecretIsAValidCookieValue(t *testing.T) {
	for range 100 {
		v := newSecret()
		if !validCookieValue(v) {
			t.Fatalf("newSecret() = %q is not a valid cookie value", v)
		}
		if !validID(sessionID(v)) {
			t.Fatalf("sessionID(%q) = %q is not a valid ID", v, sessionID(v))
		}
	}
}

// FuzzCookieValue checks the cookie parsers on attacker input: the value
// parser against the standard library's strict base64url decoder, the Cookie
// header scanner against (*http.Request).Cookie, and that no Cookie header
// makes Authenticate panic or report anything but a verdict on the
// credential.
func FuzzCookieValue(f *testing.F) {
	name := HostPrefix + DefaultCookieName
	valid := newSecret()
	for _, seed := range []string{
		valid,
		strings.Repeat("A", 43),
		strings.Repeat("A", 42) + "B",
		strings.Repeat("_", 42) + "w",
		strings.Repeat("A", 43) + "=",
		strings.Repeat("+", 43),
		"",
		"\x00",
		`"` + strings.Repeat("A", 41) + `"`,
		strings.Repeat("A", 42) + "é",
		name + "=" + valid,
		"theme=dark; " + name + "=" + valid + "; lang=en",
		name + `="` + valid + `"`,
		name + `=a"b; ` + name + "=" + valid,
		" \t" + name + " = " + valid + " ;",
		name + ";" + name + "=",
		"session=" + valid,
	} {
		f.Add(seed)
	}
	m, err := New(Config{Store: NewMemoryStoreWith(MemoryStoreConfig{SweepInterval: -1})})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ok := validCookieValue(in)
		b, err := base64.RawURLEncoding.Strict().DecodeString(in)
		std := err == nil && len(b) == secretBytes && base64.RawURLEncoding.EncodeToString(b) == in
		if ok != std {
			t.Fatalf("validCookieValue(%q) = %v, strict base64url decoding of 32 bytes says %v", in, ok, std)
		}

		r := httptest.NewRequest("POST", "https://plant.example/", nil)
		r.Header["Cookie"] = []string{in}
		if strings.Count(in, ";") < 1000 { // net/http ignores headers with thousands of cookies
			got, gotOK := cookieValue(r.Header, name)
			c, err := r.Cookie(name)
			if gotOK != (err == nil) || (gotOK && got != c.Value) {
				t.Fatalf("cookieValue(%q) = %q, %v; net/http says %v, %v", in, got, gotOK, c, err)
			}
		}
		p, err := m.Authenticate(r)
		var ae *auth.Error
		if p != nil || err == nil || !(errors.Is(err, auth.ErrNoCredentials) || errors.As(err, &ae)) {
			t.Fatalf("Authenticate with Cookie %q = %v, %v; want a rejection", in, p, err)
		}
	})
}
