package basic

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Algorithm names a password-hashing algorithm.
type Algorithm string

// Supported algorithms.
const (
	// Argon2id is RFC 9106 Argon2id, stored in the PHC string format
	// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>.
	Argon2id Algorithm = "argon2id"
	// Bcrypt is bcrypt in the modular crypt format $2a$<cost>$<salt+hash>
	// ($2b$ and $2y$ are verified too). Passwords longer than bcrypt's
	// 72-byte input are pre-hashed and stored as
	// $bcrypt-sha256$v=1,r=<cost>$<salt>$<salt+hash>; see [Bcrypt72].
	Bcrypt Algorithm = "bcrypt"
	// Scrypt is RFC 7914 scrypt in the PHC-style string
	// $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<key>.
	Scrypt Algorithm = "scrypt"
)

// Bcrypt72 is the number of bytes of password bcrypt reads; it ignores
// anything after them. Gatehouse never lets that happen silently: a new
// bcrypt hash of a longer password is computed over
// base64(HMAC-SHA256(key=random 16-byte salt, password)) and stored in the
// distinct $bcrypt-sha256$ format, and a plain $2a$/$2b$/$2y$ hash never
// matches a password longer than 72 bytes.
const Bcrypt72 = 72

// Limits on the parameters of hashes that Verify accepts, whatever the
// configuration. They keep a planted or corrupted hash from turning one
// verification into a memory or CPU exhaustion.
const (
	maxEncodedHash   = 512
	maxArgon2Memory  = 256 << 10 // KiB: 256 MiB
	maxArgon2Time    = 32
	maxArgon2Threads = 16
	maxScryptLogN    = 20
	maxScryptMemory  = 256 << 20 // bytes: 128*N*r*p
	maxBcryptCost    = 16
	minBcryptCost    = 4
	minSaltLen       = 4
	maxSaltLen       = 64
	minKeyLen        = 16
	maxKeyLen        = 64
)

// HashInfo describes an encoded password hash, as read by [ParseHash].
type HashInfo struct {
	// Algorithm is the algorithm of the hash.
	Algorithm Algorithm
	// Memory is the Argon2id memory in KiB.
	Memory uint32
	// Iterations is the Argon2id number of passes.
	Iterations uint32
	// Parallelism is the Argon2id number of lanes.
	Parallelism uint8
	// LogN is log2 of the scrypt cost parameter N.
	LogN uint8
	// R is the scrypt block size.
	R int
	// P is the scrypt parallelisation parameter.
	P int
	// Cost is the bcrypt cost (log2 of the number of rounds).
	Cost int
	// PreHashed reports a $bcrypt-sha256$ hash (see [Bcrypt72]).
	PreHashed bool
	// Salt is the decoded salt (Argon2id, scrypt, and the HMAC salt of a
	// pre-hashed bcrypt hash).
	Salt []byte
	// Key is the decoded derived key (Argon2id, scrypt).
	Key []byte
	// bcrypt is the bcrypt modular-crypt string to hand to x/crypto/bcrypt.
	bcrypt string
}

// phcB64 is the PHC string format's base64: the standard alphabet without
// padding, strict about trailing bits.
var phcB64 = base64.RawStdEncoding.Strict()

// ParseHash parses an encoded password hash in any format this package
// writes or verifies. It only reads the string: it computes nothing. It
// returns an error wrapping [ErrMalformedHash] for syntax errors and
// [ErrUnsupportedHash] for unknown algorithms or parameters outside the
// limits Gatehouse verifies (Argon2id at most 256 MiB, 32 passes and 16
// lanes; scrypt at most 2^20 and 256 MiB; bcrypt cost 4 to 16; salts of 4 to
// 64 bytes; keys of 16 to 64 bytes).
func ParseHash(encoded string) (HashInfo, error) {
	if len(encoded) > maxEncodedHash {
		return HashInfo{}, fmt.Errorf("%w: longer than %d bytes", ErrMalformedHash, maxEncodedHash)
	}
	if !strings.HasPrefix(encoded, "$") {
		return HashInfo{}, fmt.Errorf("%w: no $ prefix", ErrMalformedHash)
	}
	parts := strings.Split(encoded[1:], "$")
	switch parts[0] {
	case "argon2id":
		return parseArgon2id(parts)
	case "scrypt":
		return parseScrypt(parts)
	case "2a", "2b", "2y":
		return parseBcrypt(encoded, parts)
	case "bcrypt-sha256":
		return parseBcryptSHA256(parts)
	case "argon2i", "argon2d", "2", "2x", "1", "5", "6", "pbkdf2", "pbkdf2-sha256", "pbkdf2-sha512":
		return HashInfo{}, fmt.Errorf("%w: algorithm %q", ErrUnsupportedHash, parts[0])
	}
	return HashInfo{}, fmt.Errorf("%w: unknown identifier", ErrMalformedHash)
}

