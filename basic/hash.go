package basic

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"

	"github.com/gatehouse-auth/gatehouse/internal/secure"
)

// Hasher computes and checks password hashes. [Users] does all its password
// work through one, so a test can wrap [PasswordHasher] to count or slow down
// hash computations. Implementations must be safe for concurrent use.
type Hasher interface {
	// Hash returns the encoded hash of password with a fresh random salt.
	Hash(ctx context.Context, password string) (string, error)
	// Verify returns nil when password matches encoded, an error wrapping
	// [ErrMismatch] when it does not, and another error when encoded cannot
	// be verified (malformed, unsupported) or no capacity was free.
	Verify(ctx context.Context, password, encoded string) error
	// NeedsRehash reports whether encoded was made with another algorithm
	// or other parameters than the ones Hash uses now, so that a verified
	// password should be hashed again.
	NeedsRehash(encoded string) bool
}

// Defaults of [HasherConfig].
const (
	// DefaultArgon2Memory is the Argon2id memory in KiB (19 MiB, OWASP).
	DefaultArgon2Memory = 19 * 1024
	// DefaultArgon2Iterations is the Argon2id number of passes.
	DefaultArgon2Iterations = 2
	// DefaultArgon2Parallelism is the Argon2id number of lanes.
	DefaultArgon2Parallelism = 1
	// DefaultBcryptCost is the bcrypt cost.
	DefaultBcryptCost = 12
	// DefaultScryptLogN is log2 of scrypt's N (N = 32768).
	DefaultScryptLogN = 15
	// DefaultScryptR is scrypt's block size.
	DefaultScryptR = 8
	// DefaultScryptP is scrypt's parallelisation parameter.
	DefaultScryptP = 1
	// DefaultSaltLength is the salt length in bytes of new Argon2id and
	// scrypt hashes.
	DefaultSaltLength = 16
	// DefaultKeyLength is the derived-key length in bytes of new Argon2id
	// and scrypt hashes.
	DefaultKeyLength = 32
	// DefaultMaxWait is how long a hash computation waits for a free slot.
	DefaultMaxWait = 2 * time.Second
)

// Argon2idParams are the parameters of new Argon2id hashes. Zero fields take
// the defaults.
type Argon2idParams struct {
	// Memory in KiB. Zero means 19456 (19 MiB).
	Memory uint32
	// Iterations (passes over memory). Zero means 2.
	Iterations uint32
	// Parallelism (lanes). Zero means 1.
	Parallelism uint8
	// SaltLength in bytes. Zero means 16.
	SaltLength uint32
	// KeyLength in bytes. Zero means 32.
	KeyLength uint32
}

// BcryptParams are the parameters of new bcrypt hashes.
type BcryptParams struct {
	// Cost is log2 of the number of rounds. Zero means 12; below 10 is
	// refused unless InsecureLowCost is set.
	Cost int
}

// ScryptParams are the parameters of new scrypt hashes. Zero fields take the
// defaults.
type ScryptParams struct {
	// LogN is log2 of the CPU/memory cost N. Zero means 15.
	LogN uint8
	// R is the block size. Zero means 8.
	R int
	// P is the parallelisation parameter. Zero means 1.
	P int
	// SaltLength in bytes. Zero means 16.
	SaltLength int
	// KeyLength in bytes. Zero means 32.
	KeyLength int
}

// HasherConfig configures a [PasswordHasher]. The zero value hashes with
// Argon2id at m=19 MiB, t=2, p=1 and runs at most runtime.NumCPU() hash
// computations at once.
type HasherConfig struct {
	// Algorithm is used for new hashes. Empty means [Argon2id]. Hashes of
	// every supported algorithm are verified whatever this is.
	Algorithm Algorithm
	// Argon2id are the Argon2id parameters.
	Argon2id Argon2idParams
	// Bcrypt are the bcrypt parameters.
	Bcrypt BcryptParams
	// Scrypt are the scrypt parameters.
	Scrypt ScryptParams
	// MaxConcurrent caps the hash computations (Hash and Verify) running at
	// once in this hasher. Zero means runtime.NumCPU(). Memory use is
	// bounded by MaxConcurrent times the memory of one computation (19 MiB
	// with the default Argon2id parameters).
	MaxConcurrent int
	// MaxWait is how long a computation waits for a free slot before it
	// fails with an unavailable *auth.Error (wrapping [ErrBusy], RetryAfter
	// one second). Zero means 2 seconds. The caller's context also ends the
	// wait.
	MaxWait time.Duration
	// InsecureLowCost allows parameters below the floors (Argon2id with less
	// than 7 MiB or less than 35 MiB·passes, bcrypt cost below 10, scrypt
	// below N=2^15, r=8; salts or keys shorter than 16 bytes). It is for
	// tests only: such hashes are cheap to crack.
	InsecureLowCost bool
}

