package jwtprovider_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

// FuzzVerify feeds arbitrary strings to Verify. It must never panic, and
// whatever it accepts must be genuinely signed: golang-jwt, checking the
// signature independently with the key and the one algorithm the "kid"
// names, must agree. (The fuzzing engine runs the target in several
// processes, each with its own asymmetric keys and token IDs, so the
// property cannot be "one of the seeds".)
func FuzzVerify(f *testing.F) {
	fx := newFixture(f, nil)
	ctx := context.Background()
	keys := map[string]struct {
		alg string
		key any
	}{
		"hs-1": {"HS256", hmacSecret},
		"rs-1": {"RS256", &rsaKey().PublicKey},
		"es-1": {"ES256", &ecKey().PublicKey},
		"ed-1": {"EdDSA", edKey().Public()},
	}
	for _, kid := range []string{"hs-1", "rs-1", "es-1", "ed-1"} {
		if err := fx.p.ActivateKey(kid); err != nil {
			f.Fatal(err)
		}
		pair, err := fx.p.IssuePair(ctx, jwtprovider.Subject{ID: "user-7", Roles: []string{"operator"}, Scopes: []string{"a", "b"},
			Custom: map[string]any{"department": "rolling-mill", "nested": map[string]any{"x": []any{1, "y"}}}})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pair.Access.Value)
		f.Add(pair.Refresh.Value)
	}
	now := fx.clock.Now()
	f.Add(forge(f, with(hsHeader(), "alg", "none"), claimsAt(now), nil, nil))
	f.Add(forge(f, with(hsHeader(), "jku", "http://127.0.0.1:1/"), claimsAt(now), jwt.SigningMethodHS256, hmacSecret))
	f.Add(forge(f, with(hsHeader(), "crit", []string{"exp"}), claimsAt(now), jwt.SigningMethodHS256, hmacSecret))
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.")
	f.Add("")
	f.Add("..")
	f.Add(strings.Repeat("A", 9000))
	f.Fuzz(func(t *testing.T, token string) {
		c, err := fx.p.Verify(ctx, token)
		if err != nil {
			if c != nil {
				t.Fatal("Verify returned claims with an error")
			}
			return
		}
		_, err = jwt.Parse(token, func(tok *jwt.Token) (any, error) {
			k, ok := keys[c.KeyID]
			if !ok || tok.Header["kid"] != c.KeyID {
				return nil, errors.New("unknown kid")
			}
			return k.key, nil
		}, jwt.WithValidMethods([]string{keys[c.KeyID].alg}), jwt.WithStrictDecoding(), jwt.WithoutClaimsValidation())
		if err != nil {
			t.Fatalf("Verify accepted %q, which golang-jwt rejects: %v", token, err)
		}
	})
}
