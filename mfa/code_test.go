package mfa

import (
	"crypto/hmac"
	"encoding/base32"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"testing"

	"github.com/pquerna/otp"
	pqhotp "github.com/pquerna/otp/hotp"

	"github.com/gatehouse-auth/gatehouse/internal/secure"
)

// RFC 4226 Appendix D: HOTP with the 20-byte ASCII secret, counters 0-9.
func TestHOTPRFC4226AppendixD(t *testing.T) {
	secret := []byte("12345678901234567890")
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	mac := hmac.New(hashFunc("SHA1"), secret)
	for counter, w := range want {
		mac.Reset()
		if got := fmt.Sprintf("%06d", hotp(mac, uint64(counter), 6, nil)); got != w {
			t.Errorf("HOTP(count=%d) = %s, want %s", counter, got, w)
		}
	}
}

// rfc6238Seeds are the seeds of RFC 6238 Appendix B's table, by hash.
var rfc6238Seeds = map[string]string{
	"SHA1":   "12345678901234567890",
	"SHA256": "12345678901234567890123456789012",
	"SHA512": "1234567890123456789012345678901234567890123456789012345678901234",
}

// RFC 6238 Appendix B: 8-digit TOTP, X = 30, T0 = 0, including a time past
// 2^32 seconds.
var rfc6238Vectors = []struct {
	unix int64
	alg  string
	code string
}{
	{59, "SHA1", "94287082"}, {59, "SHA256", "46119246"}, {59, "SHA512", "90693936"},
	{1111111109, "SHA1", "07081804"}, {1111111109, "SHA256", "68084774"}, {1111111109, "SHA512", "25091201"},
	{1111111111, "SHA1", "14050471"}, {1111111111, "SHA256", "67062674"}, {1111111111, "SHA512", "99943326"},
	{1234567890, "SHA1", "89005924"}, {1234567890, "SHA256", "91819424"}, {1234567890, "SHA512", "93441116"},
	{2000000000, "SHA1", "69279037"}, {2000000000, "SHA256", "90698825"}, {2000000000, "SHA512", "38618901"},
	{20000000000, "SHA1", "65353130"}, {20000000000, "SHA256", "77737706"}, {20000000000, "SHA512", "47863826"},
}

func TestTOTPRFC6238AppendixB(t *testing.T) {
	for _, v := range rfc6238Vectors {
		t.Run(fmt.Sprintf("%s at %d", v.alg, v.unix), func(t *testing.T) {
			tm, ok := newTOTPMatcher([]byte(rfc6238Seeds[v.alg]), v.alg, 8, 30)
			if !ok {
				t.Fatal("newTOTPMatcher refused the RFC parameters")
			}
			step := tm.step(v.unix)
			if got := fmt.Sprintf("%08d", tm.code(uint64(step))); got != v.code {
				t.Fatalf("TOTP = %s, want %s", got, v.code)
			}
			if s, ok := tm.match(v.code, v.unix); !ok || s != step {
				t.Fatalf("match(%s) = %d, %v; want step %d", v.code, s, ok, step)
			}
		})
	}
}

func TestTOTPStepIsFloor(t *testing.T) {
	tm, _ := newTOTPMatcher([]byte("12345678901234567890"), "SHA1", 6, 30)
	for _, tc := range []struct{ unix, step int64 }{
		{0, 0}, {29, 0}, {30, 1}, {59, 1}, {-1, -1}, {-30, -1}, {-31, -2},
		{20000000000, 666666666},
	} {
		if got := tm.step(tc.unix); got != tc.step {
			t.Errorf("step(%d) = %d, want %d", tc.unix, got, tc.step)
		}
	}
}

