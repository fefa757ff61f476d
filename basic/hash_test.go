package basic_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/basic"
)

var algorithms = []basic.Algorithm{basic.Argon2id, basic.Bcrypt, basic.Scrypt}

func TestHashVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	prefixes := map[basic.Algorithm]string{
		basic.Argon2id: "$argon2id$v=19$m=64,t=1,p=1$",
		basic.Bcrypt:   "$2a$04$",
		basic.Scrypt:   "$scrypt$ln=4,r=8,p=1$",
	}
	for _, alg := range algorithms {
		t.Run(string(alg), func(t *testing.T) {
			h := cheapHasher(t, alg)
			for _, pw := range []string{"amber falcon quarry 58", "", "пароль-с-юникодом", strings.Repeat("é", 100)} {
				enc, err := h.Hash(ctx, pw)
				if err != nil {
					t.Fatal(err)
				}
				if alg != basic.Bcrypt || len(pw) <= basic.Bcrypt72 {
					if !strings.HasPrefix(enc, prefixes[alg]) {
						t.Fatalf("hash %q lacks prefix %q", enc, prefixes[alg])
					}
				}
				if err := h.Verify(ctx, pw, enc); err != nil {
					t.Fatalf("Verify(right password): %v", err)
				}
				if err := h.Verify(ctx, pw+"x", enc); !errors.Is(err, basic.ErrMismatch) {
					t.Fatalf("Verify(wrong password) = %v, want ErrMismatch", err)
				}
				again, _ := h.Hash(ctx, pw)
				if again == enc {
					t.Fatal("two hashes of one password are equal: salt not random")
				}
				if h.NeedsRehash(enc) {
					t.Fatal("NeedsRehash of a fresh hash")
				}
			}
		})
	}
}

func TestCrossFormatVerifyAndRehash(t *testing.T) {
	ctx := context.Background()
	const pw = "amber falcon quarry 58"
	hashes := map[basic.Algorithm]string{}
	for _, alg := range algorithms {
		enc, err := cheapHasher(t, alg).Hash(ctx, pw)
		if err != nil {
			t.Fatal(err)
		}
		hashes[alg] = enc
	}
	for _, verifier := range algorithms {
		h := cheapHasher(t, verifier)
		for alg, enc := range hashes {
			if err := h.Verify(ctx, pw, enc); err != nil {
				t.Errorf("%s hasher verifying a %s hash: %v", verifier, alg, err)
			}
			if err := h.Verify(ctx, "amber falcon quarry 59", enc); !errors.Is(err, basic.ErrMismatch) {
				t.Errorf("%s hasher, wrong password on a %s hash: %v", verifier, alg, err)
			}
			if got, want := h.NeedsRehash(enc), alg != verifier; got != want {
				t.Errorf("%s hasher: NeedsRehash(%s hash) = %v, want %v", verifier, alg, got, want)
			}
		}
	}
	// Same algorithm, stronger parameters: rehash.
	cfg := cheapConfig(basic.Argon2id)
	cfg.Argon2id.Iterations = 2
	stronger, err := basic.NewHasher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !stronger.NeedsRehash(hashes[basic.Argon2id]) {
		t.Error("NeedsRehash ignores a changed iteration count")
	}
	cfg = cheapConfig(basic.Bcrypt)
	cfg.Bcrypt.Cost = 5
	b5, _ := basic.NewHasher(cfg)
	if !b5.NeedsRehash(hashes[basic.Bcrypt]) {
		t.Error("NeedsRehash ignores a changed bcrypt cost")
	}
	if !stronger.NeedsRehash("not a hash") {
		t.Error("NeedsRehash of garbage should be true")
	}
}

func TestKnownAnswers(t *testing.T) {
	ctx := context.Background()
	h := cheapHasher(t, basic.Argon2id)
	// RFC 7914 §12: scrypt("password", "NaCl", N=1024, r=8, p=16, dkLen=64).
	dk, _ := hex.DecodeString("fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162" +
		"2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")
	b64 := base64.RawStdEncoding.EncodeToString
	scryptVector := "$scrypt$ln=10,r=8,p=16$" + b64([]byte("NaCl")) + "$" + b64(dk)
	if err := h.Verify(ctx, "password", scryptVector); err != nil {
		t.Errorf("RFC 7914 scrypt vector: %v", err)
	}
	if err := h.Verify(ctx, "Password", scryptVector); !errors.Is(err, basic.ErrMismatch) {
		t.Errorf("RFC 7914 scrypt vector, wrong password: %v", err)
	}
	// A classic bcrypt test vector (OpenBSD / John the Ripper suite).
	bcryptVector := "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
	if err := h.Verify(ctx, "U*U", bcryptVector); err != nil {
		t.Errorf("bcrypt vector: %v", err)
	}
	for _, v := range []string{"$2b$", "$2y$"} {
		if err := h.Verify(ctx, "U*U", v+bcryptVector[4:]); err != nil {
			t.Errorf("bcrypt vector with %s: %v", v, err)
		}
	}
}