func parseArgon2id(parts []string) (HashInfo, error) {
	// argon2id, v=19, m=..,t=..,p=.., salt, key
	if len(parts) != 5 {
		return HashInfo{}, fmt.Errorf("%w: argon2id needs 5 fields", ErrMalformedHash)
	}
	if parts[1] != "v=19" {
		return HashInfo{}, fmt.Errorf("%w: argon2 version other than 19", ErrUnsupportedHash)
	}
	vals, err := parseParams(parts[2], "m", "t", "p")
	if err != nil {
		return HashInfo{}, err
	}
	info := HashInfo{Algorithm: Argon2id}
	m, t, p := vals[0], vals[1], vals[2]
	if t < 1 || p < 1 || m < 8*p {
		return HashInfo{}, fmt.Errorf("%w: argon2id parameters out of range", ErrMalformedHash)
	}
	if m > maxArgon2Memory || t > maxArgon2Time || p > maxArgon2Threads {
		return HashInfo{}, fmt.Errorf("%w: argon2id parameters above the verification limits", ErrUnsupportedHash)
	}
	info.Memory, info.Iterations, info.Parallelism = uint32(m), uint32(t), uint8(p)
	if info.Salt, info.Key, err = decodeSaltKey(parts[3], parts[4]); err != nil {
		return HashInfo{}, err
	}
	return info, nil
}

func parseScrypt(parts []string) (HashInfo, error) {
	// scrypt, ln=..,r=..,p=.., salt, key
	if len(parts) != 4 {
		return HashInfo{}, fmt.Errorf("%w: scrypt needs 4 fields", ErrMalformedHash)
	}
	vals, err := parseParams(parts[1], "ln", "r", "p")
	if err != nil {
		return HashInfo{}, err
	}
	ln, r, p := vals[0], vals[1], vals[2]
	if ln < 1 || r < 1 || p < 1 || ln > 63 {
		return HashInfo{}, fmt.Errorf("%w: scrypt parameters out of range", ErrMalformedHash)
	}
	// Checked one factor at a time so that the product cannot overflow.
	if ln > maxScryptLogN || r > maxScryptMemory || p > maxScryptMemory ||
		128*(uint64(1)<<ln)*r > maxScryptMemory || 128*r*p > maxScryptMemory {
		return HashInfo{}, fmt.Errorf("%w: scrypt parameters above the verification limits", ErrUnsupportedHash)
	}
	info := HashInfo{Algorithm: Scrypt, LogN: uint8(ln), R: int(r), P: int(p)}
	if info.Salt, info.Key, err = decodeSaltKey(parts[2], parts[3]); err != nil {
		return HashInfo{}, err
	}
	return info, nil
}

// bcryptAlphabet is bcrypt's own base64 alphabet.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// bcryptBody is the length of the salt and hash part of a bcrypt string
// (22 characters of salt, 31 of hash).
const bcryptBody = 53

func parseBcrypt(encoded string, parts []string) (HashInfo, error) {
	// 2a, cost, salt+hash
	if len(parts) != 3 {
		return HashInfo{}, fmt.Errorf("%w: bcrypt needs 3 fields", ErrMalformedHash)
	}
	cost, err := parseBcryptCost(parts[1])
	if err != nil {
		return HashInfo{}, err
	}
	if err := checkBcryptBody(parts[2]); err != nil {
		return HashInfo{}, err
	}
	return HashInfo{Algorithm: Bcrypt, Cost: cost, bcrypt: encoded}, nil
}