// The code computation must agree with pquerna/otp, the library whose
// otpauth URLs the authenticator apps read.
func TestHOTPAgreesWithPquerna(t *testing.T) {
	algs := map[string]otp.Algorithm{"SHA1": otp.AlgorithmSHA1, "SHA256": otp.AlgorithmSHA256, "SHA512": otp.AlgorithmSHA512}
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding)
	for i := range 300 {
		secret := secure.RandomBytes(16 + i%49)
		counter := uint64(i) * 0x9E3779B97F4A7C15 >> (i % 64)
		for name, alg := range algs {
			for _, digits := range []otp.Digits{otp.DigitsSix, otp.DigitsEight} {
				want, err := pqhotp.GenerateCodeCustom(b32.EncodeToString(secret), counter, pqhotp.ValidateOpts{Digits: digits, Algorithm: alg})
				if err != nil {
					t.Fatal(err)
				}
				tm, _ := newTOTPMatcher(secret, name, digits.Length(), 30)
				tm.code(counter ^ 1) // a used matcher must give the same answer
				got := fmt.Sprintf("%0*d", digits.Length(), tm.code(counter))
				if got != want {
					t.Fatalf("%s/%d counter %d: got %s, pquerna %s", name, digits, counter, got, want)
				}
			}
		}
	}
}

func TestMatchWindow(t *testing.T) {
	tm, _ := newTOTPMatcher([]byte("12345678901234567890"), "SHA1", 6, 30)
	code := func(step int64) string { return fmt.Sprintf("%06d", tm.code(uint64(step))) }
	const now = 1_700_000_015 // step 56666667, 15 s into it
	cur := tm.step(now)
	for _, tc := range []struct {
		name string
		step int64
		ok   bool
	}{
		{"current step", cur, true},
		{"one step behind", cur - 1, true},
		{"one step ahead", cur + 1, true},
		{"two steps behind", cur - 2, false},
		{"two steps ahead", cur + 2, false},
		{"an hour old", cur - 120, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := tm.match(code(tc.step), now)
			if ok != tc.ok || (ok && s != tc.step) {
				t.Fatalf("match = %d, %v; want %d, %v", s, ok, tc.step, tc.ok)
			}
		})
	}
	if _, ok := tm.match(code(cur)+"0", now); ok {
		t.Fatal("a 7-digit code matched a 6-digit enrolment")
	}
}

func TestNewTOTPMatcherRefusesBadParameters(t *testing.T) {
	for _, tc := range []struct {
		name   string
		alg    string
		digits int
		period int
	}{
		{"unknown hash", "MD5", 6, 30},
		{"lower-case hash name", "sha1", 6, 30},
		{"five digits", "SHA1", 5, 30},
		{"nine digits", "SHA1", 9, 30},
		{"zero period", "SHA1", 6, 0},
		{"negative period", "SHA1", 6, -30},
	} {
		if _, ok := newTOTPMatcher([]byte("12345678901234567890"), tc.alg, tc.digits, tc.period); ok {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

func TestParseCode(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		kind  codeKind
		canon string
	}{
		{"six digits", "123456", kindOTP, "123456"},
		{"eight digits", "12345678", kindOTP, "12345678"},
		{"digits with a space in the middle", "123 456", kindOTP, "123456"},
		{"digits with surrounding spaces", "  123456 ", kindOTP, "123456"},
		{"backup code as shown", "7QK2-M9XD-4HJP", kindBackup, "7QK2M9XD4HJP"},
		{"backup code in lower case without hyphens", "7qk2m9xd4hjp", kindBackup, "7QK2M9XD4HJP"},
		{"backup code with O and I typed for 0 and 1", "OIL0-0000-0000", kindBackup, "011000000000"},
		{"backup code of twelve digits", "1234-5678-9012", kindBackup, "123456789012"},
		{"five digits", "12345", 0, ""},
		{"nine digits", "123456789", 0, ""},
		{"empty", "", 0, ""},
		{"only separators", "- - -", 0, ""},
		{"backup code with a U", "UQK2-M9XD-4HJP", 0, ""},
		{"backup code one symbol short", "7QK2-M9XD-4HJ", 0, ""},
		{"backup code one symbol long", "7QK2-M9XD-4HJPA", 0, ""},
		{"full-width digits", "１２３４５６", 0, ""},
		{"digits with a tab", "123\t456", 0, ""},
		{"digits with a NUL", "123456\x00", 0, ""},
		{"sign in front", "+123456", 0, ""},
		{"oversized input of spaces", strings.Repeat(" ", 65) + "123456", 0, ""},
		{"backup code with punctuation", "7QK2.M9XD.4HJP", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kind, canon, err := parseCode(tc.in)
			if tc.kind == 0 {
				if !errors.Is(err, ErrMalformedCode) {
					t.Fatalf("parseCode(%q) = %v, %q, %v; want ErrMalformedCode", tc.in, kind, canon, err)
				}
				return
			}
			if err != nil || kind != tc.kind || canon != tc.canon {
				t.Fatalf("parseCode(%q) = %v, %q, %v; want %v, %q", tc.in, kind, canon, err, tc.kind, tc.canon)
			}
		})
	}
}

func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"123456", "12345678", "123 456", "7QK2-M9XD-4HJP", "oil0-0000-0000", "", "-", "１２３４５６", "123456789", "UUUU-UUUU-UUUU"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kind, canon, err := parseCode(s)
		if err != nil {
			if kind != 0 || canon != "" {
				t.Fatalf("parseCode(%q) returned %v %q with an error", s, kind, canon)
			}
			return
		}
		if len(s) > maxCodeInput {
			t.Fatalf("accepted %d bytes", len(s))
		}
		switch kind {
		case kindOTP:
			if len(canon) < 6 || len(canon) > 8 || strings.Trim(canon, "0123456789") != "" {
				t.Fatalf("OTP %q from %q", canon, s)
			}
		case kindBackup:
			if len(canon) != backupLen || strings.Trim(canon, crockford) != "" {
				t.Fatalf("backup code %q from %q", canon, s)
			}
		default:
			t.Fatalf("unknown kind %v", kind)
		}
		// Canonical forms are fixed points.
		k2, c2, err := parseCode(canon)
		if err != nil || k2 != kind || c2 != canon {
			t.Fatalf("canonical %q reparsed as %v %q %v", canon, k2, c2, err)
		}
	})
}

