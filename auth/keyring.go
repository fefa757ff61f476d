package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// Keyring errors.
var (
	ErrKeyringUnknownKey  = errors.New("auth: keyring: unknown key ID")
	ErrKeyringCiphertext  = errors.New("auth: keyring: malformed or tampered ciphertext")
	ErrKeyringKeySize     = errors.New("auth: keyring: key must be 32 bytes (AES-256)")
	ErrKeyringKeyID       = errors.New("auth: keyring: key ID must be 1-64 characters of [A-Za-z0-9_-]")
	ErrKeyringDuplicateID = errors.New("auth: keyring: key ID already present with another key")
)

const ciphertextPrefix = "ghk1."

// Keyring encrypts small secrets at rest (TOTP seeds, upstream OAuth tokens)
// with AES-256-GCM. Each ciphertext names the ID of the key that sealed it, so
// that after [Keyring.Rotate] the older keys still open old ciphertexts while
// new ones are sealed with the new primary key. [Keyring.ReEncrypt] moves a
// ciphertext to the primary key.
//
// The ciphertext format is "ghk1.<key ID>.<base64url(nonce || sealed)>" with a
// random 96-bit nonce. Associated data, when given, binds a ciphertext to its
// context (for example the user ID that owns a TOTP seed): opening it with
// other associated data fails.
//
// A Keyring is safe for concurrent use.
type Keyring struct {
	mu      sync.RWMutex // guards primary and keys
	primary string
	keys    map[string]cipher.AEAD
	raw     map[string][]byte // for duplicate detection

	rand io.Reader
}

// NewKeyring returns a keyring whose primary key is key (32 bytes) with ID id.
func NewKeyring(id string, key []byte) (*Keyring, error) {
	k := &Keyring{keys: map[string]cipher.AEAD{}, raw: map[string][]byte{}, rand: rand.Reader}
	if err := k.Rotate(id, key); err != nil {
		return nil, err
	}
	return k, nil
}

// ParseKeyring builds a keyring from a spec "id1:base64key1,id2:base64key2":
// the first key is the primary, the others only decrypt. Keys are standard or
// URL-safe base64, padded or not, of 32 bytes.
func ParseKeyring(spec string) (*Keyring, error) {
	parts := strings.Split(strings.TrimSpace(spec), ",")
	var k *Keyring
	for i, p := range parts {
		id, b64, ok := strings.Cut(strings.TrimSpace(p), ":")
		if !ok {
			return nil, fmt.Errorf("auth: keyring: entry %d: want id:base64key", i+1)
		}
		key, err := decodeKeyB64(b64)
		if err != nil {
			return nil, fmt.Errorf("auth: keyring: entry %d (%s): %w", i+1, id, err)
		}
		if k == nil {
			if k, err = NewKeyring(id, key); err != nil {
				return nil, err
			}
			continue
		}
		if err := k.Add(id, key); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// KeyringFromEnv is [ParseKeyring] over the value of the environment variable
// name. An unset or empty variable is an error.
func KeyringFromEnv(name string) (*Keyring, error) {
	v := os.Getenv(name)
	if v == "" {
		return nil, fmt.Errorf("auth: keyring: environment variable %s is empty", name)
	}
	return ParseKeyring(v)
}

func decodeKeyB64(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("auth: keyring: key is not valid base64")
}

func validKeyID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, ErrKeyringKeySize
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Add adds a key that decrypts but does not become primary. Adding the same
// ID with the same key again is a no-op.
func (k *Keyring) Add(id string, key []byte) error { return k.add(id, key, false) }

// Rotate adds key with ID id and makes it the primary key: new ciphertexts
// are sealed with it; older keys keep decrypting until removed.
func (k *Keyring) Rotate(id string, key []byte) error { return k.add(id, key, true) }

func (k *Keyring) add(id string, key []byte, primary bool) error {
	if !validKeyID(id) {
		return ErrKeyringKeyID
	}
	aead, err := newAEAD(key)
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if old, ok := k.raw[id]; ok && string(old) != string(key) {
		return ErrKeyringDuplicateID
	}
	k.keys[id] = aead
	k.raw[id] = append([]byte(nil), key...)
	if primary {
		k.primary = id
	}
	return nil
}

// Remove removes the key id. The primary key cannot be removed.
func (k *Keyring) Remove(id string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if id == k.primary {
		return errors.New("auth: keyring: cannot remove the primary key")
	}
	delete(k.keys, id)
	delete(k.raw, id)
	return nil
}

// PrimaryID returns the ID of the key that seals new ciphertexts.
func (k *Keyring) PrimaryID() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.primary
}

// Encrypt seals plaintext with the primary key, binding associatedData.
func (k *Keyring) Encrypt(plaintext, associatedData []byte) (string, error) {
	k.mu.RLock()
	id, aead := k.primary, k.keys[k.primary]
	k.mu.RUnlock()
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := io.ReadFull(k.rand, nonce); err != nil {
		return "", fmt.Errorf("auth: keyring: reading nonce: %w", err)
	}
	sealed := aead.Seal(nonce, nonce, plaintext, associatedData)
	return ciphertextPrefix + id + "." + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// KeyID returns the ID of the key that sealed ciphertext, without opening it.
func KeyID(ciphertext string) (string, error) {
	rest, ok := strings.CutPrefix(ciphertext, ciphertextPrefix)
	if !ok {
		return "", ErrKeyringCiphertext
	}
	id, _, ok := strings.Cut(rest, ".")
	if !ok || !validKeyID(id) {
		return "", ErrKeyringCiphertext
	}
	return id, nil
}

// Decrypt opens a ciphertext made by [Keyring.Encrypt] with the same
// associatedData. It returns [ErrKeyringUnknownKey] when the sealing key is
// not in the keyring and [ErrKeyringCiphertext] when the ciphertext is
// malformed or was tampered with.
func (k *Keyring) Decrypt(ciphertext string, associatedData []byte) ([]byte, error) {
	id, err := KeyID(ciphertext)
	if err != nil {
		return nil, err
	}
	b64 := ciphertext[len(ciphertextPrefix)+len(id)+1:]
	sealed, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil {
		return nil, ErrKeyringCiphertext
	}
	k.mu.RLock()
	aead, ok := k.keys[id]
	k.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrKeyringUnknownKey, id)
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrKeyringCiphertext
	}
	pt, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], associatedData)
	if err != nil {
		return nil, ErrKeyringCiphertext
	}
	return pt, nil
}

// ReEncrypt opens ciphertext and, if it was not sealed with the primary key,
// seals it again with the primary key. changed reports whether a new
// ciphertext was produced; hosts run it over stored secrets after
// [Keyring.Rotate], then remove the old key.
func (k *Keyring) ReEncrypt(ciphertext string, associatedData []byte) (out string, changed bool, err error) {
	id, err := KeyID(ciphertext)
	if err != nil {
		return "", false, err
	}
	pt, err := k.Decrypt(ciphertext, associatedData)
	if err != nil {
		return "", false, err
	}
	defer clear(pt)
	if id == k.PrimaryID() {
		return ciphertext, false, nil
	}
	out, err = k.Encrypt(pt, associatedData)
	if err != nil {
		return "", false, err
	}
	return out, true, nil
}

// GenerateKey returns 32 random bytes suitable for [NewKeyring].
func GenerateKey() ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return key, nil
}
