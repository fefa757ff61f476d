package jwtprovider

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"os"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/internal/secure"
)

// Algorithms a [Key] can be bound to (RFC 7518 §3.1, RFC 8037 §3.1).
const (
	HS256 = "HS256"
	HS384 = "HS384"
	HS512 = "HS512"
	RS256 = "RS256"
	PS256 = "PS256"
	ES256 = "ES256"
	EdDSA = "EdDSA"
)

// MinRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3 requires
// 2048 bits).
const MinRSABits = 2048

// maxKeyIDLen bounds a key ID.
const maxKeyIDLen = 128

// ErrInvalidKey reports a key that cannot be used: wrong type for its
// algorithm, too short, unknown algorithm, bad key ID.
var ErrInvalidKey = errors.New("jwtprovider: invalid key")

// Key is a signing or verification key bound to one key ID ("kid") and
// exactly one algorithm: a token is verified with it only when its header
// names both. Build keys with [NewHMACKey], [NewKey], [ParsePEMKey],
// [ReadPEMKeyFile] or [GenerateKey]; the zero Key is invalid.
//
// A Key is immutable and safe for concurrent use. A Key built from a public
// key only verifies.
type Key struct {
	id     string
	alg    string
	method jwt.SigningMethod
	sign   any              // []byte, *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey; nil if verify-only
	verify any              // []byte, *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey
	public crypto.PublicKey // nil for HMAC
}

// ID returns the key ID.
func (k Key) ID() string { return k.id }

// Algorithm returns the one algorithm the key is bound to.
func (k Key) Algorithm() string { return k.alg }

// CanSign reports whether the key holds private (or secret) material.
func (k Key) CanSign() bool { return k.sign != nil }

// Public returns the public key, or nil for an HMAC key (whose secret is
// never published).
func (k Key) Public() crypto.PublicKey { return k.public }

func (k Key) valid() bool { return k.id != "" && k.method != nil && k.verify != nil }

func checkKeyID(kid string) error {
	if kid == "" || len(kid) > maxKeyIDLen {
		return fmt.Errorf("%w: key ID must be 1 to %d bytes", ErrInvalidKey, maxKeyIDLen)
	}
	for i := 0; i < len(kid); i++ {
		if c := kid[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return fmt.Errorf("%w: key ID must be printable ASCII without quotes or backslashes", ErrInvalidKey)
		}
	}
	return nil
}

// hmacMethod returns the signing method and minimum secret length of an
// HMAC algorithm. RFC 7518 §3.2: the key must be at least as long as the
// hash output.
func hmacMethod(alg string) (jwt.SigningMethod, int, bool) {
	switch alg {
	case HS256:
		return jwt.SigningMethodHS256, 32, true
	case HS384:
		return jwt.SigningMethodHS384, 48, true
	case HS512:
		return jwt.SigningMethodHS512, 64, true
	}
	return nil, 0, false
}

// rsaMethod returns the signing method of an RSA algorithm. PS256 verifies
// with the salt length RFC 7518 §3.5 fixes (the hash size) rather than the
// any-length default of golang-jwt.
func rsaMethod(alg string) (jwt.SigningMethod, bool) {
	switch alg {
	case RS256:
		return jwt.SigningMethodRS256, true
	case PS256:
		opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}
		return &jwt.SigningMethodRSAPSS{
			SigningMethodRSA: jwt.SigningMethodPS256.SigningMethodRSA,
			Options:          opts,
			VerifyOptions:    opts,
		}, true
	}
	return nil, false
}

// NewHMACKey returns an HMAC key (HS256, HS384 or HS512). The secret must be
// at least as long as the hash output: 32, 48 or 64 bytes (RFC 7518 §3.2).
// It should come from a cryptographically secure random source; the secret
// is copied.
func NewHMACKey(kid, alg string, secret []byte) (Key, error) {
	if err := checkKeyID(kid); err != nil {
		return Key{}, err
	}
	m, minLen, ok := hmacMethod(alg)
	if !ok {
		return Key{}, fmt.Errorf("%w: %q is not an HMAC algorithm", ErrInvalidKey, alg)
	}
	if len(secret) < minLen {
		return Key{}, fmt.Errorf("%w: %s needs a secret of at least %d bytes, got %d", ErrInvalidKey, alg, minLen, len(secret))
	}
	s := append([]byte(nil), secret...)
	return Key{id: kid, alg: alg, method: m, sign: s, verify: s}, nil
}