func TestBcryptNeverTruncates(t *testing.T) {
	ctx := context.Background()
	h := cheapHasher(t, basic.Bcrypt)
	exactly72 := strings.Repeat("k", 72)
	long := exactly72 + "-and-more"

	enc72, err := h.Hash(ctx, exactly72)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc72, "$2a$") {
		t.Fatalf("72-byte password not stored as plain bcrypt: %q", enc72)
	}
	// Standard bcrypt would ignore the extra bytes and match.
	if err := h.Verify(ctx, long, enc72); !errors.Is(err, basic.ErrMismatch) {
		t.Fatalf("plain bcrypt hash matched a longer password: %v", err)
	}

	encLong, err := h.Hash(ctx, long)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(encLong, "$bcrypt-sha256$v=1,r=4$") {
		t.Fatalf("long password not pre-hashed: %q", encLong)
	}
	if err := h.Verify(ctx, long, encLong); err != nil {
		t.Fatalf("pre-hashed bcrypt of the right password: %v", err)
	}
	for _, wrong := range []string{exactly72, exactly72 + "-and-mor", long + "!"} {
		if err := h.Verify(ctx, wrong, encLong); !errors.Is(err, basic.ErrMismatch) {
			t.Fatalf("pre-hashed bcrypt matched %d-byte %q: %v", len(wrong), wrong[60:], err)
		}
	}
	// 64 four-byte characters (256 bytes) work under bcrypt too.
	emoji := strings.Repeat("🔑", 64)
	enc, err := h.Hash(ctx, emoji)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Verify(ctx, emoji, enc); err != nil {
		t.Fatalf("64 emoji under bcrypt: %v", err)
	}
	if err := h.Verify(ctx, strings.Repeat("🔑", 63), enc); !errors.Is(err, basic.ErrMismatch) {
		t.Fatalf("63 emoji matched the hash of 64: %v", err)
	}
}

