package jwtprovider

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
)

// Key-set errors.
var (
	// ErrDuplicateKey reports a key ID already in the key set.
	ErrDuplicateKey = errors.New("jwtprovider: duplicate key ID")
	// ErrActiveKey reports an attempt to remove the active signing key.
	ErrActiveKey = errors.New("jwtprovider: key is the active signing key")
	// ErrNoSuchKey reports a key ID that is not in the key set.
	ErrNoSuchKey = errors.New("jwtprovider: no such key")
)

// keySet is an immutable snapshot of the keys. The provider swaps whole
// snapshots, so verification reads it without locking.
type keySet struct {
	active *Key
	byKID  map[string]*Key
	list   []*Key // in the order added
	jwks   []byte // the JWK Set document of the public keys
}

func newKeySet(keys []Key, activeKID string) (*keySet, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrInvalidKey)
	}
	ks := &keySet{byKID: make(map[string]*Key, len(keys))}
	for i := range keys {
		k := keys[i]
		if !k.valid() {
			return nil, fmt.Errorf("%w: key %d was not built with a constructor", ErrInvalidKey, i)
		}
		if _, dup := ks.byKID[k.id]; dup {
			return nil, fmt.Errorf("%w: %q", ErrDuplicateKey, k.id)
		}
		ks.byKID[k.id] = &k
		ks.list = append(ks.list, &k)
	}
	if activeKID == "" {
		activeKID = keys[0].id
	}
	a, ok := ks.byKID[activeKID]
	if !ok {
		return nil, fmt.Errorf("%w: active key %q", ErrNoSuchKey, activeKID)
	}
	if !a.CanSign() {
		return nil, fmt.Errorf("%w: active key %q cannot sign", ErrInvalidKey, activeKID)
	}
	ks.active = a
	doc, err := json.Marshal(jwkSet{Keys: publicJWKs(ks.list)})
	if err != nil {
		return nil, fmt.Errorf("jwtprovider: encode JWK set: %w", err)
	}
	ks.jwks = doc
	return ks, nil
}

func (ks *keySet) keys() []Key {
	out := make([]Key, len(ks.list))
	for i, k := range ks.list {
		out[i] = *k
	}
	return out
}

// JWK is the public part of a key as a JSON Web Key (RFC 7517 §4; RSA, EC
// and OKP members from RFC 7518 §6 and RFC 8037 §2).
type JWK struct {
	KeyType   string `json:"kty"`
	Use       string `json:"use"`
	Algorithm string `json:"alg"`
	KeyID     string `json:"kid"`
	// RSA
	N string `json:"n,omitempty"`
	E string `json:"e,omitempty"`
	// EC and OKP
	Curve string `json:"crv,omitempty"`
	X     string `json:"x,omitempty"`
	Y     string `json:"y,omitempty"`
}

type jwkSet struct {
	Keys []JWK `json:"keys"`
}

var b64 = base64.RawURLEncoding

// publicJWKs returns the JWKs of the asymmetric keys; HMAC secrets are
// never published.
func publicJWKs(keys []*Key) []JWK {
	out := []JWK{}
	for _, k := range keys {
		j := JWK{Use: "sig", Algorithm: k.alg, KeyID: k.id}
		switch pub := k.public.(type) {
		case *rsa.PublicKey:
			j.KeyType = "RSA"
			j.N = b64.EncodeToString(pub.N.Bytes())
			j.E = b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
		case *ecdsa.PublicKey:
			e, err := pub.ECDH()
			if err != nil {
				continue
			}
			pt := e.Bytes() // 0x04 || X || Y, 32 bytes each for P-256
			j.KeyType, j.Curve = "EC", "P-256"
			j.X = b64.EncodeToString(pt[1:33])
			j.Y = b64.EncodeToString(pt[33:65])
		case ed25519.PublicKey:
			j.KeyType, j.Curve = "OKP", "Ed25519"
			j.X = b64.EncodeToString(pub)
		default:
			continue
		}
		out = append(out, j)
	}
	return out
}

// JWKS returns the public keys of the key set as JWKs, in the order they
// were added. HMAC keys are never included.
func (p *Provider) JWKS() []JWK {
	return publicJWKs(p.keys.Load().list)
}

// JWKSHandler returns an http.Handler that serves the JWK Set (RFC 7517 §5)
// of the public keys, with media type application/jwk-set+json and
// "Cache-Control: public, max-age=300". It answers GET and HEAD only. HMAC
// secrets are never published, so a provider with only HMAC keys serves an
// empty set.
//
// Remote verifiers cache the set: add a new key with [Provider.AddKey] at
// least the cache lifetime before [Provider.ActivateKey] makes it sign.
func (p *Provider) JWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		doc := p.keys.Load().jwks
		h := w.Header()
		h.Set("Content-Type", "application/jwk-set+json")
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("X-Content-Type-Options", "nosniff")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(doc)
	})
}

// Keys returns the keys of the key set, in the order they were added.
func (p *Provider) Keys() []Key { return p.keys.Load().keys() }

// ActiveKeyID returns the ID of the key that signs new tokens.
func (p *Provider) ActiveKeyID() string { return p.keys.Load().active.id }

// AddKey adds k to the key set. It verifies tokens at once (and is
// published by [Provider.JWKSHandler] if asymmetric) but signs only after
// [Provider.ActivateKey].
func (p *Provider) AddKey(k Key) error {
	p.keyMu.Lock()
	defer p.keyMu.Unlock()
	cur := p.keys.Load()
	keys := append(cur.keys(), k)
	ks, err := newKeySet(keys, cur.active.id)
	if err != nil {
		return err
	}
	p.keys.Store(ks)
	return nil
}

// ActivateKey makes the key kid, which must be in the key set and able to
// sign, the key that signs new tokens. Tokens signed by the previous active
// key keep verifying until it is removed.
func (p *Provider) ActivateKey(kid string) error {
	p.keyMu.Lock()
	defer p.keyMu.Unlock()
	ks, err := newKeySet(p.keys.Load().keys(), kid)
	if err != nil {
		return err
	}
	p.keys.Store(ks)
	return nil
}

// RemoveKey removes the key kid: tokens it signed stop verifying at once,
// including tokens held in the verified-token cache. The active key cannot
// be removed; activate another first.
func (p *Provider) RemoveKey(kid string) error {
	p.keyMu.Lock()
	defer p.keyMu.Unlock()
	cur := p.keys.Load()
	if cur.active.id == kid {
		return fmt.Errorf("%w: %q", ErrActiveKey, kid)
	}
	keys := cur.keys()
	i := slices.IndexFunc(keys, func(k Key) bool { return k.id == kid })
	if i < 0 {
		return fmt.Errorf("%w: %q", ErrNoSuchKey, kid)
	}
	ks, err := newKeySet(slices.Delete(keys, i, i+1), cur.active.id)
	if err != nil {
		return err
	}
	p.keys.Store(ks)
	if p.cache != nil {
		p.cache.purge()
	}
	return nil
}
