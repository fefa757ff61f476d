package jwtprovider_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

// publicKeyFromJWK rebuilds a public key from a published JWK, as a remote
// verifier would.
func publicKeyFromJWK(t *testing.T, j map[string]string) any {
	t.Helper()
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("JWK member %q: %v", s, err)
		}
		return b
	}
	switch j["kty"] {
	case "RSA":
		return &rsa.PublicKey{N: new(big.Int).SetBytes(dec(j["n"])), E: int(new(big.Int).SetBytes(dec(j["e"])).Int64())}
	case "EC":
		if j["crv"] != "P-256" {
			t.Fatalf("crv %q", j["crv"])
		}
		x, y := dec(j["x"]), dec(j["y"])
		if len(x) != 32 || len(y) != 32 {
			t.Fatalf("EC coordinates of %d and %d bytes, want 32", len(x), len(y))
		}
		k, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			t.Fatal(err)
		}
		return k
	case "OKP":
		return ed25519.PublicKey(dec(j["x"]))
	}
	t.Fatalf("unexpected kty %q", j["kty"])
	return nil
}

func TestJWKSHandler(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	srv := httptest.NewServer(f.p.JWKSHandler())
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/jwk-set+json" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age") {
		t.Fatalf("response %d %v", resp.StatusCode, resp.Header)
	}
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	byKID := map[string]map[string]string{}
	for _, k := range set.Keys {
		if _, secret := k["k"]; secret || k["kty"] == "oct" {
			t.Fatalf("an HMAC secret was published: %v", k)
		}
		if _, private := k["d"]; private {
			t.Fatalf("a private key was published: %v", k)
		}
		byKID[k["kid"]] = k
	}
	if len(set.Keys) != 3 || byKID["hs-1"] != nil {
		t.Fatalf("published keys %v, want rs-1, es-1, ed-1", set.Keys)
	}
	// Each published key verifies a token the provider signs with it.
	for kid, method := range map[string]jwt.SigningMethod{"rs-1": jwt.SigningMethodRS256, "es-1": jwt.SigningMethodES256, "ed-1": jwt.SigningMethodEdDSA} {
		j := byKID[kid]
		if j["alg"] != method.Alg() || j["use"] != "sig" {
			t.Fatalf("%s: alg %q use %q", kid, j["alg"], j["use"])
		}
		if err := f.p.ActivateKey(kid); err != nil {
			t.Fatal(err)
		}
		tok, err := f.p.Issue(ctx, jwtprovider.Subject{ID: "u"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = jwt.Parse(tok.Value, func(*jwt.Token) (any, error) { return publicKeyFromJWK(t, j), nil },
			jwt.WithValidMethods([]string{method.Alg()}), jwt.WithTimeFunc(f.clock.Now))
		if err != nil {
			t.Fatalf("%s: token does not verify with the published key: %v", kid, err)
		}
	}

	post, err := http.Post(srv.URL, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if post.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST answered %d", post.StatusCode)
	}
}

func TestJWKSHandlerWithOnlyHMACKeys(t *testing.T) {
	f := newFixture(t, func(c *jwtprovider.Config) { c.Keys = c.Keys[:1] })
	rec := httptest.NewRecorder()
	f.p.JWKSHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/jwks", nil))
	if got := rec.Body.String(); got != `{"keys":[]}` {
		t.Fatalf("JWKS of an HMAC-only provider = %s", got)
	}
}

func TestKeyRotation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *jwtprovider.Config) { c.Keys = c.Keys[:1] })
	old, _ := f.p.Issue(ctx, jwtprovider.Subject{ID: "u"})
	next, err := jwtprovider.GenerateKey("es-2030", jwtprovider.ES256)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.p.AddKey(next); err != nil {
		t.Fatal(err)
	}
	if got := len(f.p.JWKS()); got != 1 {
		t.Fatalf("JWKS after AddKey has %d keys, want the new one published", got)
	}
	if mid, _ := f.p.Issue(ctx, jwtprovider.Subject{ID: "u"}); decodePart(t, mid.Value, 0)["kid"] != "hs-1" {
		t.Fatal("an added key signs before it is activated")
	}
	if err := f.p.ActivateKey("es-2030"); err != nil {
		t.Fatal(err)
	}
	fresh, _ := f.p.Issue(ctx, jwtprovider.Subject{ID: "u"})
	if h := decodePart(t, fresh.Value, 0); h["kid"] != "es-2030" || h["alg"] != "ES256" || f.p.ActiveKeyID() != "es-2030" {
		t.Fatalf("after activation the header is %v", h)
	}
	for name, tok := range map[string]string{"old": old.Value, "fresh": fresh.Value} {
		if _, err := f.p.Verify(ctx, tok); err != nil {
			t.Fatalf("%s token during rotation: %v", name, err)
		}
	}
	if err := f.p.RemoveKey("es-2030"); !errors.Is(err, jwtprovider.ErrActiveKey) {
		t.Fatalf("RemoveKey(active): %v", err)
	}
	if err := f.p.RemoveKey("hs-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.p.Verify(ctx, old.Value); !errors.Is(err, jwtprovider.ErrUnknownKey) {
		t.Fatalf("token of a removed key: %v", err)
	}
	if _, err := f.p.Verify(ctx, fresh.Value); err != nil {
		t.Fatalf("token of the active key after removal of the old: %v", err)
	}
	if err := f.p.RemoveKey("hs-1"); !errors.Is(err, jwtprovider.ErrNoSuchKey) {
		t.Fatalf("RemoveKey(missing): %v", err)
	}
	if err := f.p.AddKey(next); !errors.Is(err, jwtprovider.ErrDuplicateKey) {
		t.Fatalf("AddKey(duplicate kid): %v", err)
	}
	if err := f.p.ActivateKey("nope"); !errors.Is(err, jwtprovider.ErrNoSuchKey) {
		t.Fatalf("ActivateKey(unknown): %v", err)
	}
	verifyOnly, _ := jwtprovider.NewKey("rs-pub", jwtprovider.RS256, &rsaKey().PublicKey)
	if err := f.p.AddKey(verifyOnly); err != nil {
		t.Fatal(err)
	}
	if err := f.p.ActivateKey("rs-pub"); !errors.Is(err, jwtprovider.ErrInvalidKey) {
		t.Fatalf("ActivateKey(public key): %v", err)
	}
	if ids := len(f.p.Keys()); ids != 2 {
		t.Fatalf("Keys() has %d keys", ids)
	}
}

