package oauth2provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

func TestMemoryReplayStoreIsBounded(t *testing.T) {
	s := NewMemoryReplayStore()
	s.limit = 1500
	ctx, now := context.Background(), time.Unix(1_900_000_000, 0)
	for i := range s.limit {
		if err := s.MarkUsed(ctx, fmt.Sprint("k", i), now, now.Add(time.Minute)); err != nil {
			t.Fatalf("MarkUsed %d: %v", i, err)
		}
	}
	if err := s.MarkUsed(ctx, "one too many", now, now.Add(time.Minute)); !errors.Is(err, ErrStoreFull) {
		t.Fatalf("full store: %v, want ErrStoreFull", err)
	}
	// A full store still refuses replays rather than reporting "full".
	if err := s.MarkUsed(ctx, "k7", now, now.Add(time.Minute)); !errors.Is(err, ErrReplayed) {
		t.Fatalf("replay into a full store: %v, want ErrReplayed", err)
	}
	// Once the entries expired they are swept and room is made.
	later := now.Add(time.Minute)
	if err := s.MarkUsed(ctx, "after expiry", later, later.Add(time.Minute)); err != nil {
		t.Fatalf("MarkUsed after expiry: %v", err)
	}
	if n := s.Len(); n != 1 {
		t.Fatalf("%d entries after the sweep, want 1", n)
	}
}

func newTestCodec(keyring bool) *flowCodec {
	c := &flowCodec{idp: "corp-sso", hmacKey: []byte("0123456789abcdef0123456789abcdef")}
	if keyring {
		k, err := auth.NewKeyring("k1", []byte("fedcba9876543210fedcba9876543210"))
		if err != nil {
			panic(err)
		}
		c.hmacKey, c.keyring = nil, k
	}
	return c
}

func sampleFlow() flow {
	return flow{
		ID: "AAAAAAAAAAAAAAAAAAAAAA", State: strings.Repeat("s", 43), Verifier: strings.Repeat("v", 43),
		Nonce: strings.Repeat("n", 43), Expires: 1_900_000_000, IdP: "corp-sso",
	}
}

func TestFlowCodecRefusesTampering(t *testing.T) {
	for _, keyring := range []bool{false, true} {
		c := newTestCodec(keyring)
		v, err := c.seal(sampleFlow())
		if err != nil {
			t.Fatal(err)
		}
		if f, err := c.open(v); err != nil || f != sampleFlow() {
			t.Fatalf("keyring=%v: open(seal(f)) = %+v, %v", keyring, f, err)
		}
		other := *c
		other.idp = "other-idp"
		bad := []struct{ name, value string }{
			{"empty", ""},
			{"truncated", v[:len(v)-1]},
			{"one character changed", v[:5] + string(v[5]^1) + v[6:]},
			{"oversized", v + strings.Repeat("A", maxFlowCookie)},
		}
		if ov, err := other.seal(func() flow { f := sampleFlow(); f.IdP = "other-idp"; return f }()); err == nil {
			bad = append(bad, struct{ name, value string }{"sealed for another IdP", ov})
		}
		for _, b := range bad {
			if _, err := c.open(b.value); !errors.Is(err, ErrFlowMissing) {
				t.Errorf("keyring=%v %s: open = %v, want ErrFlowMissing", keyring, b.name, err)
			}
		}
	}
}

// FuzzFlowCookie feeds arbitrary cookie values to the codec: it must never
// panic, and must accept only values it sealed.
func FuzzFlowCookie(f *testing.F) {
	c := newTestCodec(false)
	good, _ := c.seal(sampleFlow())
	f.Add(good)
	f.Add("")
	f.Add(".")
	f.Add("e30.")
	f.Add("eyJpIjoiIn0." + strings.Repeat("A", 43))
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, v string) {
		fl, err := c.open(v)
		if err != nil {
			return
		}
		if v != good && fl != sampleFlow() {
			t.Fatalf("accepted a value the codec did not seal: %q -> %+v", v, fl)
		}
	})
}

// FuzzParseCallback feeds arbitrary callback queries to the parser: it must
// never panic, and what it accepts must meet its limits.
func FuzzParseCallback(f *testing.F) {
	f.Add("code=abc&state=xyz")
	f.Add("code=abc&state=xyz&iss=https%3A%2F%2Fidp.example")
	f.Add("error=access_denied&error_description=%3Cscript%3E&state=xyz")
	f.Add("code=a&code=b&state=x")
	f.Add("state=x")
	f.Add("code=%00&state=x")
	f.Add("code=abc;state=xyz")
	f.Add("error=&state=")
	f.Fuzz(func(t *testing.T, q string) {
		p, err := parseCallback(q)
		if err != nil {
			return
		}
		if p.idpErr != nil {
			if p.idpErr.Code == "" || len(p.idpErr.Code) > maxErrorCode || len(p.idpErr.Description) > maxErrorDesc ||
				!visible(p.idpErr.Code+p.idpErr.Description, 1, maxErrorCode+maxErrorDesc) ||
				strings.ContainsAny(p.idpErr.Code+p.idpErr.Description, "\"\\") {
				t.Fatalf("unclean IdP error %+v", p.idpErr)
			}
			return
		}
		if !visible(p.code, 1, maxCode) || !visible(p.state, 1, maxState) || len(p.iss) > maxCode {
			t.Fatalf("accepted %+v from %q", p, q)
		}
	})
}

func TestParseCallback(t *testing.T) {
	tests := []struct {
		name, query string
		ok          bool
	}{
		{"plain response", "code=abc&state=xyz", true},
		{"with iss", "code=abc&state=xyz&iss=https%3A%2F%2Fidp.example", true},
		{"code twice", "code=a&code=b&state=x", false},
		{"state twice with the same value", "code=a&state=x&state=x", false},
		{"no code", "state=x", false},
		{"empty state", "code=a&state=", false},
		{"NUL in code", "code=a%00&state=x", false},
		{"newline in state", "code=a&state=x%0A", false},
		{"non-ASCII state", "code=a&state=%C3%A9", false},
		{"semicolon separator", "code=abc;state=xyz", false},
		{"oversized", "code=" + strings.Repeat("a", maxCallbackQuery) + "&state=x", false},
		{"empty iss", "code=a&state=x&iss=", false},
		{"error twice", "error=a&error=b", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseCallback(tc.query)
			if (err == nil) != tc.ok {
				t.Fatalf("parseCallback(%q) error %v, want ok=%v", tc.query, err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrMalformedCallback) {
				t.Fatalf("error %v is not ErrMalformedCallback", err)
			}
		})
	}
	p, err := parseCallback("error=access_denied%22%3Cb%3E&error_description=" + strings.Repeat("x", 1000) + "&state=s")
	if err != nil || p.idpErr == nil || p.idpErr.Code != "access_denied<b>" || len(p.idpErr.Description) != maxErrorDesc {
		t.Fatalf("error response parsed as %+v, %v", p.idpErr, err)
	}
}
