// Package totpbench compares the cost of verifying one TOTP code in
// Gatehouse's mfa.Manager with plain github.com/pquerna/otp.
package totpbench

import (
	"context"
	"encoding/base32"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/mfa"
)

// secret is a 160-bit TOTP secret (RFC 4226 §4 R6 recommends 160 bits).
var secret = []byte("12345678901234567890")

// BenchmarkTOTPVerify measures the verification of a correct current code.
//
// gatehouse is mfa.Manager.Verify on its in-memory store: an attempts-limiter
// reservation and success, reading the enrolment, opening the sealed secret
// (AES-256-GCM), computing the code, and advancing the last accepted time
// step with the store's compare-and-set (the replay guard). The clock moves
// one time step per iteration, so every iteration is a fresh, acceptable
// code, never a replay. The codes are computed before the timer starts.
//
// pquerna is totp.Validate: the code computation alone, with no replay
// guard, no attempt limit and the secret in the clear.
func BenchmarkTOTPVerify(b *testing.B) {
	b.Run("gatehouse", func(b *testing.B) {
		ctx := context.Background()
		key, err := auth.GenerateKey()
		if err != nil {
			b.Fatal(err)
		}
		kr, err := auth.NewKeyring("bench", key)
		if err != nil {
			b.Fatal(err)
		}
		var unix atomic.Int64
		unix.Store(time.Date(2030, 1, 1, 0, 0, 5, 0, time.UTC).Unix())
		now := func() time.Time { return time.Unix(unix.Load(), 0) }
		store := mfa.NewMemoryStore()
		m, err := mfa.New(mfa.Config{Keyring: kr, Store: store, Now: now})
		if err != nil {
			b.Fatal(err)
		}
		const userID = "u-bench"
		sealed, err := kr.Encrypt(secret, []byte(userID))
		if err != nil {
			b.Fatal(err)
		}
		rec := mfa.TOTPRecord{UserID: userID, ID: "e1", Secret: sealed, Algorithm: "SHA1", Digits: 6, Period: 30, CreatedAt: now()}
		if err := store.PutPendingTOTP(ctx, rec); err != nil {
			b.Fatal(err)
		}
		if err := store.ConfirmTOTP(ctx, userID, "e1", 0, now()); err != nil {
			b.Fatal(err)
		}
		b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
		opts := totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
		start := unix.Load()
		codes := make([]string, b.N)
		for i := range codes {
			codes[i], err = totp.GenerateCodeCustom(b32, time.Unix(start+int64(i+1)*30, 0), opts)
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			unix.Add(30)
			if _, err := m.Verify(ctx, userID, codes[i]); err != nil {
				b.Fatalf("iteration %d: %v", i, err)
			}
		}
	})

	b.Run("pquerna", func(b *testing.B) {
		b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
		code, err := totp.GenerateCode(b32, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			// Validate allows one step of skew, so the code stays valid if
			// the run crosses a step boundary.
			if !totp.Validate(code, b32) {
				b.Fatal("code rejected")
			}
		}
	})
}
