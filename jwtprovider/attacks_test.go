package jwtprovider_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

// keyServer is an HTTP server that counts requests, standing in for an
// attacker's key URL: a verifier that fetched jku/x5u would hit it.
type keyServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newKeyServer(t *testing.T, body []byte) *keyServer {
	ks := &keyServer{}
	ks.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		ks.hits.Add(1)
		_, _ = w.Write(body)
	}))
	t.Cleanup(ks.Close)
	return ks
}

func pkixPEM(t testing.TB, pub any) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func selfSignedCert(t testing.TB, k *rsa.PrivateKey) []byte {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "attacker"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestVerifyRejectsAttacks presents forged and tampered tokens; each case
// names the attack and the cause the provider must report.
func TestVerifyRejectsAttacks(t *testing.T) {
	f := newFixture(t, nil)
	now := f.clock.Now()
	ctx := context.Background()
	claims := claimsAt(now)
	hs := jwt.SigningMethodHS256

	attacker, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	attackerJWK := jwtprovider.JWK{KeyType: "RSA", KeyID: "rs-1", Algorithm: "RS256", Use: "sig",
		N: b64(attacker.N.Bytes()), E: "AQAB"}
	server := newKeyServer(t, []byte(`{"keys":[]}`))
	attackerSecret := []byte("attacker-chosen-secret-attacker-chosen-secret")
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, attackerSecret, 0o600); err != nil {
		t.Fatal(err)
	}
	rsaPubPEM := pkixPEM(t, &rsaKey().PublicKey)
	rsaPubDER, _ := x509.MarshalPKIXPublicKey(&rsaKey().PublicKey)
	ecPubPEM := pkixPEM(t, &ecKey().PublicKey)
	edPub := []byte(edKey().Public().(ed25519.PublicKey))
	valid := forge(t, hsHeader(), claims, hs, hmacSecret)
	otherValid := forge(t, hsHeader(), with(claims, "jti", "another"), hs, hmacSecret)
	pair, err := f.p.IssuePair(ctx, jwtprovider.Subject{ID: "user-42"})
	if err != nil {
		t.Fatal(err)
	}
	ecOrder := elliptic.P256().Params().N.FillBytes(make([]byte, 32))

	tests := []struct {
		name  string
		token string
		cause error
	}{
		// alg "none" (RFC 7519 §6) and its casings.
		{"alg none with the key's kid", forge(t, with(hsHeader(), "alg", "none"), claims, nil, nil), jwtprovider.ErrAlgorithm},
		{"alg None", forge(t, with(hsHeader(), "alg", "None"), claims, nil, nil), jwtprovider.ErrAlgorithm},
		{"alg NONE", forge(t, with(hsHeader(), "alg", "NONE"), claims, nil, nil), jwtprovider.ErrAlgorithm},
		{"alg nOnE", forge(t, with(hsHeader(), "alg", "nOnE"), claims, nil, nil), jwtprovider.ErrAlgorithm},
		{"alg none with a copied signature", strings.TrimSuffix(forge(t, with(hsHeader(), "alg", "none"), claims, nil, nil), ".") + valid[strings.LastIndexByte(valid, '.'):], jwtprovider.ErrAlgorithm},
		{"alg none without kid", forge(t, map[string]any{"alg": "none", "typ": "at+jwt"}, claims, nil, nil), jwtprovider.ErrUnknownKey},
		{"RFC 7519 unsecured JWT", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.", jwtprovider.ErrUnknownKey},

		// Algorithm confusion: HMAC keyed with a public key.
		{"HS256 keyed with the RSA public key PEM", forge(t, with(hsHeader(), "kid", "rs-1"), claims, hs, rsaPubPEM), jwtprovider.ErrAlgorithm},
		{"HS256 keyed with the RSA public key DER", forge(t, with(hsHeader(), "kid", "rs-1"), claims, hs, rsaPubDER), jwtprovider.ErrAlgorithm},
		{"HS256 keyed with the EC public key PEM", forge(t, with(hsHeader(), "kid", "es-1"), claims, hs, ecPubPEM), jwtprovider.ErrAlgorithm},
		{"HS256 keyed with the Ed25519 public key", forge(t, with(hsHeader(), "kid", "ed-1"), claims, hs, edPub), jwtprovider.ErrAlgorithm},
		{"HS256 keyed with the RSA public key under the HMAC kid", forge(t, hsHeader(), claims, hs, rsaPubPEM), jwtprovider.ErrSignature},

		// Algorithms not bound to the key.
		{"HS384 with the HS256 key", forge(t, with(hsHeader(), "alg", "HS384"), claims, jwt.SigningMethodHS384, hmacSecret), jwtprovider.ErrAlgorithm},
		{"HS512 with the HS256 key", forge(t, with(hsHeader(), "alg", "HS512"), claims, jwt.SigningMethodHS512, hmacSecret), jwtprovider.ErrAlgorithm},
		{"lower-case hs256", forge(t, with(hsHeader(), "alg", "hs256"), claims, hs, hmacSecret), jwtprovider.ErrAlgorithm},
		{"PS256 with the RS256 key", forge(t, with(hsHeader(), "alg", "PS256", "kid", "rs-1"), claims, jwt.SigningMethodPS256, rsaKey()), jwtprovider.ErrAlgorithm},
		{"RS512 with the RS256 key", forge(t, with(hsHeader(), "alg", "RS512", "kid", "rs-1"), claims, jwt.SigningMethodRS512, rsaKey()), jwtprovider.ErrAlgorithm},
		{"RS256 under the HMAC kid", forge(t, with(hsHeader(), "alg", "RS256"), claims, jwt.SigningMethodRS256, rsaKey()), jwtprovider.ErrAlgorithm},
		{"ES384 with the ES256 key", forge(t, with(hsHeader(), "alg", "ES384", "kid", "es-1"), claims, jwt.SigningMethodHS256, hmacSecret), jwtprovider.ErrAlgorithm},
		{"Ed25519 (RFC 9864 name) with the EdDSA key", forge(t, with(hsHeader(), "alg", "Ed25519", "kid", "ed-1"), claims, jwt.SigningMethodEdDSA, edKey()), jwtprovider.ErrAlgorithm},
		{"alg missing", forge(t, with(hsHeader(), "alg", nil), claims, hs, hmacSecret), jwtprovider.ErrMalformed},
		{"alg not a string", forge(t, with(hsHeader(), "alg", []string{"HS256"}), claims, hs, hmacSecret), jwtprovider.ErrMalformed},

		// Keys offered by the token itself.
		{"injected jwk with the attacker's key", forge(t, with(hsHeader(), "alg", "RS256", "kid", "attacker", "jwk", attackerJWK), claims, jwt.SigningMethodRS256, attacker), jwtprovider.ErrEmbeddedKey},
		{"injected jwk under a known kid", forge(t, with(hsHeader(), "alg", "RS256", "kid", "rs-1", "jwk", attackerJWK), claims, jwt.SigningMethodRS256, attacker), jwtprovider.ErrEmbeddedKey},
		{"injected jku", forge(t, with(hsHeader(), "alg", "RS256", "kid", "attacker", "jku", server.URL+"/jwks.json"), claims, jwt.SigningMethodRS256, attacker), jwtprovider.ErrEmbeddedKey},
		{"injected x5u", forge(t, with(hsHeader(), "alg", "RS256", "kid", "rs-1", "x5u", server.URL+"/cert.pem"), claims, jwt.SigningMethodRS256, attacker), jwtprovider.ErrEmbeddedKey},
		{"injected x5c", forge(t, with(hsHeader(), "alg", "RS256", "kid", "rs-1", "x5c", []string{b64(selfSignedCert(t, attacker))}), claims, jwt.SigningMethodRS256, attacker), jwtprovider.ErrEmbeddedKey},
		{"jku as escaped member name", forge(t, `{"alg":"RS256","kid":"attacker","typ":"at+jwt","\u006aku":"`+server.URL+`"}`, claims, jwt.SigningMethodRS256, attacker), jwtprovider.ErrEmbeddedKey},
		{"kid is a URL", forge(t, with(hsHeader(), "kid", server.URL+"/key"), claims, hs, attackerSecret), jwtprovider.ErrUnknownKey},
		{"kid path traversal to /dev/null with an empty key", forge(t, with(hsHeader(), "kid", "../../../../../../dev/null"), claims, hs, []byte{}), jwtprovider.ErrUnknownKey},
		{"kid names a file holding the attacker's secret", forge(t, with(hsHeader(), "kid", keyFile), claims, hs, attackerSecret), jwtprovider.ErrUnknownKey},
		{"kid SQL injection", forge(t, with(hsHeader(), "kid", "x' UNION SELECT 'attacker-chosen-secret'--"), claims, hs, attackerSecret), jwtprovider.ErrUnknownKey},
		{"kid missing", forge(t, with(hsHeader(), "kid", nil), claims, hs, hmacSecret), jwtprovider.ErrUnknownKey},
		{"kid not a string", forge(t, with(hsHeader(), "kid", 1), claims, hs, hmacSecret), jwtprovider.ErrMalformed},

		// Critical extensions (RFC 7515 §4.1.11).
		{"crit naming exp", forge(t, with(hsHeader(), "crit", []string{"exp"}, "exp", 1), claims, hs, hmacSecret), jwtprovider.ErrCritical},
		{"crit b64 false (RFC 7797)", forge(t, with(hsHeader(), "crit", []string{"b64"}, "b64", false), claims, hs, hmacSecret), jwtprovider.ErrCritical},
		{"crit empty list", forge(t, with(hsHeader(), "crit", []string{}), claims, hs, hmacSecret), jwtprovider.ErrCritical},
		{"crit naming an unknown extension", forge(t, with(hsHeader(), "crit", []string{"urn:example:ext"}, "urn:example:ext", true), claims, hs, hmacSecret), jwtprovider.ErrCritical},
		{"crit as escaped member name", forge(t, `{"alg":"HS256","kid":"hs-1","typ":"at+jwt","\u0063rit":["x"],"x":1}`, claims, hs, hmacSecret), jwtprovider.ErrCritical},

		// Signatures.
		{"empty signature", valid[:strings.LastIndexByte(valid, '.')+1], jwtprovider.ErrSignature},
		{"signature truncated by one character", valid[:len(valid)-1], jwtprovider.ErrSignature},
		{"signature truncated by four characters", valid[:len(valid)-4], jwtprovider.ErrSignature},
		{"signature truncated to half", valid[:len(valid)-22], jwtprovider.ErrSignature},
		{"signature with padding", valid + "=", jwtprovider.ErrSignature},
		{"signature of another token", valid[:strings.LastIndexByte(valid, '.')] + otherValid[strings.LastIndexByte(otherValid, '.'):], jwtprovider.ErrSignature},
		{"signature in standard base64", strings.NewReplacer("-", "+", "_", "/").Replace(valid[:strings.LastIndexByte(valid, '.')]) + valid[strings.LastIndexByte(valid, '.'):] + "+/", jwtprovider.ErrSignature},
		{"ES256 signature of zeros", forge(t, with(hsHeader(), "alg", "ES256", "kid", "es-1"), claims, nil, nil) + b64(make([]byte, 64)), jwtprovider.ErrSignature},
		{"ES256 signature r = s = curve order", forge(t, with(hsHeader(), "alg", "ES256", "kid", "es-1"), claims, nil, nil) + b64(append(ecOrder, ecOrder...)), jwtprovider.ErrSignature},
		{"ES256 signature in ASN.1 form", esASN1(t, forge(t, with(hsHeader(), "alg", "ES256", "kid", "es-1"), claims, nil, nil)), jwtprovider.ErrSignature},
		{"EdDSA signature of zeros", forge(t, with(hsHeader(), "alg", "EdDSA", "kid", "ed-1"), claims, nil, nil) + b64(make([]byte, 64)), jwtprovider.ErrSignature},

		// Structure.
		{"empty token", "", jwtprovider.ErrMalformed},
		{"two segments", valid[:strings.LastIndexByte(valid, '.')], jwtprovider.ErrMalformed},
		{"four segments", valid + ".e30", jwtprovider.ErrMalformed},
		{"five segments (JWE)", "eyJhbGciOiJkaXIiLCJlbmMiOiJBMTI4R0NNIn0..aaaa.bbbb.cccc", jwtprovider.ErrMalformed},
		{"empty header segment", valid[strings.IndexByte(valid, '.'):], jwtprovider.ErrMalformed},
		{"header with padding", b64JSON(t, hsHeader()) + "=" + valid[strings.IndexByte(valid, '.'):], jwtprovider.ErrMalformed},
		{"header not JSON", b64([]byte("alg=HS256")) + valid[strings.IndexByte(valid, '.'):], jwtprovider.ErrMalformed},
		{"header a JSON array", forge(t, `[{"alg":"HS256","kid":"hs-1"}]`, claims, hs, hmacSecret), jwtprovider.ErrMalformed},
		{"header with trailing data", forge(t, `{"alg":"HS256","kid":"hs-1","typ":"at+jwt"}{"alg":"none"}`, claims, hs, hmacSecret), jwtprovider.ErrMalformed},
		{"header with duplicate alg", forge(t, `{"alg":"HS256","kid":"hs-1","typ":"at+jwt","alg":"none"}`, claims, hs, hmacSecret), jwtprovider.ErrMalformed},
		{"header with duplicate kid", forge(t, `{"alg":"HS256","kid":"hs-1","typ":"at+jwt","kid":"rs-1"}`, claims, hs, hmacSecret), jwtprovider.ErrMalformed},
		{"header with invalid UTF-8", forge(t, "{\"alg\":\"HS256\",\"kid\":\"hs-1\",\"typ\":\"at+jwt\",\"x\":\"\xff\"}", claims, hs, hmacSecret), jwtprovider.ErrMalformed},
		{"payload not JSON", forge(t, hsHeader(), "not json", hs, hmacSecret), jwtprovider.ErrMalformed},
		{"payload a JSON array", forge(t, hsHeader(), `[{"sub":"user-42"}]`, hs, hmacSecret), jwtprovider.ErrMalformed},
		{"payload with duplicate sub", forge(t, hsHeader(), `{"iss":"`+testIssuer+`","aud":"`+testAudience+`","sub":"user-42","sub":"admin","exp":9999999999,"iat":1,"jti":"j"}`, hs, hmacSecret), jwtprovider.ErrMalformed},
		{"exp as a string", forge(t, hsHeader(), with(claims, "exp", "9999999999"), hs, hmacSecret), jwtprovider.ErrMalformed},
		{"exp beyond year 9999", forge(t, hsHeader(), with(claims, "exp", 1e300), hs, hmacSecret), jwtprovider.ErrMalformed},
		{"exp negative", forge(t, hsHeader(), with(claims, "exp", -1), hs, hmacSecret), jwtprovider.ErrMalformed},
		{"aud a number", forge(t, hsHeader(), with(claims, "aud", 1), hs, hmacSecret), jwtprovider.ErrMalformed},
		{"iss an array", forge(t, hsHeader(), with(claims, "iss", []string{testIssuer}), hs, hmacSecret), jwtprovider.ErrMalformed},

		// Token types.
		{"refresh token used as access token", pair.Refresh.Value, jwtprovider.ErrTokenType},
		{"typ missing", forge(t, with(hsHeader(), "typ", nil), claims, hs, hmacSecret), jwtprovider.ErrTokenType},
		{"typ JWT", forge(t, with(hsHeader(), "typ", "JWT"), claims, hs, hmacSecret), jwtprovider.ErrTokenType},
		{"typ refresh+jwt on access claims", forge(t, with(hsHeader(), "typ", "refresh+jwt"), claims, hs, hmacSecret), jwtprovider.ErrTokenType},

		// Issuer.
		{"wrong iss", forge(t, hsHeader(), with(claims, "iss", "https://evil.example.net"), hs, hmacSecret), jwtprovider.ErrIssuer},
		{"look-alike iss with trailing slash", forge(t, hsHeader(), with(claims, "iss", testIssuer+"/"), hs, hmacSecret), jwtprovider.ErrIssuer},
		{"look-alike iss in upper case", forge(t, hsHeader(), with(claims, "iss", strings.ToUpper(testIssuer)), hs, hmacSecret), jwtprovider.ErrIssuer},
		{"look-alike iss with a Cyrillic a", forge(t, hsHeader(), with(claims, "iss", "https://auth.ex\u0430mple.com"), hs, hmacSecret), jwtprovider.ErrIssuer},
		{"look-alike iss as a subdomain of evil", forge(t, hsHeader(), with(claims, "iss", testIssuer+".evil.net"), hs, hmacSecret), jwtprovider.ErrIssuer},
		{"look-alike iss with userinfo", forge(t, hsHeader(), with(claims, "iss", "https://auth.example.com@evil.net"), hs, hmacSecret), jwtprovider.ErrIssuer},
		{"look-alike iss with trailing NUL", forge(t, hsHeader(), with(claims, "iss", testIssuer+"\x00"), hs, hmacSecret), jwtprovider.ErrIssuer},
		{"look-alike iss with surrounding space", forge(t, hsHeader(), with(claims, "iss", " "+testIssuer), hs, hmacSecret), jwtprovider.ErrIssuer},
		{"iss missing", forge(t, hsHeader(), with(claims, "iss", nil), hs, hmacSecret), jwtprovider.ErrIssuer},

		// Audience.
		{"aud string for another service", forge(t, hsHeader(), with(claims, "aud", "billing-api"), hs, hmacSecret), jwtprovider.ErrAudience},
		{"aud array without ours", forge(t, hsHeader(), with(claims, "aud", []string{"billing-api", "crm"}), hs, hmacSecret), jwtprovider.ErrAudience},
		{"aud empty array", forge(t, hsHeader(), with(claims, "aud", []string{}), hs, hmacSecret), jwtprovider.ErrAudience},
		{"aud in another case", forge(t, hsHeader(), with(claims, "aud", "Steelplant-API"), hs, hmacSecret), jwtprovider.ErrAudience},
		{"aud as a prefix of ours", forge(t, hsHeader(), with(claims, "aud", "steelplant"), hs, hmacSecret), jwtprovider.ErrAudience},
		{"aud missing", forge(t, hsHeader(), with(claims, "aud", nil), hs, hmacSecret), jwtprovider.ErrAudience},
		{"aud array of non-strings", forge(t, hsHeader(), with(claims, "aud", []any{testAudience, 1}), hs, hmacSecret), jwtprovider.ErrMalformed},

		// Required claims.
		{"exp missing", forge(t, hsHeader(), with(claims, "exp", nil), hs, hmacSecret), jwtprovider.ErrMissingClaim},
		{"iat missing", forge(t, hsHeader(), with(claims, "iat", nil), hs, hmacSecret), jwtprovider.ErrMissingClaim},
		{"sub missing", forge(t, hsHeader(), with(claims, "sub", nil), hs, hmacSecret), jwtprovider.ErrMissingClaim},
		{"jti missing", forge(t, hsHeader(), with(claims, "jti", nil), hs, hmacSecret), jwtprovider.ErrMissingClaim},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := f.p.Verify(ctx, tc.token)
			if c != nil || !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("Verify = %v, %v; want invalid_token", c, err)
			}
			if !errors.Is(err, tc.cause) {
				t.Fatalf("Verify error %v; want cause %v", err, tc.cause)
			}
		})
	}
	if n := server.hits.Load(); n != 0 {
		t.Fatalf("the key server got %d requests; keys must never be fetched", n)
	}
	// The control: the untampered token verifies.
	if _, err := f.p.Verify(ctx, valid); err != nil {
		t.Fatalf("untampered token: %v", err)
	}
}

