package auth_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// The AES-256-GCM known answer is Test Case 14 of the GCM specification
// (McGrew and Viega, "The Galois/Counter Mode of Operation"): a zero key, a
// zero 96-bit IV and one zero block, no associated data.
func TestKeyringKnownAnswer(t *testing.T) {
	key := make([]byte, 32)
	k, err := auth.NewKeyring("k1", key)
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := hex.DecodeString("cea7403d4d606b6e074ec5d3baf39d18")
	tag, _ := hex.DecodeString("d0d1c8a799996bf0265b98b5d48ab919")
	sealed := append(make([]byte, 12), append(ct, tag...)...)
	ciphertext := "ghk1.k1." + base64.RawURLEncoding.EncodeToString(sealed)
	pt, err := k.Decrypt(ciphertext, nil)
	if err != nil {
		t.Fatalf("Decrypt(test case 14) = %v", err)
	}
	if !bytes.Equal(pt, make([]byte, 16)) {
		t.Fatalf("plaintext = %x, want 16 zero bytes", pt)
	}
	// A one-bit change of the tag must fail.
	sealed[len(sealed)-1] ^= 1
	bad := "ghk1.k1." + base64.RawURLEncoding.EncodeToString(sealed)
	if _, err := k.Decrypt(bad, nil); !errors.Is(err, auth.ErrKeyringCiphertext) {
		t.Fatalf("Decrypt(flipped tag) = %v, want ErrKeyringCiphertext", err)
	}
}

func newKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestKeyringRoundTripAndAssociatedData(t *testing.T) {
	k, err := auth.NewKeyring("primary", newKey(1))
	if err != nil {
		t.Fatal(err)
	}
	ct, err := k.Encrypt([]byte("JBSWY3DPEHPK3PXP"), []byte("user-1"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(ct, "JBSWY3DP") {
		t.Fatal("ciphertext contains the plaintext")
	}
	if id, _ := auth.KeyID(ct); id != "primary" {
		t.Fatalf("KeyID = %q", id)
	}
	pt, err := k.Decrypt(ct, []byte("user-1"))
	if err != nil || string(pt) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("Decrypt = %q, %v", pt, err)
	}
	if _, err := k.Decrypt(ct, []byte("user-2")); !errors.Is(err, auth.ErrKeyringCiphertext) {
		t.Fatalf("Decrypt with other associated data = %v, want ErrKeyringCiphertext", err)
	}
	ct2, _ := k.Encrypt([]byte("JBSWY3DPEHPK3PXP"), []byte("user-1"))
	if ct == ct2 {
		t.Fatal("two encryptions of the same plaintext are equal: nonce reuse")
	}
}

func TestKeyringTamper(t *testing.T) {
	k, _ := auth.NewKeyring("k1", newKey(2))
	ct, _ := k.Encrypt([]byte("secret seed"), nil)
	body := ct[len("ghk1.k1."):]
	raw, _ := base64.RawURLEncoding.DecodeString(body)
	cases := map[string]string{
		"empty":                "",
		"no prefix":            body,
		"wrong version":        "ghk2.k1." + body,
		"missing key id":       "ghk1." + body,
		"bad base64":           "ghk1.k1.!!!",
		"truncated below tag":  "ghk1.k1." + base64.RawURLEncoding.EncodeToString(raw[:20]),
		"flipped nonce bit":    "ghk1.k1." + flip(raw, 0),
		"flipped payload bit":  "ghk1.k1." + flip(raw, 12),
		"flipped tag bit":      "ghk1.k1." + flip(raw, len(raw)-1),
		"appended byte":        "ghk1.k1." + base64.RawURLEncoding.EncodeToString(append(append([]byte{}, raw...), 0)),
		"key id with a dot":    "ghk1.k.1." + body,
		"key id path traverse": "ghk1.../" + body,
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := k.Decrypt(c, nil)
			if err == nil {
				t.Fatal("tampered ciphertext decrypted")
			}
			if !errors.Is(err, auth.ErrKeyringCiphertext) && !errors.Is(err, auth.ErrKeyringUnknownKey) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func flip(b []byte, i int) string {
	c := append([]byte{}, b...)
	c[i] ^= 0x80
	return base64.RawURLEncoding.EncodeToString(c)
}

func TestKeyringUnknownKeyAndRotation(t *testing.T) {
	old, _ := auth.NewKeyring("2025", newKey(3))
	ctOld, _ := old.Encrypt([]byte("seed"), []byte("u"))

	other, _ := auth.NewKeyring("other", newKey(4))
	if _, err := other.Decrypt(ctOld, []byte("u")); !errors.Is(err, auth.ErrKeyringUnknownKey) {
		t.Fatalf("Decrypt with unknown key ID = %v, want ErrKeyringUnknownKey", err)
	}

	if err := old.Rotate("2026", newKey(5)); err != nil {
		t.Fatal(err)
	}
	if old.PrimaryID() != "2026" {
		t.Fatalf("primary = %q after Rotate", old.PrimaryID())
	}
	if pt, err := old.Decrypt(ctOld, []byte("u")); err != nil || string(pt) != "seed" {
		t.Fatalf("old ciphertext after rotation: %q, %v", pt, err)
	}
	ctNew, _ := old.Encrypt([]byte("seed"), []byte("u"))
	if id, _ := auth.KeyID(ctNew); id != "2026" {
		t.Fatalf("new ciphertext key ID = %q", id)
	}
	re, changed, err := old.ReEncrypt(ctOld, []byte("u"))
	if err != nil || !changed {
		t.Fatalf("ReEncrypt = %v, %v", changed, err)
	}
	if id, _ := auth.KeyID(re); id != "2026" {
		t.Fatalf("re-encrypted key ID = %q", id)
	}
	if _, changed, _ := old.ReEncrypt(re, []byte("u")); changed {
		t.Fatal("ReEncrypt changed a ciphertext already under the primary key")
	}
	if err := old.Remove("2025"); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Decrypt(ctOld, []byte("u")); !errors.Is(err, auth.ErrKeyringUnknownKey) {
		t.Fatalf("Decrypt after Remove = %v", err)
	}
	if pt, err := old.Decrypt(re, []byte("u")); err != nil || string(pt) != "seed" {
		t.Fatalf("re-encrypted ciphertext after Remove: %q, %v", pt, err)
	}
	if err := old.Remove("2026"); err == nil {
		t.Fatal("removing the primary key succeeded")
	}
}

func TestKeyringRejectsBadKeys(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33} {
		if _, err := auth.NewKeyring("k", make([]byte, n)); !errors.Is(err, auth.ErrKeyringKeySize) {
			t.Errorf("%d-byte key: err = %v, want ErrKeyringKeySize", n, err)
		}
	}
	for _, id := range []string{"", "a.b", "a b", strings.Repeat("x", 65), "ü"} {
		if _, err := auth.NewKeyring(id, newKey(1)); !errors.Is(err, auth.ErrKeyringKeyID) {
			t.Errorf("key ID %q: err = %v, want ErrKeyringKeyID", id, err)
		}
	}
	k, _ := auth.NewKeyring("k", newKey(1))
	if err := k.Add("k", newKey(2)); !errors.Is(err, auth.ErrKeyringDuplicateID) {
		t.Errorf("re-adding an ID with another key: %v", err)
	}
}

func TestParseKeyringAndEnv(t *testing.T) {
	a := base64.StdEncoding.EncodeToString(newKey(7))
	b := base64.RawURLEncoding.EncodeToString(newKey(8))
	t.Setenv("GATEHOUSE_TEST_KEYRING", "new:"+a+", old:"+b)
	k, err := auth.KeyringFromEnv("GATEHOUSE_TEST_KEYRING")
	if err != nil {
		t.Fatal(err)
	}
	if k.PrimaryID() != "new" {
		t.Fatalf("primary = %q", k.PrimaryID())
	}
	oldOnly, _ := auth.NewKeyring("old", newKey(8))
	ct, _ := oldOnly.Encrypt([]byte("x"), nil)
	if pt, err := k.Decrypt(ct, nil); err != nil || string(pt) != "x" {
		t.Fatalf("secondary key does not decrypt: %v", err)
	}
	for _, spec := range []string{"", "nokey", "k:not base64!", "k:" + base64.StdEncoding.EncodeToString(make([]byte, 16))} {
		if _, err := auth.ParseKeyring(spec); err == nil {
			t.Errorf("ParseKeyring(%q) succeeded", spec)
		}
	}
	t.Setenv("GATEHOUSE_TEST_EMPTY", "")
	if _, err := auth.KeyringFromEnv("GATEHOUSE_TEST_EMPTY"); err == nil {
		t.Error("empty environment variable accepted")
	}
}

func FuzzKeyringDecrypt(f *testing.F) {
	k, _ := auth.NewKeyring("k1", newKey(9))
	ct, _ := k.Encrypt([]byte("seed"), nil)
	f.Add(ct)
	f.Add("ghk1.k1.")
	f.Add("ghk1..AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		pt, err := k.Decrypt(s, nil)
		if err == nil && s != ct && string(pt) == "seed" {
			// Another valid encoding of the same sealed bytes is only possible
			// if base64 decoding were lenient; RawURLEncoding is strict.
			t.Fatalf("a different ciphertext %q opened", s)
		}
	})
}
