package authclient

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/auth"
)

var epoch = time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 7 ", 7 * time.Second, true},
		{"Sun, 22 Nov 2026 08:00:30 GMT", 30 * time.Second, true},
		{"Sunday, 22-Nov-26 08:01:00 GMT", time.Minute, true}, // RFC 850
		{"Sun Nov 22 08:00:05 2026", 5 * time.Second, true},   // asctime
		{"Sun, 22 Nov 2026 07:00:00 GMT", 0, true},            // past
		{"-1", 0, false},
		{"1.5", 0, false},
		{"+3", 0, false},
		{"0x10", 0, false},
		{"12 seconds", 0, false},
		{"99999999999999999999999", maxRetryAfterSeconds * time.Second, true}, // capped, not overflowed
		{"tomorrow", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, epoch)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "120", "Sun, 22 Nov 2026 08:00:30 GMT", "-1", "99999999999999999999", "Sun Nov 22 08:00:05 2026"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseRetryAfter(s, epoch)
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("parseRetryAfter(%q) = %v, %v", s, d, ok)
		}
	})
}

func FuzzParseError(f *testing.F) {
	for _, s := range []string{
		`{"error":"token_expired","error_description":"the token has expired"}`,
		`{"error":"mfa_required","mfa_token":"t","methods":["totp"]}`,
		`{"error":"x\u0000","error_description":"\r\n"}`,
		`<html>`, `[]`, `null`, `{"error":1}`,
	} {
		f.Add(401, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status int, raw []byte) {
		e, _ := parseError(status, raw)
		if e.Status != status || (e.Code != "" && !validCode(e.Code)) || len(e.Description) > maxDescription {
			t.Fatalf("parseError = %+v", e)
		}
		if !utf8.ValidString(e.Description) || strings.ContainsAny(e.Description, "\r\n\x00\x1b") {
			t.Fatalf("description keeps control characters: %q", e.Description)
		}
		if e.Code == "" && e.Description != "" {
			t.Fatalf("description without a code: %+v", e)
		}
	})
}

func TestCleanTextCutsOnRuneBoundary(t *testing.T) {
	s := strings.Repeat("é", 300) // 600 bytes
	got := cleanText(s, maxDescription)
	if len(got) != maxDescription || !utf8.ValidString(got) {
		t.Errorf("len %d valid %v", len(got), utf8.ValidString(got))
	}
	if got := cleanText("a\x1b[31mred\u0085b", 64); got != "a[31mredb" {
		t.Errorf("cleanText kept controls: %q", got)
	}
}

func TestBackoffStaysWithinBounds(t *testing.T) {
	p := RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}.withDefaults()
	for n := 1; n <= 70; n++ { // large n must not overflow
		full := min(p.BaseDelay<<min(n-1, 20), p.MaxDelay)
		for range 20 {
			if d := p.backoff(n); d < full/2 || d > full {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n, d, full/2, full)
			}
		}
	}
}

func TestIdempotentMethods(t *testing.T) {
	tests := []struct {
		method, key string
		want        bool
	}{
		{"GET", "", true}, {"HEAD", "", true}, {"OPTIONS", "", true}, {"PUT", "", true}, {"DELETE", "", true},
		{"POST", "", false}, {"PATCH", "", false}, {"CONNECT", "", false}, {"get", "", false},
		{"POST", "b5c1", true}, {"PATCH", "b5c1", true},
	}
	for _, tt := range tests {
		r, _ := newRequestForTest(tt.method, tt.key)
		if got := idempotent(r); got != tt.want {
			t.Errorf("idempotent(%s, key %q) = %v, want %v", tt.method, tt.key, got, tt.want)
		}
	}
}

func newRequestForTest(method, key string) (*http.Request, error) {
	r, err := http.NewRequest(method, "https://api.example.com/x", nil)
	if err == nil && key != "" {
		r.Header.Set("Idempotency-Key", key)
	}
	return r, err
}

func FuzzTokenResponse(f *testing.F) {
	for _, s := range []string{
		`{"access_token":"eyJhbGciOiJFUzI1NiJ9.e30.c2ln","refresh_token":"rt_x","token_type":"Bearer","expires_in":900,"refresh_expires_in":2592000}`,
		`{"access_token":"a","token_type":"bearer","expires_in":9223372036854775807}`,
		`{"access_token":"a b","token_type":"Bearer"}`,
		`{"access_token":"a","refresh_token":"r\n","token_type":"Bearer"}`,
		`{"access_token":"a","token_type":"Bearer","expires_in":-1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var tr tokenResponse
		if json.Unmarshal(raw, &tr) != nil {
			return
		}
		st, err := tr.state(epoch)
		if err != nil {
			return
		}
		if !auth.IsB64Token(st.access) || !(st.refresh == "" || validHeaderValue(st.refresh)) {
			t.Fatalf("accepted tokens that cannot go in a header: %q %q", st.access, st.refresh)
		}
		if st.lifetime < 0 || (!st.expires.IsZero() && st.expires.Before(epoch)) ||
			(!st.refreshExpires.IsZero() && st.refreshExpires.Before(epoch)) {
			t.Fatalf("lifetimes run backwards: %+v", st)
		}
	})
}
