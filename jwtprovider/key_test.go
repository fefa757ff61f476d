package jwtprovider_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

func TestNewHMACKeyStrength(t *testing.T) {
	for _, tc := range []struct {
		alg string
		n   int
		ok  bool
	}{
		{"HS256", 31, false}, {"HS256", 32, true},
		{"HS384", 47, false}, {"HS384", 48, true},
		{"HS512", 63, false}, {"HS512", 64, true},
		{"HS256", 0, false},
		{"none", 64, false}, {"HS1", 64, false}, {"RS256", 64, false},
	} {
		_, err := jwtprovider.NewHMACKey("k", tc.alg, make([]byte, tc.n))
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, jwtprovider.ErrInvalidKey)) {
			t.Errorf("NewHMACKey(%s, %d bytes) = %v, want ok %v", tc.alg, tc.n, err, tc.ok)
		}
	}
}

func TestNewKeyRejectsWeakOrMismatchedKeys(t *testing.T) {
	weakRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for _, tc := range []struct {
		name string
		kid  string
		alg  string
		key  any
	}{
		{"1024-bit RSA private key", "k", jwtprovider.RS256, weakRSA},
		{"1024-bit RSA public key for PS256", "k", jwtprovider.PS256, &weakRSA.PublicKey},
		{"P-384 key for ES256", "k", jwtprovider.ES256, p384},
		{"EC key for RS256", "k", jwtprovider.RS256, ecKey()},
		{"RSA key for ES256", "k", jwtprovider.ES256, rsaKey()},
		{"RSA key for EdDSA", "k", jwtprovider.EdDSA, rsaKey()},
		{"Ed25519 key for ES256", "k", jwtprovider.ES256, edKey()},
		{"short Ed25519 key", "k", jwtprovider.EdDSA, edKey()[:10]},
		{"RSA key for alg none", "k", "none", rsaKey()},
		{"RSA key for HS256", "k", jwtprovider.HS256, rsaKey()},
		{"nil RSA key", "k", jwtprovider.RS256, (*rsa.PrivateKey)(nil)},
		{"empty kid", "", jwtprovider.RS256, rsaKey()},
		{"kid with a space", "a b", jwtprovider.RS256, rsaKey()},
		{"kid with a quote", `a"b`, jwtprovider.RS256, rsaKey()},
		{"kid with a newline", "a\nb", jwtprovider.RS256, rsaKey()},
		{"kid too long", strings.Repeat("k", 129), jwtprovider.RS256, rsaKey()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := jwtprovider.NewKey(tc.kid, tc.alg, tc.key); !errors.Is(err, jwtprovider.ErrInvalidKey) {
				t.Fatalf("NewKey: %v, want ErrInvalidKey", err)
			}
		})
	}
}