func parseBcryptSHA256(parts []string) (HashInfo, error) {
	// bcrypt-sha256, v=1,r=<cost>, salt, salt+hash
	if len(parts) != 4 {
		return HashInfo{}, fmt.Errorf("%w: bcrypt-sha256 needs 4 fields", ErrMalformedHash)
	}
	vals, err := parseParams(parts[1], "v", "r")
	if err != nil {
		return HashInfo{}, err
	}
	if vals[0] != 1 {
		return HashInfo{}, fmt.Errorf("%w: bcrypt-sha256 version", ErrUnsupportedHash)
	}
	if vals[1] < minBcryptCost || vals[1] > 31 {
		return HashInfo{}, fmt.Errorf("%w: bcrypt cost out of range", ErrMalformedHash)
	}
	if vals[1] > maxBcryptCost {
		return HashInfo{}, fmt.Errorf("%w: bcrypt cost above the verification limit", ErrUnsupportedHash)
	}
	cost := int(vals[1])
	salt, err := phcB64.DecodeString(parts[2])
	if err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return HashInfo{}, fmt.Errorf("%w: bad salt", ErrMalformedHash)
	}
	if err := checkBcryptBody(parts[3]); err != nil {
		return HashInfo{}, err
	}
	return HashInfo{
		Algorithm: Bcrypt,
		Cost:      cost,
		PreHashed: true,
		Salt:      salt,
		bcrypt:    fmt.Sprintf("$2a$%02d$%s", cost, parts[3]),
	}, nil
}

func parseBcryptCost(s string) (int, error) {
	if len(s) != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, fmt.Errorf("%w: bcrypt cost must be two digits", ErrMalformedHash)
	}
	cost := int(s[0]-'0')*10 + int(s[1]-'0')
	if cost < minBcryptCost || cost > 31 {
		return 0, fmt.Errorf("%w: bcrypt cost out of range", ErrMalformedHash)
	}
	if cost > maxBcryptCost {
		return 0, fmt.Errorf("%w: bcrypt cost above the verification limit", ErrUnsupportedHash)
	}
	return cost, nil
}

func checkBcryptBody(s string) error {
	if len(s) != bcryptBody {
		return fmt.Errorf("%w: bcrypt salt and hash must be %d characters", ErrMalformedHash, bcryptBody)
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(bcryptAlphabet, s[i]) < 0 {
			return fmt.Errorf("%w: bcrypt salt and hash outside the bcrypt alphabet", ErrMalformedHash)
		}
	}
	return nil
}

// parseParams parses "k1=v1,k2=v2,..." with exactly the given keys in that
// order and decimal values without sign or leading zeros.
func parseParams(s string, keys ...string) ([]uint64, error) {
	fields := strings.Split(s, ",")
	if len(fields) != len(keys) {
		return nil, fmt.Errorf("%w: want parameters %s", ErrMalformedHash, strings.Join(keys, ","))
	}
	vals := make([]uint64, len(keys))
	for i, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k != keys[i] {
			return nil, fmt.Errorf("%w: want parameter %q", ErrMalformedHash, keys[i])
		}
		if v == "" || len(v) > 10 || (len(v) > 1 && v[0] == '0') {
			return nil, fmt.Errorf("%w: bad value for %q", ErrMalformedHash, k)
		}
		for j := 0; j < len(v); j++ {
			if v[j] < '0' || v[j] > '9' {
				return nil, fmt.Errorf("%w: bad value for %q", ErrMalformedHash, k)
			}
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%w: bad value for %q", ErrMalformedHash, k)
		}
		vals[i] = n
	}
	return vals, nil
}

func decodeSaltKey(salt, key string) ([]byte, []byte, error) {
	s, err := phcB64.DecodeString(salt)
	if err != nil || len(s) < minSaltLen || len(s) > maxSaltLen {
		return nil, nil, fmt.Errorf("%w: bad salt", ErrMalformedHash)
	}
	k, err := phcB64.DecodeString(key)
	if err != nil || len(k) < minKeyLen || len(k) > maxKeyLen {
		return nil, nil, fmt.Errorf("%w: bad key", ErrMalformedHash)
	}
	return s, k, nil
}

// encodeArgon2id writes the PHC string of an Argon2id hash.
func encodeArgon2id(m, t uint32, p uint8, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s",
		m, t, p, phcB64.EncodeToString(salt), phcB64.EncodeToString(key))
}

// encodeScrypt writes the PHC-style string of an scrypt hash.
func encodeScrypt(logN uint8, r, p int, salt, key []byte) string {
	return fmt.Sprintf("$scrypt$ln=%d,r=%d,p=%d$%s$%s",
		logN, r, p, phcB64.EncodeToString(salt), phcB64.EncodeToString(key))
}