// esASN1 signs the input of an ES256 token with the EC key in the ASN.1 DER
// form that crypto/ecdsa produces, instead of JWS's fixed-size R || S.
func esASN1(t *testing.T, unsigned string) string {
	input := strings.TrimSuffix(unsigned, ".")
	h := jwt.SigningMethodES256.Hash.New()
	h.Write([]byte(input))
	sig, err := ecdsa.SignASN1(rand.Reader, ecKey(), h.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

// TestVerifyRejectsEveryTamperedCharacter changes each character of a
// valid token, in turn, for every algorithm: no change may verify
// (strict base64url leaves no spare bits to flip).
func TestVerifyRejectsEveryTamperedCharacter(t *testing.T) {
	ctx := context.Background()
	for _, kid := range []string{"hs-1", "rs-1", "es-1", "ed-1"} {
		t.Run(kid, func(t *testing.T) {
			f := newFixture(t, func(c *jwtprovider.Config) { c.ActiveKeyID = kid; c.DisableCache = true })
			tok, err := f.p.Issue(ctx, jwtprovider.Subject{ID: "user-42", Roles: []string{"operator"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.p.Verify(ctx, tok.Value); err != nil {
				t.Fatalf("control: %v", err)
			}
			const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			b := []byte(tok.Value)
			for i := range b {
				if b[i] == '.' {
					continue
				}
				orig := b[i]
				// The next alphabet character differs in the lowest bit(s),
				// which for the last character are padding bits.
				b[i] = alphabet[(strings.IndexByte(alphabet, orig)+1)%64]
				if _, err := f.p.Verify(ctx, string(b)); !errors.Is(err, auth.ErrInvalidToken) {
					t.Fatalf("character %d changed %q->%q: Verify error %v, want invalid_token", i, orig, b[i], err)
				}
				b[i] = orig
			}
		})
	}
}

// TestVerifyRejectsBitFlippedSignatures flips every bit of the decoded
// signature, for every algorithm.
func TestVerifyRejectsBitFlippedSignatures(t *testing.T) {
	ctx := context.Background()
	for _, kid := range []string{"hs-1", "rs-1", "es-1", "ed-1"} {
		t.Run(kid, func(t *testing.T) {
			f := newFixture(t, func(c *jwtprovider.Config) { c.ActiveKeyID = kid; c.DisableCache = true })
			tok, err := f.p.Issue(ctx, jwtprovider.Subject{ID: "user-42"})
			if err != nil {
				t.Fatal(err)
			}
			dot := strings.LastIndexByte(tok.Value, '.')
			sig, err := jwt.NewParser().DecodeSegment(tok.Value[dot+1:])
			if err != nil {
				t.Fatal(err)
			}
			for i := range len(sig) * 8 {
				sig[i/8] ^= 1 << (i % 8)
				forged := tok.Value[:dot+1] + b64(sig)
				if _, err := f.p.Verify(ctx, forged); !errors.Is(err, jwtprovider.ErrSignature) {
					t.Fatalf("bit %d flipped: Verify error %v, want ErrSignature", i, err)
				}
				sig[i/8] ^= 1 << (i % 8)
			}
		})
	}
}

// TestVerifyRejectsOversizedTokensCheaply checks that a token over the cap
// is refused before any decoding: the only allocation is the error.
func TestVerifyRejectsOversizedTokensCheaply(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	valid := forge(t, hsHeader(), with(claimsAt(f.clock.Now()), "pad", strings.Repeat("x", 5000)), jwt.SigningMethodHS256, hmacSecret)
	if len(valid) > jwtprovider.DefaultMaxTokenSize {
		t.Fatalf("control token is %d bytes", len(valid))
	}
	if _, err := f.p.Verify(ctx, valid); err != nil {
		t.Fatalf("control token under the cap: %v", err)
	}
	for _, tc := range []struct {
		name  string
		token string
	}{
		{"one byte over the cap", forge(t, hsHeader(), with(claimsAt(f.clock.Now()), "pad", strings.Repeat("x", 5950)), jwt.SigningMethodHS256, hmacSecret)},
		{"one mebibyte of dots", strings.Repeat(".", 1<<20)},
		{"one mebibyte header", b64([]byte(`{"alg":"HS256","x":"`+strings.Repeat("a", 1<<20)+`"}`)) + ".e30.AAAA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.token) <= jwtprovider.DefaultMaxTokenSize {
				t.Fatalf("test token is only %d bytes", len(tc.token))
			}
			_, err := f.p.Verify(ctx, tc.token)
			if !errors.Is(err, jwtprovider.ErrTooLarge) || !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("Verify error %v, want invalid_token caused by ErrTooLarge", err)
			}
			allocs := testing.AllocsPerRun(20, func() { _, _ = f.p.Verify(ctx, tc.token) })
			if allocs > 1 {
				t.Fatalf("rejecting an oversized token allocated %v times; want the error only", allocs)
			}
		})
	}
	t.Run("a smaller configured cap", func(t *testing.T) {
		small := newFixture(t, func(c *jwtprovider.Config) { c.MaxTokenSize = 1024 })
		tok := forge(t, hsHeader(), with(claimsAt(small.clock.Now()), "pad", strings.Repeat("x", 800)), jwt.SigningMethodHS256, hmacSecret)
		if _, err := small.p.Verify(ctx, tok); !errors.Is(err, jwtprovider.ErrTooLarge) {
			t.Fatalf("%d-byte token with a 1024-byte cap: %v, want ErrTooLarge", len(tok), err)
		}
	})
}
