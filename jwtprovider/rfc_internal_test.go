package jwtprovider

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// RFC 7515 Appendix A.1: an HS256 JWS with its key.
const (
	rfc7515A1Key   = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
	rfc7515A1Token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	// RFC 7519 §6.1: the same claims, unsecured.
	rfc7519Unsecured = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
)

// rfcKeySet returns a key set holding the A.1 key under the empty key ID,
// which the token's header (it has no "kid") looks up. Keys built by the
// public constructors can never have an empty ID.
func rfcKeySet(t *testing.T) *keySet {
	t.Helper()
	secret, err := base64.RawURLEncoding.DecodeString(rfc7515A1Key)
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewHMACKey("a1", HS256, secret)
	if err != nil {
		t.Fatal(err)
	}
	return &keySet{byKID: map[string]*Key{"": &k}}
}

func TestRFC7515AppendixA1KnownAnswer(t *testing.T) {
	ks := rfcKeySet(t)
	c, err := parseToken(rfc7515A1Token, ks)
	if err != nil {
		t.Fatalf("parseToken(RFC 7515 A.1): %v", err)
	}
	if c.Issuer != "joe" || c.ExpiresAt == nil || c.ExpiresAt.Unix() != 1300819380 {
		t.Fatalf("claims = iss %q exp %v; want joe, 1300819380", c.Issuer, c.ExpiresAt)
	}
	if v, ok := c.Custom["http://example.com/is_root"].(bool); !ok || !v {
		t.Fatalf("custom claims = %v; want http://example.com/is_root: true", c.Custom)
	}
	if c.Type != "" {
		t.Fatalf("typ JWT mapped to %q; want no token type", c.Type)
	}

	exp := time.Unix(1300819380, 0)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		now     time.Time
		expired bool
	}{
		{"an hour before exp", exp.Add(-time.Hour), false},
		{"at exp (inside the leeway)", exp, false},
		{"at exp plus the leeway", exp.Add(DefaultLeeway), true},
		{"with the real clock", time.Now(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Provider{leeway: DefaultLeeway}
			err := p.checkTimes(ctx, c, AccessToken, tc.now, true)
			if tc.expired != errors.Is(err, auth.ErrTokenExpired) || (!tc.expired && err != nil) {
				t.Fatalf("checkTimes at %v: %v; want expired %v", tc.now, err, tc.expired)
			}
		})
	}

	t.Run("one flipped signature bit", func(t *testing.T) {
		b := []byte(rfc7515A1Token)
		b[len(b)-2] ^= 0x01 // 'X' <-> 'Y' stays in the alphabet
		if _, err := parseToken(string(b), ks); !errors.Is(err, ErrSignature) {
			t.Fatalf("tampered A.1 token: %v; want ErrSignature", err)
		}
	})
}

func TestRFC7519UnsecuredTokenRejected(t *testing.T) {
	// Even with a key set that would answer its missing "kid", the
	// unsecured token fails on its algorithm.
	_, err := parseToken(rfc7519Unsecured, rfcKeySet(t))
	if !errors.Is(err, auth.ErrInvalidToken) || !errors.Is(err, ErrAlgorithm) {
		t.Fatalf("parseToken(RFC 7519 §6.1): %v; want invalid_token caused by ErrAlgorithm", err)
	}
}
