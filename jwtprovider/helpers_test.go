package jwtprovider_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

const (
	testIssuer   = "https://auth.example.com"
	testAudience = "steelplant-api"
)

// Key material shared by the tests; RSA generation is slow, so it happens
// once per test binary.
var (
	rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
	ecKey = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
	edKey = sync.OnceValue(func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

var hmacSecret = []byte("0123456789abcdef0123456789abcdef-test-secret")

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// recorder is an auth.Emitter that keeps events.
type recorder struct {
	mu     sync.Mutex // guards events
	events []auth.Event
}

func (r *recorder) Emit(e auth.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) of(t auth.EventType) []auth.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []auth.Event
	for _, e := range r.events {
		if e.Type == t {
			out = append(out, e)
		}
	}
	return out
}

type fixture struct {
	p      *jwtprovider.Provider
	clock  *fakeClock
	events *recorder
	cfg    jwtprovider.Config
}

func mustKey(k jwtprovider.Key, err error) jwtprovider.Key {
	if err != nil {
		panic(err)
	}
	return k
}

// testKeys returns one key per algorithm family, the HMAC key first.
func testKeys() []jwtprovider.Key {
	return []jwtprovider.Key{
		mustKey(jwtprovider.NewHMACKey("hs-1", jwtprovider.HS256, hmacSecret)),
		mustKey(jwtprovider.NewKey("rs-1", jwtprovider.RS256, rsaKey())),
		mustKey(jwtprovider.NewKey("es-1", jwtprovider.ES256, ecKey())),
		mustKey(jwtprovider.NewKey("ed-1", jwtprovider.EdDSA, edKey())),
	}
}

// newFixture returns a provider with the test keys (HS256 active), a fake
// clock and an event recorder; mutate, if set, edits the config first.
func newFixture(t testing.TB, mutate func(*jwtprovider.Config)) *fixture {
	t.Helper()
	f := &fixture{clock: newClock(), events: &recorder{}}
	f.cfg = jwtprovider.Config{
		Issuer:   testIssuer,
		Audience: []string{testAudience},
		Keys:     testKeys(),
		Now:      f.clock.Now,
		Events:   f.events,
	}
	if mutate != nil {
		mutate(&f.cfg)
	}
	p, err := jwtprovider.New(f.cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.p = p
	return f
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64JSON(t testing.TB, v any) string {
	t.Helper()
	if s, ok := v.(string); ok {
		return b64([]byte(s))
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64(b)
}

// forge builds a compact JWS from a header and claims (maps, or raw JSON
// strings) signed with method and key. A nil method leaves the signature
// empty.
func forge(t testing.TB, header, claims any, method jwt.SigningMethod, key any) string {
	t.Helper()
	input := b64JSON(t, header) + "." + b64JSON(t, claims)
	if method == nil {
		return input + "."
	}
	sig, err := method.Sign(input, key)
	if err != nil {
		t.Fatalf("sign %s: %v", method.Alg(), err)
	}
	return input + "." + b64(sig)
}

// claimsAt returns valid access-token claims for a token issued at now.
func claimsAt(now time.Time) map[string]any {
	return map[string]any{
		"iss": testIssuer,
		"sub": "user-42",
		"aud": testAudience,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(15 * time.Minute).Unix(),
		"jti": "jti-" + now.Format("150405.000000000"),
	}
}

func hsHeader() map[string]any { return map[string]any{"alg": "HS256", "kid": "hs-1", "typ": "at+jwt"} }

// with returns a copy of m with the given members set; a nil value
// deletes the member.
func with(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}