func TestBackupCodes(t *testing.T) {
	codes, hashes := newBackupCodes("u1", 10)
	if len(codes) != 10 || len(hashes) != 10 {
		t.Fatalf("%d codes, %d hashes", len(codes), len(hashes))
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if len(c) != 14 || c[4] != '-' || c[9] != '-' {
			t.Fatalf("code %q is not XXXX-XXXX-XXXX", c)
		}
		kind, canon, err := parseCode(c)
		if err != nil || kind != kindBackup {
			t.Fatalf("code %q does not parse as a backup code: %v", c, err)
		}
		if hashes[i] != backupHash("u1", canon) || strings.Contains(hashes[i], canon) {
			t.Fatalf("hash %d does not match its code", i)
		}
		if backupHash("u2", canon) == hashes[i] {
			t.Fatal("a code hashes the same for two users")
		}
		if seen[canon] {
			t.Fatal("duplicate code in one set")
		}
		seen[canon] = true
	}
	if BackupCodeBits < 50 {
		t.Fatalf("backup codes carry %d bits, want at least 50", BackupCodeBits)
	}
}

// Every bit of a backup code must be random: over many codes each of the 60
// bit positions takes both values.
func TestBackupCodeUsesAllBits(t *testing.T) {
	var ones, zeros uint64
	for range 200 {
		_, canon, err := parseCode(newBackupCode())
		if err != nil {
			t.Fatal(err)
		}
		var v uint64
		for i := 0; i < len(canon); i++ {
			v = v<<5 | uint64(strings.IndexByte(crockford, canon[i]))
		}
		ones |= v
		zeros |= ^v
	}
	mask := uint64(1)<<BackupCodeBits - 1
	if ones&mask != mask || zeros&mask != mask {
		t.Fatalf("bits never set: %d, never clear: %d", bits.OnesCount64(^ones&mask), bits.OnesCount64(^zeros&mask))
	}
}

func TestSentCodeShape(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c := newSentCode()
		if len(c) != SentCodeDigits || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("sent code %q", c)
		}
		seen[c] = true
	}
	if len(seen) < 190 {
		t.Fatalf("only %d distinct codes in 200", len(seen))
	}
}