// NewKey returns a key for alg from key material:
//   - HS256/HS384/HS512: []byte (as [NewHMACKey]);
//   - RS256, PS256: *rsa.PrivateKey or *rsa.PublicKey of at least 2048 bits;
//   - ES256: *ecdsa.PrivateKey or *ecdsa.PublicKey on P-256;
//   - EdDSA: ed25519.PrivateKey or ed25519.PublicKey.
//
// A public key gives a verify-only key.
func NewKey(kid, alg string, key any) (Key, error) {
	if b, ok := key.([]byte); ok {
		return NewHMACKey(kid, alg, b)
	}
	if err := checkKeyID(kid); err != nil {
		return Key{}, err
	}
	bad := func(why string) (Key, error) {
		return Key{}, fmt.Errorf("%w: %s: %s", ErrInvalidKey, alg, why)
	}
	switch alg {
	case RS256, PS256:
		m, _ := rsaMethod(alg)
		var pub *rsa.PublicKey
		var priv *rsa.PrivateKey
		switch k := key.(type) {
		case *rsa.PrivateKey:
			if k == nil {
				return bad("nil key")
			}
			if err := k.Validate(); err != nil {
				return bad(err.Error())
			}
			priv, pub = k, &k.PublicKey
		case *rsa.PublicKey:
			pub = k
		default:
			return bad(fmt.Sprintf("needs an RSA key, got %T", key))
		}
		if pub == nil || pub.N == nil || pub.N.BitLen() < MinRSABits {
			return bad(fmt.Sprintf("RSA keys must have at least %d bits", MinRSABits))
		}
		k := Key{id: kid, alg: alg, method: m, verify: pub, public: pub}
		if priv != nil {
			k.sign = priv
		}
		return k, nil
	case ES256:
		var pub *ecdsa.PublicKey
		var priv *ecdsa.PrivateKey
		switch k := key.(type) {
		case *ecdsa.PrivateKey:
			if k == nil {
				return bad("nil key")
			}
			priv, pub = k, &k.PublicKey
		case *ecdsa.PublicKey:
			pub = k
		default:
			return bad(fmt.Sprintf("needs an ECDSA key, got %T", key))
		}
		if pub == nil || pub.Curve != elliptic.P256() {
			return bad("ES256 needs a P-256 key")
		}
		if _, err := pub.ECDH(); err != nil {
			return bad("invalid P-256 public key")
		}
		k := Key{id: kid, alg: alg, method: jwt.SigningMethodES256, verify: pub, public: pub}
		if priv != nil {
			k.sign = priv
		}
		return k, nil
	case EdDSA:
		switch k := key.(type) {
		case ed25519.PrivateKey:
			if len(k) != ed25519.PrivateKeySize {
				return bad("wrong Ed25519 private key size")
			}
			pub := k.Public().(ed25519.PublicKey)
			return Key{id: kid, alg: alg, method: jwt.SigningMethodEdDSA, sign: k, verify: pub, public: pub}, nil
		case ed25519.PublicKey:
			if len(k) != ed25519.PublicKeySize {
				return bad("wrong Ed25519 public key size")
			}
			return Key{id: kid, alg: alg, method: jwt.SigningMethodEdDSA, verify: k, public: k}, nil
		}
		return bad(fmt.Sprintf("needs an Ed25519 key, got %T", key))
	}
	if _, _, ok := hmacMethod(alg); ok {
		return bad("HMAC keys are []byte secrets")
	}
	return Key{}, fmt.Errorf("%w: unsupported algorithm %q", ErrInvalidKey, alg)
}

// ParsePEMKey returns a key for alg (RS256, PS256, ES256 or EdDSA) from the
// first PEM block of pemData: a private key (PKCS #1, PKCS #8 or SEC 1) gives
// a signing key, a public key (PKIX, PKCS #1) or certificate a verify-only
// key. Encrypted PEM blocks are not supported.
func ParsePEMKey(kid, alg string, pemData []byte) (Key, error) {
	var priv, pub any
	var errPriv, errPub error
	switch alg {
	case RS256, PS256:
		priv, errPriv = jwt.ParseRSAPrivateKeyFromPEM(pemData)
		if errPriv != nil {
			pub, errPub = jwt.ParseRSAPublicKeyFromPEM(pemData)
		}
	case ES256:
		priv, errPriv = jwt.ParseECPrivateKeyFromPEM(pemData)
		if errPriv != nil {
			pub, errPub = jwt.ParseECPublicKeyFromPEM(pemData)
		}
	case EdDSA:
		priv, errPriv = jwt.ParseEdPrivateKeyFromPEM(pemData)
		if errPriv != nil {
			pub, errPub = jwt.ParseEdPublicKeyFromPEM(pemData)
		}
	default:
		return Key{}, fmt.Errorf("%w: %q keys are not read from PEM", ErrInvalidKey, alg)
	}
	switch {
	case errPriv == nil:
		return NewKey(kid, alg, priv)
	case errPub == nil:
		return NewKey(kid, alg, pub)
	}
	return Key{}, fmt.Errorf("%w: %s: no usable PEM key: %w", ErrInvalidKey, alg, errors.Join(errPriv, errPub))
}

// ReadPEMKeyFile reads a PEM file and returns [ParsePEMKey] of its content.
func ReadPEMKeyFile(kid, alg, path string) (Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Key{}, fmt.Errorf("jwtprovider: read key: %w", err)
	}
	return ParsePEMKey(kid, alg, b)
}

// GenerateKey returns a new random signing key for alg: an HMAC secret of
// the hash size, a 2048-bit RSA key, a P-256 key or an Ed25519 key.
func GenerateKey(kid, alg string) (Key, error) {
	if _, n, ok := hmacMethod(alg); ok {
		return NewHMACKey(kid, alg, secure.RandomBytes(n))
	}
	var k any
	var err error
	switch alg {
	case RS256, PS256:
		k, err = rsa.GenerateKey(rand.Reader, MinRSABits)
	case ES256:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		return Key{}, fmt.Errorf("%w: unsupported algorithm %q", ErrInvalidKey, alg)
	}
	if err != nil {
		return Key{}, fmt.Errorf("jwtprovider: generate key: %w", err)
	}
	return NewKey(kid, alg, k)
}
