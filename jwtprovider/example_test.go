package jwtprovider_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

// A login issues a pair; the API authenticates the access token, refuses a
// forged "alg: none" copy of it, and a replayed refresh token revokes the
// whole login.
func Example() {
	ctx := context.Background()
	key, err := jwtprovider.NewHMACKey("2030-01", jwtprovider.HS256, []byte("an example secret of at least 32 bytes, from a vault"))
	if err != nil {
		panic(err)
	}
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	p, err := jwtprovider.New(jwtprovider.Config{
		Issuer:   "https://auth.steelplant.example",
		Audience: []string{"steelplant-api"},
		Keys:     []jwtprovider.Key{key},
		Now:      func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}

	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pr, err := p.Authenticate(r)
		if err != nil {
			ae := auth.AsError(err)
			http.Error(w, string(ae.Code), ae.Status())
			return
		}
		fmt.Fprintf(w, "%s %v", pr.Username, pr.Roles)
	}))
	defer api.Close()
	get := func(token string) {
		req, _ := http.NewRequest("GET", api.URL, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	}

	pair, err := p.IssuePair(ctx, jwtprovider.Subject{ID: "user-7", Username: "ada", Roles: []string{"engineer"}})
	if err != nil {
		panic(err)
	}
	fmt.Println("expires_in:", pair.Access.Lifetime())
	get(pair.Access.Value)

	// An attacker keeps the claims, drops the signature and says "none".
	claims := strings.Split(pair.Access.Value, ".")[1]
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"2030-01","typ":"at+jwt"}`))
	get(none + "." + claims + ".")

	// Refresh rotates the refresh token; replaying the old one revokes the
	// family, including the access token just issued.
	next, err := p.Refresh(ctx, pair.Refresh.Value)
	if err != nil {
		panic(err)
	}
	_, err = p.Refresh(ctx, pair.Refresh.Value)
	fmt.Println("replayed refresh token:", auth.AsError(err).Code)
	get(next.Access.Value)

	// Output:
	// expires_in: 15m0s
	// 200 ada [engineer]
	// 401 invalid_token
	// replayed refresh token: token_revoked
	// 401 token_revoked
}

// The JWK Set publishes public keys only: the HMAC key stays secret.
func ExampleProvider_JWKSHandler() {
	hs, _ := jwtprovider.NewHMACKey("hs-2030", jwtprovider.HS256, []byte("an example secret of at least 32 bytes, from a vault"))
	seed := make([]byte, ed25519.SeedSize) // use GenerateKey or ReadPEMKeyFile in real code
	ed, _ := jwtprovider.NewKey("ed-2030", jwtprovider.EdDSA, ed25519.NewKeyFromSeed(seed))
	p, err := jwtprovider.New(jwtprovider.Config{
		Issuer:   "https://auth.steelplant.example",
		Audience: []string{"steelplant-api"},
		Keys:     []jwtprovider.Key{hs, ed},
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(p.JWKSHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/.well-known/jwks.json")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []jwtprovider.JWK `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		panic(err)
	}
	fmt.Println(resp.Header.Get("Content-Type"))
	for _, k := range set.Keys {
		fmt.Println(k.KeyID, k.KeyType, k.Curve, k.Algorithm, k.Use)
	}
	// Output:
	// application/jwk-set+json
	// ed-2030 OKP Ed25519 EdDSA sig
}