// PasswordHasher is the default [Hasher]: it writes hashes with one
// configured algorithm, verifies every supported format, and bounds the
// number of computations running at once. It is safe for concurrent use.
type PasswordHasher struct {
	alg     Algorithm
	argon   Argon2idParams
	bcrypt  BcryptParams
	scrypt  ScryptParams
	slots   chan struct{} // one token per running computation
	maxWait time.Duration
}

var _ Hasher = (*PasswordHasher)(nil)

// NewHasher validates cfg, fills its defaults and returns the hasher. It
// returns an error wrapping [ErrInvalidConfig] for an unknown algorithm,
// parameters below the floors (unless InsecureLowCost) or above the limits
// of [ParseHash], or a negative MaxConcurrent or MaxWait.
func NewHasher(cfg HasherConfig) (*PasswordHasher, error) {
	if cfg.Algorithm == "" {
		cfg.Algorithm = Argon2id
	}
	if cfg.MaxConcurrent < 0 || cfg.MaxWait < 0 {
		return nil, fmt.Errorf("%w: negative MaxConcurrent or MaxWait", ErrInvalidConfig)
	}
	if cfg.MaxConcurrent == 0 {
		cfg.MaxConcurrent = runtime.NumCPU()
	}
	if cfg.MaxWait == 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	a := &cfg.Argon2id
	a.Memory = orDefault(a.Memory, DefaultArgon2Memory)
	a.Iterations = orDefault(a.Iterations, DefaultArgon2Iterations)
	a.Parallelism = orDefault(a.Parallelism, DefaultArgon2Parallelism)
	a.SaltLength = orDefault(a.SaltLength, DefaultSaltLength)
	a.KeyLength = orDefault(a.KeyLength, DefaultKeyLength)
	b := &cfg.Bcrypt
	b.Cost = orDefault(b.Cost, DefaultBcryptCost)
	s := &cfg.Scrypt
	s.LogN = orDefault(s.LogN, DefaultScryptLogN)
	s.R = orDefault(s.R, DefaultScryptR)
	s.P = orDefault(s.P, DefaultScryptP)
	s.SaltLength = orDefault(s.SaltLength, DefaultSaltLength)
	s.KeyLength = orDefault(s.KeyLength, DefaultKeyLength)

	h := &PasswordHasher{
		alg:     cfg.Algorithm,
		argon:   *a,
		bcrypt:  *b,
		scrypt:  *s,
		slots:   make(chan struct{}, cfg.MaxConcurrent),
		maxWait: cfg.MaxWait,
	}
	if err := h.check(cfg.InsecureLowCost); err != nil {
		return nil, err
	}
	return h, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// check validates the filled parameters of every algorithm, so that a hash
// this hasher writes always parses and verifies.
func (h *PasswordHasher) check(lowCost bool) error {
	switch h.alg {
	case Argon2id, Bcrypt, Scrypt:
	default:
		return fmt.Errorf("%w: unknown algorithm %q", ErrInvalidConfig, h.alg)
	}
	a, b, s := h.argon, h.bcrypt, h.scrypt
	// Upper limits: what ParseHash verifies.
	if a.Memory > maxArgon2Memory || a.Iterations > maxArgon2Time || a.Parallelism > maxArgon2Threads ||
		a.Memory < 8*uint32(a.Parallelism) {
		return fmt.Errorf("%w: argon2id parameters outside the supported range", ErrInvalidConfig)
	}
	if b.Cost < minBcryptCost || b.Cost > maxBcryptCost {
		return fmt.Errorf("%w: bcrypt cost outside [%d, %d]", ErrInvalidConfig, minBcryptCost, maxBcryptCost)
	}
	if s.LogN > maxScryptLogN || s.R < 1 || s.P < 1 || s.R > maxScryptMemory || s.P > maxScryptMemory ||
		128*(uint64(1)<<s.LogN)*uint64(s.R) > maxScryptMemory || 128*uint64(s.R)*uint64(s.P) > maxScryptMemory {
		return fmt.Errorf("%w: scrypt parameters outside the supported range", ErrInvalidConfig)
	}
	if a.SaltLength < minSaltLen || a.SaltLength > maxSaltLen || s.SaltLength < minSaltLen || s.SaltLength > maxSaltLen ||
		a.KeyLength < minKeyLen || a.KeyLength > maxKeyLen || s.KeyLength < minKeyLen || s.KeyLength > maxKeyLen {
		return fmt.Errorf("%w: salt or key length outside the supported range", ErrInvalidConfig)
	}
	if lowCost {
		return nil
	}
	// Floors: the weakest Argon2id setting OWASP lists (7 MiB, 5 passes),
	// bcrypt cost 10, scrypt N=2^15 with r=8.
	if a.Memory < 7*1024 || uint64(a.Memory)*uint64(a.Iterations) < 35*1024 {
		return fmt.Errorf("%w: argon2id parameters below the floor (set InsecureLowCost for tests)", ErrInvalidConfig)
	}
	if b.Cost < 10 {
		return fmt.Errorf("%w: bcrypt cost below 10 (set InsecureLowCost for tests)", ErrInvalidConfig)
	}
	if s.LogN < 15 || s.R < 8 {
		return fmt.Errorf("%w: scrypt parameters below the floor (set InsecureLowCost for tests)", ErrInvalidConfig)
	}
	if a.SaltLength < 16 || s.SaltLength < 16 || a.KeyLength < 16 || s.KeyLength < 16 {
		return fmt.Errorf("%w: salts and keys must be at least 16 bytes", ErrInvalidConfig)
	}
	return nil
}

// Algorithm returns the algorithm of new hashes.
func (h *PasswordHasher) Algorithm() Algorithm { return h.alg }

// MaxConcurrent returns the number of computations allowed at once.
func (h *PasswordHasher) MaxConcurrent() int { return cap(h.slots) }

// acquire waits for a computation slot, at most maxWait and while ctx lives.
func (h *PasswordHasher) acquire(ctx context.Context) (release func(), err error) {
	release = func() { <-h.slots }
	select {
	case h.slots <- struct{}{}:
		return release, nil
	default:
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("basic: waiting for a hashing slot: %w", err)
	}
	t := time.NewTimer(h.maxWait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return release, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("basic: waiting for a hashing slot: %w", ctx.Err())
	case <-t.C:
		return nil, errBusy()
	}
}

// Hash implements [Hasher]. It waits for a free slot (see
// HasherConfig.MaxWait); when none frees up it returns an unavailable
// *auth.Error wrapping [ErrBusy].
func (h *PasswordHasher) Hash(ctx context.Context, password string) (string, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	switch h.alg {
	case Argon2id:
		a := h.argon
		salt := secure.RandomBytes(int(a.SaltLength))
		key := argon2.IDKey([]byte(password), salt, a.Iterations, a.Memory, a.Parallelism, a.KeyLength)
		return encodeArgon2id(a.Memory, a.Iterations, a.Parallelism, salt, key), nil
	case Scrypt:
		s := h.scrypt
		salt := secure.RandomBytes(s.SaltLength)
		key, err := scrypt.Key([]byte(password), salt, 1<<s.LogN, s.R, s.P, s.KeyLength)
		if err != nil {
			return "", fmt.Errorf("basic: scrypt: %w", err)
		}
		return encodeScrypt(s.LogN, s.R, s.P, salt, key), nil
	default: // Bcrypt
		if len(password) <= Bcrypt72 {
			out, err := bcrypt.GenerateFromPassword([]byte(password), h.bcrypt.Cost)
			if err != nil {
				return "", fmt.Errorf("basic: bcrypt: %w", err)
			}
			return string(out), nil
		}
		salt := secure.RandomBytes(DefaultSaltLength)
		out, err := bcrypt.GenerateFromPassword(bcryptPreHash(salt, password), h.bcrypt.Cost)
		if err != nil {
			return "", fmt.Errorf("basic: bcrypt: %w", err)
		}
		// out is "$2a$NN$" followed by the 53-character salt and hash.
		body := string(out[len(out)-bcryptBody:])
		return fmt.Sprintf("$bcrypt-sha256$v=1,r=%d$%s$%s", h.bcrypt.Cost, phcB64.EncodeToString(salt), body), nil
	}
}

// bcryptPreHash maps a password of any length to the 44-byte bcrypt input of
// a $bcrypt-sha256$ hash. The HMAC is keyed with a per-hash salt so that a
// leaked unsalted SHA-256 of the password cannot be tested against it.
func bcryptPreHash(salt []byte, password string) []byte {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(password))
	sum := m.Sum(nil)
	out := make([]byte, base64.StdEncoding.EncodedLen(len(sum)))
	base64.StdEncoding.Encode(out, sum)
	return out
}