func TestParseHashRejects(t *testing.T) {
	b64 := base64.RawStdEncoding.EncodeToString
	salt, key := b64([]byte("0123456789abcdef")), b64([]byte("0123456789abcdef0123456789abcdef"))
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", basic.ErrMalformedHash},
		{"plaintext password stored by mistake", "hunter2", basic.ErrMalformedHash},
		{"argon2i is not argon2id", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key, basic.ErrUnsupportedHash},
		{"argon2id version 16", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key, basic.ErrUnsupportedHash},
		{"argon2id without version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key, basic.ErrMalformedHash},
		{"argon2id params out of order", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key, basic.ErrMalformedHash},
		{"argon2id leading zero", "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key, basic.ErrMalformedHash},
		{"argon2id negative", "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key, basic.ErrMalformedHash},
		{"argon2id plus sign", "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key, basic.ErrMalformedHash},
		{"argon2id keyid parameter", "$argon2id$v=19$m=64,t=1,p=1,keyid=x$" + salt + "$" + key, basic.ErrMalformedHash},
		{"argon2id zero passes", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key, basic.ErrMalformedHash},
		{"argon2id 4 GiB memory bomb", "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key, basic.ErrUnsupportedHash},
		{"argon2id uint32 overflow", "$argon2id$v=19$m=4294967296,t=1,p=1$" + salt + "$" + key, basic.ErrMalformedHash},
		{"argon2id 1000 passes", "$argon2id$v=19$m=64,t=1000,p=1$" + salt + "$" + key, basic.ErrUnsupportedHash},
		{"argon2id padded base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key, basic.ErrMalformedHash},
		{"argon2id url-safe base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.ReplaceAll(key+"-_", "+", "-"), basic.ErrMalformedHash},
		{"argon2id 3-byte salt", "$argon2id$v=19$m=64,t=1,p=1$" + b64([]byte("abc")) + "$" + key, basic.ErrMalformedHash},
		{"argon2id 8-byte key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + b64([]byte("12345678")), basic.ErrMalformedHash},
		{"argon2id trailing field", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$", basic.ErrMalformedHash},
		{"scrypt ln=0", "$scrypt$ln=0,r=8,p=1$" + salt + "$" + key, basic.ErrMalformedHash},
		{"scrypt 2^30 memory bomb", "$scrypt$ln=30,r=8,p=1$" + salt + "$" + key, basic.ErrUnsupportedHash},
		{"scrypt huge r", "$scrypt$ln=10,r=4000000,p=1$" + salt + "$" + key, basic.ErrUnsupportedHash},
		{"scrypt huge p", "$scrypt$ln=4,r=8,p=4000000000$" + salt + "$" + key, basic.ErrUnsupportedHash},
		{"bcrypt cost 3", "$2a$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", basic.ErrMalformedHash},
		{"bcrypt cost 31 CPU bomb", "$2a$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", basic.ErrUnsupportedHash},
		{"bcrypt one-digit cost", "$2a$5$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", basic.ErrMalformedHash},
		{"bcrypt truncated", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe", basic.ErrMalformedHash},
		{"bcrypt outside alphabet", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe+", basic.ErrMalformedHash},
		{"bcrypt 2x variant", "$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", basic.ErrUnsupportedHash},
		{"bcrypt-sha256 version 2", "$bcrypt-sha256$v=2,r=10$" + salt + "$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", basic.ErrUnsupportedHash},
		{"md5crypt", "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", basic.ErrUnsupportedHash},
		{"oversized", "$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("A", 600) + "$" + key, basic.ErrMalformedHash},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := basic.ParseHash(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseHash(%q) = %v, want %v", tc.in, err, tc.want)
			}
			// Verify refuses without computing, and never as a mismatch.
			verr := cheapHasher(t, basic.Argon2id).Verify(context.Background(), "x", tc.in)
			if verr == nil || errors.Is(verr, basic.ErrMismatch) {
				t.Fatalf("Verify(%q) = %v, want a parse error", tc.in, verr)
			}
		})
	}
}

func TestHasherConfigFloors(t *testing.T) {
	tests := []struct {
		name string
		cfg  basic.HasherConfig
		ok   bool
	}{
		{"zero value is the secure default", basic.HasherConfig{}, true},
		{"bcrypt default", basic.HasherConfig{Algorithm: basic.Bcrypt}, true},
		{"scrypt default", basic.HasherConfig{Algorithm: basic.Scrypt}, true},
		{"OWASP argon2id alternative 46 MiB t=1", basic.HasherConfig{Argon2id: basic.Argon2idParams{Memory: 46 * 1024, Iterations: 1}}, true},
		{"argon2id 1 MiB without the insecure switch", basic.HasherConfig{Argon2id: basic.Argon2idParams{Memory: 1024}}, false},
		{"argon2id 19 MiB single pass", basic.HasherConfig{Argon2id: basic.Argon2idParams{Iterations: 1}}, false},
		{"bcrypt cost 9", basic.HasherConfig{Bcrypt: basic.BcryptParams{Cost: 9}}, false},
		{"bcrypt cost 17 above the verify limit", basic.HasherConfig{Bcrypt: basic.BcryptParams{Cost: 17}}, false},
		{"scrypt N=2^14", basic.HasherConfig{Scrypt: basic.ScryptParams{LogN: 14}}, false},
		{"8-byte salt", basic.HasherConfig{Argon2id: basic.Argon2idParams{SaltLength: 8}}, false},
		{"unknown algorithm", basic.HasherConfig{Algorithm: "md5"}, false},
		{"negative MaxConcurrent", basic.HasherConfig{MaxConcurrent: -1}, false},
		{"argon2id above the verify limit", basic.HasherConfig{Argon2id: basic.Argon2idParams{Memory: 1 << 20}}, false},
		{"low cost with the insecure switch", cheapConfig(basic.Argon2id), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := basic.NewHasher(tc.cfg)
			if tc.ok && err != nil {
				t.Fatalf("NewHasher: %v", err)
			}
			if !tc.ok && !errors.Is(err, basic.ErrInvalidConfig) {
				t.Fatalf("NewHasher = %v, want ErrInvalidConfig", err)
			}
			if tc.ok && h.MaxConcurrent() < 1 {
				t.Fatalf("MaxConcurrent = %d", h.MaxConcurrent())
			}
		})
	}
}

func TestVerifyMalformedIsNotBusyNorMismatch(t *testing.T) {
	h := cheapHasher(t, basic.Argon2id)
	err := h.Verify(context.Background(), "x", "$argon2id$v=19$m=64,t=1,p=1$AAAA$AAAA")
	if !errors.Is(err, basic.ErrMalformedHash) || errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("Verify = %v", err)
	}
}
