// Package jwtbench compares the cost of verifying one access token in
// Gatehouse's jwtprovider with golang-jwt and lestrrat-go/jwx.
package jwtbench

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v3/jwa"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

const (
	issuer   = "https://auth.steelplant.example"
	audience = "steelplant-api"

	// cacheSize is the verified-token cache of the benchmarked provider,
	// and poolSize the number of distinct tokens "gatehouse-new" cycles
	// through. A token comes back after poolSize-1 others have been
	// inserted, so with 16 shards it survives about 128 insertions into a
	// 16-entry shard with random displacement: a hit rate near e^-8
	// (0.03%). The measured rate is reported as the cache-hits/op metric.
	cacheSize = 256
	poolSize  = 2048
)

// subject is what every benchmarked token carries: the registered claims
// plus a username, an email, two roles and two scopes, as a login through
// the JSON API issues.
var subject = jwtprovider.Subject{
	ID:       "user-1234",
	Username: "ada",
	Email:    "ada@steelplant.example",
	Roles:    []string{"operator", "supervisor"},
	Scopes:   []string{"predictions:read", "alerts:read"},
}

// peerClaims is the typed claims struct a golang-jwt user would write for
// these tokens.
type peerClaims struct {
	jwt.RegisteredClaims
	Username string   `json:"preferred_username,omitempty"`
	Email    string   `json:"email,omitempty"`
	Roles    []string `json:"roles,omitempty"`
	Scope    string   `json:"scope,omitempty"`
}

// algCase is one algorithm with its keys, a provider and minted tokens.
type algCase struct {
	name   string
	jwxAlg jwa.SignatureAlgorithm
	verify any // public key (or HMAC secret) for the peers
	p      *jwtprovider.Provider
	tokens []string
}

func newCase(b *testing.B, name string) *algCase {
	var (
		key    jwtprovider.Key
		verify any
		alg    jwa.SignatureAlgorithm
		err    error
	)
	switch name {
	case "HS256":
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		key, err = jwtprovider.NewHMACKey("k1", jwtprovider.HS256, secret)
		verify, alg = secret, jwa.HS256()
	case "RS256":
		k, gerr := rsa.GenerateKey(rand.Reader, 2048)
		if gerr != nil {
			b.Fatal(gerr)
		}
		key, err = jwtprovider.NewKey("k1", jwtprovider.RS256, k)
		verify, alg = &k.PublicKey, jwa.RS256()
	case "ES256":
		k, gerr := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if gerr != nil {
			b.Fatal(gerr)
		}
		key, err = jwtprovider.NewKey("k1", jwtprovider.ES256, k)
		verify, alg = &k.PublicKey, jwa.ES256()
	case "EdDSA":
		pub, k, gerr := ed25519.GenerateKey(rand.Reader)
		if gerr != nil {
			b.Fatal(gerr)
		}
		key, err = jwtprovider.NewKey("k1", jwtprovider.EdDSA, k)
		verify, alg = pub, jwa.EdDSA()
	}
	if err != nil {
		b.Fatal(err)
	}
	p, err := jwtprovider.New(jwtprovider.Config{
		Issuer:    issuer,
		Audience:  []string{audience},
		Keys:      []jwtprovider.Key{key},
		CacheSize: cacheSize,
	})
	if err != nil {
		b.Fatal(err)
	}
	c := &algCase{name: name, jwxAlg: alg, verify: verify, p: p, tokens: make([]string, poolSize)}
	for i := range c.tokens {
		tok, err := p.Issue(context.Background(), subject)
		if err != nil {
			b.Fatal(err)
		}
		c.tokens[i] = tok.Value
	}
	return c
}

// cases holds each algorithm's pool, minted once per process (with -count
// the benchmark function runs several times; RSA signing makes minting the
// slow part of a run).
var (
	casesMu sync.Mutex // guards cases
	cases   = map[string]*algCase{}
)

func getCase(b *testing.B, name string) *algCase {
	casesMu.Lock()
	defer casesMu.Unlock()
	if c, ok := cases[name]; ok {
		return c
	}
	c := newCase(b, name)
	cases[name] = c
	return c
}

// BenchmarkJWTVerify measures verifying one access token, per algorithm:
//   - gatehouse-new: Provider.Verify of a token not in the verified-token
//     cache (the default cache on; a pool of poolSize tokens cycled through
//     a cache of cacheSize), so full verification plus the cache insertion;
//   - gatehouse-repeat: Provider.Verify of one token again and again (a
//     cache hit; revocation is still checked);
//   - golang-jwt: jwt.Parser.ParseWithClaims into a typed claims struct,
//     with the algorithm allow-list, issuer, audience and exp checks;
//   - jwx: jwx/v3 jwt.Parse with the key, validating issuer and audience.
//
// All four verify the same tokens, issued by the provider.
func BenchmarkJWTVerify(b *testing.B) {
	ctx := context.Background()
	for _, name := range []string{"HS256", "RS256", "ES256", "EdDSA"} {
		b.Run(name, func(b *testing.B) {
			c := getCase(b, name)

			b.Run("gatehouse-new", func(b *testing.B) {
				last := make([]*jwtprovider.Claims, len(c.tokens))
				hits := 0
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					k := i % len(c.tokens)
					claims, err := c.p.Verify(ctx, c.tokens[k])
					if err != nil {
						b.Fatal(err)
					}
					if claims == last[k] {
						hits++ // the same pointer comes only from the cache
					}
					last[k] = claims
					i++
				}
				b.ReportMetric(float64(hits)/float64(i), "cache-hits/op")
			})

			b.Run("gatehouse-repeat", func(b *testing.B) {
				tok := c.tokens[0]
				if _, err := c.p.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.p.Verify(ctx, tok); err != nil {
						b.Fatal(err)
					}
				}
			})

			b.Run("golang-jwt", func(b *testing.B) {
				parser := jwt.NewParser(jwt.WithValidMethods([]string{name}), jwt.WithIssuer(issuer),
					jwt.WithAudience(audience), jwt.WithExpirationRequired())
				keyFunc := func(*jwt.Token) (any, error) { return c.verify, nil }
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					var claims peerClaims
					if _, err := parser.ParseWithClaims(c.tokens[i%len(c.tokens)], &claims, keyFunc); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})

			b.Run("jwx", func(b *testing.B) {
				opts := []jwxjwt.ParseOption{jwxjwt.WithKey(c.jwxAlg, c.verify), jwxjwt.WithValidate(true),
					jwxjwt.WithIssuer(issuer), jwxjwt.WithAudience(audience)}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, err := jwxjwt.Parse([]byte(c.tokens[i%len(c.tokens)]), opts...); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		})
	}
}
