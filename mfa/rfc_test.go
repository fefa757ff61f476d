package mfa_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/mfa"
)

// RFC 6238 Appendix B through the whole verification path: the RFC seeds
// sealed in the store, the Manager's clock set to each time of the table,
// 8-digit codes, including T = 20000000000 (beyond 32 bits).
func TestVerifyRFC6238AppendixB(t *testing.T) {
	seeds := map[string]string{
		"SHA1":   "12345678901234567890",
		"SHA256": "12345678901234567890123456789012",
		"SHA512": "1234567890123456789012345678901234567890123456789012345678901234",
	}
	vectors := []struct {
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
	for _, v := range vectors {
		t.Run(fmt.Sprintf("%s at %d", v.alg, v.unix), func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, nil)
			e.clock.Set(time.Unix(v.unix, 0))
			userID := "rfc-" + v.alg
			sealed, err := e.kr.Encrypt([]byte(seeds[v.alg]), []byte(userID))
			if err != nil {
				t.Fatal(err)
			}
			rec := mfa.TOTPRecord{UserID: userID, ID: "e1", Secret: sealed, Algorithm: v.alg, Digits: 8, Period: 30, CreatedAt: e.clock.Now()}
			if err := e.store.PutPendingTOTP(ctx, rec); err != nil {
				t.Fatal(err)
			}
			if err := e.store.ConfirmTOTP(ctx, userID, "e1", 0, e.clock.Now()); err != nil {
				t.Fatal(err)
			}
			res, err := e.m.Verify(ctx, userID, v.code)
			if err != nil || res.Method != mfa.MethodTOTP {
				t.Fatalf("Verify(%s) = %+v, %v", v.code, res, err)
			}
			got, _ := e.store.GetTOTP(ctx, userID)
			if want := v.unix / 30; got.LastStep != want {
				t.Fatalf("LastStep = %d, want T = %d", got.LastStep, want)
			}
			e.clock.Advance(5 * time.Second)
			if _, err := e.m.Verify(ctx, userID, v.code); err == nil {
				t.Fatal("the RFC code was accepted twice")
			}
		})
	}
}