// TestVerifyOnlyKeyAcceptsPeerTokens shows a verify-only key: tokens that
// another instance signed with the private key verify here.
func TestVerifyOnlyKeyAcceptsPeerTokens(t *testing.T) {
	ctx := context.Background()
	signer := newFixture(t, func(c *jwtprovider.Config) { c.ActiveKeyID = "rs-1" })
	pub, err := jwtprovider.ParsePEMKey("rs-1", jwtprovider.RS256, pkixPEM(t, &rsaKey().PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if pub.CanSign() {
		t.Fatal("a key from a public PEM can sign")
	}
	hs, _ := jwtprovider.NewHMACKey("hs-local", jwtprovider.HS256, hmacSecret)
	verifier := newFixture(t, func(c *jwtprovider.Config) { c.Keys = []jwtprovider.Key{hs, pub} })
	verifier.clock.Set(signer.clock.Now())
	tok, _ := signer.p.Issue(ctx, jwtprovider.Subject{ID: "u"})
	if _, err := verifier.p.Verify(ctx, tok.Value); err != nil {
		t.Fatalf("peer token: %v", err)
	}
	if _, err := jwtprovider.New(jwtprovider.Config{Issuer: "i", Audience: []string{"a"}, Keys: []jwtprovider.Key{pub}}); !errors.Is(err, jwtprovider.ErrConfig) {
		t.Fatalf("New with only a verify-only key: %v", err)
	}
}