// Verify implements [Hasher]. It parses encoded first (see [ParseHash]) and
// computes nothing for a hash it cannot verify; it then waits for a slot like
// Hash. A plain bcrypt hash never matches a password longer than 72 bytes.
func (h *PasswordHasher) Verify(ctx context.Context, password, encoded string) error {
	info, err := ParseHash(encoded)
	if err != nil {
		return err
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	switch info.Algorithm {
	case Argon2id:
		key := argon2.IDKey([]byte(password), info.Salt, info.Iterations, info.Memory, info.Parallelism, uint32(len(info.Key)))
		return compareKeys(key, info.Key)
	case Scrypt:
		key, err := scrypt.Key([]byte(password), info.Salt, 1<<info.LogN, info.R, info.P, len(info.Key))
		if err != nil {
			return fmt.Errorf("%w: scrypt: %v", ErrUnsupportedHash, err)
		}
		return compareKeys(key, info.Key)
	default: // Bcrypt
		input := []byte(password)
		if info.PreHashed {
			input = bcryptPreHash(info.Salt, password)
		}
		tooLong := len(input) > Bcrypt72
		if tooLong {
			// bcrypt would read only the first 72 bytes: never a match. The
			// comparison still runs, so that the answer costs the same.
			input = input[:Bcrypt72]
		}
		err := bcrypt.CompareHashAndPassword([]byte(info.bcrypt), input)
		switch {
		case err == nil && tooLong:
			return ErrMismatch
		case err == nil:
			return nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return ErrMismatch
		default:
			return fmt.Errorf("%w: bcrypt: %v", ErrMalformedHash, err)
		}
	}
}

func compareKeys(got, want []byte) error {
	if subtle.ConstantTimeCompare(got, want) == 1 {
		return nil
	}
	return ErrMismatch
}

// NeedsRehash implements [Hasher]. It reports true for a hash of another
// algorithm, with any parameter (including salt and key length) different from
// the configured ones, or that does not parse.
func (h *PasswordHasher) NeedsRehash(encoded string) bool {
	info, err := ParseHash(encoded)
	if err != nil || info.Algorithm != h.alg {
		return true
	}
	switch info.Algorithm {
	case Argon2id:
		a := h.argon
		return info.Memory != a.Memory || info.Iterations != a.Iterations || info.Parallelism != a.Parallelism ||
			uint32(len(info.Salt)) != a.SaltLength || uint32(len(info.Key)) != a.KeyLength
	case Scrypt:
		s := h.scrypt
		return info.LogN != s.LogN || info.R != s.R || info.P != s.P ||
			len(info.Salt) != s.SaltLength || len(info.Key) != s.KeyLength
	default:
		return info.Cost != h.bcrypt.Cost
	}
}