func TestParsePEMKey(t *testing.T) {
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	ecDER, _ := x509.MarshalECPrivateKey(ecKey())
	for _, tc := range []struct {
		name    string
		alg     string
		pem     []byte
		canSign bool
	}{
		{"RSA PKCS #1 private key for RS256", jwtprovider.RS256, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey())}), true},
		{"RSA PKCS #8 private key for PS256", jwtprovider.PS256, pkcs8(rsaKey()), true},
		{"RSA public key", jwtprovider.RS256, pkixPEM(t, &rsaKey().PublicKey), false},
		{"EC SEC 1 private key", jwtprovider.ES256, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}), true},
		{"EC PKCS #8 private key", jwtprovider.ES256, pkcs8(ecKey()), true},
		{"EC public key", jwtprovider.ES256, pkixPEM(t, &ecKey().PublicKey), false},
		{"Ed25519 PKCS #8 private key", jwtprovider.EdDSA, pkcs8(edKey()), true},
		{"Ed25519 public key", jwtprovider.EdDSA, pkixPEM(t, edKey().Public()), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := jwtprovider.ParsePEMKey("kid-1", tc.alg, tc.pem)
			if err != nil {
				t.Fatalf("ParsePEMKey: %v", err)
			}
			if k.ID() != "kid-1" || k.Algorithm() != tc.alg || k.CanSign() != tc.canSign || k.Public() == nil {
				t.Fatalf("key %s/%s canSign %v", k.ID(), k.Algorithm(), k.CanSign())
			}
		})
	}
	for _, tc := range []struct {
		name string
		alg  string
		pem  []byte
	}{
		{"not PEM", jwtprovider.RS256, []byte("hello")},
		{"EC key read as RS256", jwtprovider.RS256, pkcs8(ecKey())},
		{"RSA key read as ES256", jwtprovider.ES256, pkcs8(rsaKey())},
		{"RSA key read as EdDSA", jwtprovider.EdDSA, pkcs8(rsaKey())},
		{"HMAC algorithms are not PEM", jwtprovider.HS256, pkcs8(rsaKey())},
	} {
		t.Run("rejects "+tc.name, func(t *testing.T) {
			if _, err := jwtprovider.ParsePEMKey("kid-1", tc.alg, tc.pem); !errors.Is(err, jwtprovider.ErrInvalidKey) {
				t.Fatalf("ParsePEMKey: %v, want ErrInvalidKey", err)
			}
		})
	}

	path := filepath.Join(t.TempDir(), "signing.pem")
	if err := os.WriteFile(path, pkcs8(edKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	if k, err := jwtprovider.ReadPEMKeyFile("ed-file", jwtprovider.EdDSA, path); err != nil || !k.CanSign() {
		t.Fatalf("ReadPEMKeyFile: %v", err)
	}
	if _, err := jwtprovider.ReadPEMKeyFile("x", jwtprovider.EdDSA, path+".missing"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadPEMKeyFile(missing): %v", err)
	}
}

func TestGenerateKey(t *testing.T) {
	for _, alg := range []string{"HS256", "HS384", "HS512", "ES256", "EdDSA", "PS256"} {
		k, err := jwtprovider.GenerateKey("gen-"+alg, alg)
		if err != nil {
			t.Fatalf("GenerateKey(%s): %v", alg, err)
		}
		if !k.CanSign() || k.Algorithm() != alg || (k.Public() == nil) != strings.HasPrefix(alg, "HS") {
			t.Fatalf("GenerateKey(%s) = %+v", alg, k)
		}
	}
	if _, err := jwtprovider.GenerateKey("x", "none"); !errors.Is(err, jwtprovider.ErrInvalidKey) {
		t.Fatalf("GenerateKey(none): %v", err)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	keys := testKeys()
	valid := func() jwtprovider.Config {
		return jwtprovider.Config{Issuer: testIssuer, Audience: []string{testAudience}, Keys: keys}
	}
	if _, err := jwtprovider.New(valid()); err != nil {
		t.Fatalf("New(valid): %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*jwtprovider.Config)
	}{
		{"no issuer", func(c *jwtprovider.Config) { c.Issuer = "" }},
		{"no audience", func(c *jwtprovider.Config) { c.Audience = nil }},
		{"empty audience", func(c *jwtprovider.Config) { c.Audience = []string{""} }},
		{"no keys", func(c *jwtprovider.Config) { c.Keys = nil }},
		{"zero Key", func(c *jwtprovider.Config) { c.Keys = []jwtprovider.Key{{}} }},
		{"duplicate kid", func(c *jwtprovider.Config) { c.Keys = append(c.Keys, keys[0]) }},
		{"unknown active key", func(c *jwtprovider.Config) { c.ActiveKeyID = "nope" }},
		{"negative access TTL", func(c *jwtprovider.Config) { c.AccessTTL = -time.Second }},
		{"family shorter than refresh TTL", func(c *jwtprovider.Config) { c.FamilyLifetime = time.Hour }},
		{"leeway over the maximum", func(c *jwtprovider.Config) { c.Leeway = time.Hour }},
		{"size cap over 8 KiB", func(c *jwtprovider.Config) { c.MaxTokenSize = 16 << 10 }},
		{"size cap under 1 KiB", func(c *jwtprovider.Config) { c.MaxTokenSize = 100 }},
		{"negative cache size", func(c *jwtprovider.Config) { c.CacheSize = -1 }},
		{"empty required claim", func(c *jwtprovider.Config) { c.RequiredClaims = []string{""} }},
		{"nil validator", func(c *jwtprovider.Config) { c.Validators = []jwtprovider.Validator{nil} }},
		{"cookie name with a space", func(c *jwtprovider.Config) { c.CookieName = "my token" }},
		{"cookie name with a semicolon", func(c *jwtprovider.Config) { c.CookieName = "a;b" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid()
			tc.mutate(&cfg)
			if p, err := jwtprovider.New(cfg); p != nil || !errors.Is(err, jwtprovider.ErrConfig) {
				t.Fatalf("New = %v, %v; want ErrConfig", p, err)
			}
		})
	}
}
