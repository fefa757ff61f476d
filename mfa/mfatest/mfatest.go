// Package mfatest checks implementations of the mfa storage interfaces.
//
// An adapter's tests call [Run] with a constructor of empty stores:
//
//	func TestStore(t *testing.T) {
//		mfatest.Run(t, func(t *testing.T) mfa.Store { return newTestStore(t) })
//	}
//
// An adapter that implements only part of [mfa.Store] runs [RunTOTP],
// [RunBackupCodes] or [RunChallenges]. The suite depends only on the
// interfaces: it passes every time through method arguments, uses random
// user IDs and hashes so that stores sharing a database do not collide, and
// compares times at microsecond precision in UTC.
package mfatest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/mfa"
)

// base is the reference time of the suite's records.
var base = time.Date(2031, 5, 6, 7, 8, 9, 123456000, time.UTC)

// concurrency is how many goroutines race in the concurrency cases.
const concurrency = 50

type testCase[S any] struct {
	name string
	fn   func(t *testing.T, s S)
}

func run[S any](t *testing.T, newStore func(t *testing.T) S, tests []testCase[S]) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// Run runs every part of the suite against stores made by newStore, one
// fresh store per subtest.
func Run(t *testing.T, newStore func(t *testing.T) mfa.Store) {
	t.Helper()
	t.Run("TOTP", func(t *testing.T) {
		RunTOTP(t, func(t *testing.T) mfa.TOTPStore { return newStore(t) })
	})
	t.Run("BackupCodes", func(t *testing.T) {
		RunBackupCodes(t, func(t *testing.T) mfa.BackupCodeStore { return newStore(t) })
	})
	t.Run("Challenges", func(t *testing.T) {
		RunChallenges(t, func(t *testing.T) mfa.ChallengeStore { return newStore(t) })
	})
}

// RunTOTP checks an [mfa.TOTPStore].
func RunTOTP(t *testing.T, newStore func(t *testing.T) mfa.TOTPStore) {
	t.Helper()
	run(t, newStore, []testCase[mfa.TOTPStore]{
		{"missing enrolment is ErrNotFound", testTOTPMissing},
		{"pending enrolment round-trips every field", testTOTPRoundTrip},
		{"a new pending enrolment replaces the pending one", testTOTPReplacePending},
		{"confirm with a stale enrolment ID changes nothing", testTOTPConfirmStaleID},
		{"confirm turns on and records the step", testTOTPConfirm},
		{"pending over a confirmed enrolment is refused", testTOTPPendingOverConfirmed},
		{"advance accepts only a greater step", testTOTPAdvance},
		{"advance needs a confirmed enrolment", testTOTPAdvanceUnconfirmed},
		{"delete removes and deleting twice is fine", testTOTPDelete},
		{"users do not share enrolments", testTOTPIsolation},
		{"50 concurrent advances to one step: exactly one wins", testTOTPConcurrentSameStep},
		{"concurrent advances to different steps keep the greatest", testTOTPConcurrentSteps},
		{"50 concurrent confirmations: exactly one wins", testTOTPConcurrentConfirm},
		{"a canceled context is an error", testTOTPCanceled},
	})
}

// RunBackupCodes checks an [mfa.BackupCodeStore].
func RunBackupCodes(t *testing.T, newStore func(t *testing.T) mfa.BackupCodeStore) {
	t.Helper()
	run(t, newStore, []testCase[mfa.BackupCodeStore]{
		{"no codes counts zero and consumes nothing", testBackupEmpty},
		{"a code is consumed once and the count drops", testBackupConsumeOnce},
		{"replacing invalidates the old set", testBackupReplace},
		{"an empty replacement removes the set", testBackupReplaceEmpty},
		{"duplicate hashes count once", testBackupDuplicates},
		{"one user's code does not work for another", testBackupIsolation},
		{"50 concurrent uses of one code: exactly one wins", testBackupConcurrentSame},
		{"concurrent uses of different codes all win once", testBackupConcurrentDistinct},
		{"a canceled context is an error", testBackupCanceled},
	})
}

// RunChallenges checks an [mfa.ChallengeStore].
func RunChallenges(t *testing.T, newStore func(t *testing.T) mfa.ChallengeStore) {
	t.Helper()
	run(t, newStore, []testCase[mfa.ChallengeStore]{
		{"challenge round-trips every field", testChallengeRoundTrip},
		{"missing challenge is ErrNotFound", testChallengeMissing},
		{"duplicate token hash is refused", testChallengeDuplicate},
		{"consumed challenge is gone", testChallengeConsume},
		{"expired challenge is neither read nor consumed", testChallengeExpired},
		{"50 concurrent consumptions: exactly one wins", testChallengeConcurrentConsume},
		{"sent code is used once", testSentCodeOnce},
		{"wrong guesses use attempts and void the code", testSentCodeAttempts},
		{"expired sent code is ErrNotFound", testSentCodeExpired},
		{"resend before ResendAt is throttled and keeps the old code", testSentCodeThrottle},
		{"resend after ResendAt replaces the old code", testSentCodeReplace},
		{"used code still throttles resends", testSentCodeUsedThrottles},
		{"users do not share sent codes", testSentCodeIsolation},
		{"50 concurrent uses of one sent code: exactly one wins", testSentCodeConcurrent},
		{"concurrent wrong guesses never exceed the attempts", testSentCodeConcurrentGuesses},
		{"a canceled context is an error", testChallengeCanceled},
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newUserID() string { return "u-" + randomHex(8) }

func newHash() string { return randomHex(32) }

func newTOTP(userID string) mfa.TOTPRecord {
	return mfa.TOTPRecord{
		UserID:             userID,
		ID:                 "e-" + randomHex(8),
		Secret:             "ghk1.k1." + randomHex(24),
		Algorithm:          "SHA1",
		Digits:             6,
		Period:             30,
		CreatedAt:          base,
		PendingBackupCodes: []string{newHash(), newHash()},
	}
}

func sameTime(a, b time.Time) bool {
	return a.UTC().Truncate(time.Microsecond).Equal(b.UTC().Truncate(time.Microsecond))
}

func equalTOTP(a, b mfa.TOTPRecord) bool {
	return a.UserID == b.UserID && a.ID == b.ID && a.Secret == b.Secret && a.Algorithm == b.Algorithm &&
		a.Digits == b.Digits && a.Period == b.Period && sameTime(a.CreatedAt, b.CreatedAt) &&
		sameTime(a.ConfirmedAt, b.ConfirmedAt) && a.LastStep == b.LastStep &&
		slices.Equal(a.PendingBackupCodes, b.PendingBackupCodes)
}

func mustGetTOTP(t *testing.T, s mfa.TOTPStore, userID string) mfa.TOTPRecord {
	t.Helper()
	r, err := s.GetTOTP(context.Background(), userID)
	if err != nil {
		t.Fatalf("GetTOTP: %v", err)
	}
	return r
}

func mustPut(t *testing.T, s mfa.TOTPStore, r mfa.TOTPRecord) {
	t.Helper()
	if err := s.PutPendingTOTP(context.Background(), r); err != nil {
		t.Fatalf("PutPendingTOTP: %v", err)
	}
}

func mustConfirm(t *testing.T, s mfa.TOTPStore, r mfa.TOTPRecord, step int64) {
	t.Helper()
	if err := s.ConfirmTOTP(context.Background(), r.UserID, r.ID, step, base.Add(time.Minute)); err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
}

func testTOTPMissing(t *testing.T, s mfa.TOTPStore) {
	ctx := context.Background()
	r, err := s.GetTOTP(ctx, newUserID())
	if !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("GetTOTP of a missing user: %v, want ErrNotFound", err)
	}
	if r.UserID != "" || r.Secret != "" {
		t.Fatalf("GetTOTP returned a record with ErrNotFound: %+v", r)
	}
	if err := s.ConfirmTOTP(ctx, newUserID(), "e-x", 5, base); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("ConfirmTOTP of a missing user: %v, want ErrNotFound", err)
	}
}

func testTOTPRoundTrip(t *testing.T, s mfa.TOTPStore) {
	want := newTOTP(newUserID())
	mustPut(t, s, want)
	got := mustGetTOTP(t, s, want.UserID)
	if !equalTOTP(got, want) || got.Confirmed() {
		t.Fatalf("GetTOTP = %+v, want %+v", got, want)
	}
	// The caller's slice must not alias the stored record.
	got.PendingBackupCodes[0] = "changed"
	if again := mustGetTOTP(t, s, want.UserID); again.PendingBackupCodes[0] != want.PendingBackupCodes[0] {
		t.Fatal("changing a returned record changed the stored one")
	}
}

func testTOTPReplacePending(t *testing.T, s mfa.TOTPStore) {
	u := newUserID()
	first, second := newTOTP(u), newTOTP(u)
	mustPut(t, s, first)
	mustPut(t, s, second)
	if got := mustGetTOTP(t, s, u); !equalTOTP(got, second) {
		t.Fatalf("after two Setups GetTOTP = %+v, want the second", got)
	}
}

func testTOTPConfirmStaleID(t *testing.T, s mfa.TOTPStore) {
	u := newUserID()
	first, second := newTOTP(u), newTOTP(u)
	mustPut(t, s, first)
	mustPut(t, s, second)
	if err := s.ConfirmTOTP(context.Background(), u, first.ID, 100, base); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("ConfirmTOTP with the replaced enrolment's ID: %v, want ErrNotFound", err)
	}
	if got := mustGetTOTP(t, s, u); got.Confirmed() || !equalTOTP(got, second) {
		t.Fatalf("stale confirmation changed the record: %+v", got)
	}
}

func testTOTPConfirm(t *testing.T, s mfa.TOTPStore) {
	r := newTOTP(newUserID())
	mustPut(t, s, r)
	mustConfirm(t, s, r, 1234)
	got := mustGetTOTP(t, s, r.UserID)
	if !got.Confirmed() || !sameTime(got.ConfirmedAt, base.Add(time.Minute)) || got.LastStep != 1234 {
		t.Fatalf("after ConfirmTOTP: %+v", got)
	}
	if len(got.PendingBackupCodes) != 0 {
		t.Fatalf("ConfirmTOTP kept the pending backup codes: %v", got.PendingBackupCodes)
	}
	if got.Secret != r.Secret || got.ID != r.ID {
		t.Fatal("ConfirmTOTP changed the secret or ID")
	}
	if err := s.ConfirmTOTP(context.Background(), r.UserID, r.ID, 2000, base); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("second ConfirmTOTP: %v, want ErrNotFound", err)
	}
	if got := mustGetTOTP(t, s, r.UserID); got.LastStep != 1234 {
		t.Fatalf("second ConfirmTOTP moved the step to %d", got.LastStep)
	}
}

func testTOTPPendingOverConfirmed(t *testing.T, s mfa.TOTPStore) {
	r := newTOTP(newUserID())
	mustPut(t, s, r)
	mustConfirm(t, s, r, 10)
	if err := s.PutPendingTOTP(context.Background(), newTOTP(r.UserID)); !errors.Is(err, mfa.ErrEnabled) {
		t.Fatalf("PutPendingTOTP over a confirmed enrolment: %v, want ErrEnabled", err)
	}
	if got := mustGetTOTP(t, s, r.UserID); got.ID != r.ID || !got.Confirmed() {
		t.Fatalf("refused PutPendingTOTP changed the record: %+v", got)
	}
}

func testTOTPAdvance(t *testing.T, s mfa.TOTPStore) {
	ctx := context.Background()
	r := newTOTP(newUserID())
	mustPut(t, s, r)
	mustConfirm(t, s, r, 100)
	for _, tc := range []struct {
		step int64
		want bool
		last int64
	}{
		{100, false, 100}, // the confirmation's step replayed
		{99, false, 100},  // an older step
		{101, true, 101},
		{101, false, 101}, // replay
		{1 << 40, true, 1 << 40},
		{102, false, 1 << 40}, // an older code after a newer one
	} {
		ok, err := s.AdvanceTOTPStep(ctx, r.UserID, tc.step)
		if err != nil || ok != tc.want {
			t.Fatalf("AdvanceTOTPStep(%d) = %v, %v; want %v", tc.step, ok, err, tc.want)
		}
		if got := mustGetTOTP(t, s, r.UserID); got.LastStep != tc.last {
			t.Fatalf("after AdvanceTOTPStep(%d) LastStep = %d, want %d", tc.step, got.LastStep, tc.last)
		}
	}
}

func testTOTPAdvanceUnconfirmed(t *testing.T, s mfa.TOTPStore) {
	ctx := context.Background()
	r := newTOTP(newUserID())
	if _, err := s.AdvanceTOTPStep(ctx, r.UserID, 5); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("AdvanceTOTPStep of a missing user: %v, want ErrNotFound", err)
	}
	mustPut(t, s, r)
	if ok, err := s.AdvanceTOTPStep(ctx, r.UserID, 5); !errors.Is(err, mfa.ErrNotFound) || ok {
		t.Fatalf("AdvanceTOTPStep of a pending enrolment: %v, %v; want false, ErrNotFound", ok, err)
	}
}

func testTOTPDelete(t *testing.T, s mfa.TOTPStore) {
	ctx := context.Background()
	r := newTOTP(newUserID())
	mustPut(t, s, r)
	mustConfirm(t, s, r, 7)
	if err := s.DeleteTOTP(ctx, r.UserID); err != nil {
		t.Fatalf("DeleteTOTP: %v", err)
	}
	if _, err := s.GetTOTP(ctx, r.UserID); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("GetTOTP after delete: %v, want ErrNotFound", err)
	}
	if err := s.DeleteTOTP(ctx, r.UserID); err != nil {
		t.Fatalf("deleting a missing enrolment: %v, want nil", err)
	}
	// A deleted enrolment may be set up again.
	mustPut(t, s, newTOTP(r.UserID))
}

func testTOTPIsolation(t *testing.T, s mfa.TOTPStore) {
	a, b := newTOTP(newUserID()), newTOTP(newUserID())
	mustPut(t, s, a)
	mustPut(t, s, b)
	mustConfirm(t, s, a, 50)
	if got := mustGetTOTP(t, s, b.UserID); got.Confirmed() || got.Secret != b.Secret {
		t.Fatalf("confirming one user changed another: %+v", got)
	}
	if _, err := s.AdvanceTOTPStep(context.Background(), b.UserID, 60); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("advance of the unconfirmed user: %v", err)
	}
}

func testTOTPConcurrentSameStep(t *testing.T, s mfa.TOTPStore) {
	r := newTOTP(newUserID())
	mustPut(t, s, r)
	mustConfirm(t, s, r, 10)
	wins := race(t, func() (bool, error) {
		return s.AdvanceTOTPStep(context.Background(), r.UserID, 11)
	})
	if wins != 1 {
		t.Fatalf("%d of %d concurrent uses of one step won, want exactly 1", wins, concurrency)
	}
}

func testTOTPConcurrentSteps(t *testing.T, s mfa.TOTPStore) {
	r := newTOTP(newUserID())
	mustPut(t, s, r)
	mustConfirm(t, s, r, 1000)
	var wg sync.WaitGroup
	var wins atomic.Int32
	errs := make(chan error, concurrency)
	for i := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.AdvanceTOTPStep(context.Background(), r.UserID, int64(1001+i%10))
			if err != nil {
				errs <- err
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("AdvanceTOTPStep: %v", err)
	}
	if got := mustGetTOTP(t, s, r.UserID); got.LastStep != 1010 {
		t.Fatalf("LastStep = %d after concurrent advances up to 1010", got.LastStep)
	}
	if n := wins.Load(); n < 1 || n > 10 {
		t.Fatalf("%d advances won over 10 distinct steps", n)
	}
}

func testTOTPConcurrentConfirm(t *testing.T, s mfa.TOTPStore) {
	r := newTOTP(newUserID())
	mustPut(t, s, r)
	wins := race(t, func() (bool, error) {
		err := s.ConfirmTOTP(context.Background(), r.UserID, r.ID, 77, base)
		if errors.Is(err, mfa.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	})
	if wins != 1 {
		t.Fatalf("%d concurrent confirmations won, want exactly 1", wins)
	}
}

func testTOTPCanceled(t *testing.T, s mfa.TOTPStore) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := newTOTP(newUserID())
	if err := s.PutPendingTOTP(ctx, r); err == nil {
		t.Error("PutPendingTOTP with a canceled context succeeded")
	}
	if _, err := s.GetTOTP(ctx, r.UserID); err == nil || errors.Is(err, mfa.ErrNotFound) && !errors.Is(err, context.Canceled) {
		t.Errorf("GetTOTP with a canceled context: %v", err)
	}
	if _, err := s.AdvanceTOTPStep(ctx, r.UserID, 3); err == nil {
		t.Error("AdvanceTOTPStep with a canceled context succeeded")
	}
}

// race runs fn on concurrency goroutines released together and returns how
// many reported a win. Any error fails the test.
func race(t *testing.T, fn func() (bool, error)) int {
	t.Helper()
	var wg sync.WaitGroup
	var wins atomic.Int32
	start := make(chan struct{})
	errs := make(chan error, concurrency)
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ok, err := fn()
			if err != nil {
				errs <- err
				return
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent call failed: %v", err)
	}
	return int(wins.Load())
}

func hashes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = newHash()
	}
	return out
}

func mustCount(t *testing.T, s mfa.BackupCodeStore, userID string, want int) {
	t.Helper()
	n, err := s.CountBackupCodes(context.Background(), userID)
	if err != nil || n != want {
		t.Fatalf("CountBackupCodes = %d, %v; want %d", n, err, want)
	}
}

func testBackupEmpty(t *testing.T, s mfa.BackupCodeStore) {
	u := newUserID()
	mustCount(t, s, u, 0)
	if _, err := s.ConsumeBackupCode(context.Background(), u, newHash()); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("ConsumeBackupCode without codes: %v, want ErrNotFound", err)
	}
}

func testBackupConsumeOnce(t *testing.T, s mfa.BackupCodeStore) {
	ctx := context.Background()
	u, hs := newUserID(), hashes(10)
	if err := s.ReplaceBackupCodes(ctx, u, hs); err != nil {
		t.Fatalf("ReplaceBackupCodes: %v", err)
	}
	mustCount(t, s, u, 10)
	n, err := s.ConsumeBackupCode(ctx, u, hs[3])
	if err != nil || n != 9 {
		t.Fatalf("ConsumeBackupCode = %d, %v; want 9, nil", n, err)
	}
	if _, err := s.ConsumeBackupCode(ctx, u, hs[3]); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("second use of a backup code: %v, want ErrNotFound", err)
	}
	mustCount(t, s, u, 9)
	for i, h := range hs {
		if i == 3 {
			continue
		}
		if _, err := s.ConsumeBackupCode(ctx, u, h); err != nil {
			t.Fatalf("ConsumeBackupCode(%d): %v", i, err)
		}
	}
	mustCount(t, s, u, 0)
}

func testBackupReplace(t *testing.T, s mfa.BackupCodeStore) {
	ctx := context.Background()
	u, old, fresh := newUserID(), hashes(10), hashes(10)
	if err := s.ReplaceBackupCodes(ctx, u, old); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceBackupCodes(ctx, u, fresh); err != nil {
		t.Fatal(err)
	}
	mustCount(t, s, u, 10)
	for _, h := range old {
		if _, err := s.ConsumeBackupCode(ctx, u, h); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("code of the replaced set: %v, want ErrNotFound", err)
		}
	}
	if _, err := s.ConsumeBackupCode(ctx, u, fresh[0]); err != nil {
		t.Fatalf("code of the new set: %v", err)
	}
}

func testBackupReplaceEmpty(t *testing.T, s mfa.BackupCodeStore) {
	ctx := context.Background()
	u, hs := newUserID(), hashes(3)
	if err := s.ReplaceBackupCodes(ctx, u, hs); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceBackupCodes(ctx, u, nil); err != nil {
		t.Fatalf("ReplaceBackupCodes(nil): %v", err)
	}
	mustCount(t, s, u, 0)
	if _, err := s.ConsumeBackupCode(ctx, u, hs[0]); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("code after removal: %v", err)
	}
	if err := s.ReplaceBackupCodes(ctx, newUserID(), nil); err != nil {
		t.Fatalf("removing codes of a user without any: %v", err)
	}
}

func testBackupDuplicates(t *testing.T, s mfa.BackupCodeStore) {
	ctx := context.Background()
	u, h := newUserID(), newHash()
	if err := s.ReplaceBackupCodes(ctx, u, []string{h, h, newHash()}); err != nil {
		t.Fatal(err)
	}
	mustCount(t, s, u, 2)
	if _, err := s.ConsumeBackupCode(ctx, u, h); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumeBackupCode(ctx, u, h); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("duplicated hash used twice: %v", err)
	}
}

func testBackupIsolation(t *testing.T, s mfa.BackupCodeStore) {
	ctx := context.Background()
	a, b, hs := newUserID(), newUserID(), hashes(2)
	if err := s.ReplaceBackupCodes(ctx, a, hs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumeBackupCode(ctx, b, hs[0]); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("another user's code: %v, want ErrNotFound", err)
	}
	mustCount(t, s, a, 2)
	mustCount(t, s, b, 0)
}

func testBackupConcurrentSame(t *testing.T, s mfa.BackupCodeStore) {
	u, hs := newUserID(), hashes(10)
	if err := s.ReplaceBackupCodes(context.Background(), u, hs); err != nil {
		t.Fatal(err)
	}
	wins := race(t, func() (bool, error) {
		n, err := s.ConsumeBackupCode(context.Background(), u, hs[5])
		if errors.Is(err, mfa.ErrNotFound) {
			return false, nil
		}
		if err == nil && n != 9 {
			return false, fmt.Errorf("remaining = %d, want 9", n)
		}
		return err == nil, err
	})
	if wins != 1 {
		t.Fatalf("%d of %d concurrent uses of one backup code won, want exactly 1", wins, concurrency)
	}
	mustCount(t, s, u, 9)
}

func testBackupConcurrentDistinct(t *testing.T, s mfa.BackupCodeStore) {
	u, hs := newUserID(), hashes(concurrency)
	if err := s.ReplaceBackupCodes(context.Background(), u, hs); err != nil {
		t.Fatal(err)
	}
	var next atomic.Int32
	wins := race(t, func() (bool, error) {
		h := hs[next.Add(1)-1]
		_, err := s.ConsumeBackupCode(context.Background(), u, h)
		return err == nil, err
	})
	if wins != concurrency {
		t.Fatalf("%d of %d distinct codes were accepted", wins, concurrency)
	}
	mustCount(t, s, u, 0)
}

func testBackupCanceled(t *testing.T, s mfa.BackupCodeStore) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	u := newUserID()
	if err := s.ReplaceBackupCodes(ctx, u, hashes(2)); err == nil {
		t.Error("ReplaceBackupCodes with a canceled context succeeded")
	}
	if _, err := s.ConsumeBackupCode(ctx, u, newHash()); err == nil || !errors.Is(err, context.Canceled) && errors.Is(err, mfa.ErrNotFound) {
		t.Errorf("ConsumeBackupCode with a canceled context: %v", err)
	}
}

func newChallenge(now time.Time) mfa.ChallengeRecord {
	return mfa.ChallengeRecord{
		TokenHash: newHash(),
		User: mfa.User{
			ID: newUserID(), Name: "mira", Email: "mira@plant.example", Phone: "+15550100",
			Roles: []string{"supervisor", "operator"}, CreatedAt: base.Add(-time.Hour),
		},
		FirstFactor: "pwd",
		CreatedAt:   now,
		ExpiresAt:   now.Add(5 * time.Minute),
	}
}

func equalChallenge(a, b mfa.ChallengeRecord) bool {
	return a.TokenHash == b.TokenHash && a.User.ID == b.User.ID && a.User.Name == b.User.Name &&
		a.User.Email == b.User.Email && a.User.Phone == b.User.Phone && slices.Equal(a.User.Roles, b.User.Roles) &&
		sameTime(a.User.CreatedAt, b.User.CreatedAt) && a.FirstFactor == b.FirstFactor &&
		sameTime(a.CreatedAt, b.CreatedAt) && sameTime(a.ExpiresAt, b.ExpiresAt)
}

func mustCreate(t *testing.T, s mfa.ChallengeStore, c mfa.ChallengeRecord) {
	t.Helper()
	if err := s.CreateChallenge(context.Background(), c); err != nil {
		t.Fatalf("CreateChallenge: %v", err)
	}
}

func testChallengeRoundTrip(t *testing.T, s mfa.ChallengeStore) {
	c := newChallenge(base)
	mustCreate(t, s, c)
	got, err := s.GetChallenge(context.Background(), c.TokenHash, base.Add(time.Minute))
	if err != nil || !equalChallenge(got, c) {
		t.Fatalf("GetChallenge = %+v, %v; want %+v", got, err, c)
	}
	got.User.Roles[0] = "admin"
	again, _ := s.GetChallenge(context.Background(), c.TokenHash, base)
	if again.User.Roles[0] != "supervisor" {
		t.Fatal("changing a returned challenge changed the stored one")
	}
}

func testChallengeMissing(t *testing.T, s mfa.ChallengeStore) {
	ctx := context.Background()
	if _, err := s.GetChallenge(ctx, newHash(), base); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("GetChallenge of a missing hash: %v", err)
	}
	if _, err := s.ConsumeChallenge(ctx, newHash(), base); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("ConsumeChallenge of a missing hash: %v", err)
	}
}

func testChallengeDuplicate(t *testing.T, s mfa.ChallengeStore) {
	c := newChallenge(base)
	mustCreate(t, s, c)
	other := newChallenge(base)
	other.TokenHash = c.TokenHash
	if err := s.CreateChallenge(context.Background(), other); !errors.Is(err, mfa.ErrExists) {
		t.Fatalf("duplicate CreateChallenge: %v, want ErrExists", err)
	}
	if got, _ := s.GetChallenge(context.Background(), c.TokenHash, base); got.User.ID != c.User.ID {
		t.Fatal("duplicate CreateChallenge replaced the first challenge")
	}
}

func testChallengeConsume(t *testing.T, s mfa.ChallengeStore) {
	ctx := context.Background()
	c := newChallenge(base)
	mustCreate(t, s, c)
	got, err := s.ConsumeChallenge(ctx, c.TokenHash, base.Add(4*time.Minute))
	if err != nil || !equalChallenge(got, c) {
		t.Fatalf("ConsumeChallenge = %+v, %v", got, err)
	}
	if _, err := s.ConsumeChallenge(ctx, c.TokenHash, base.Add(4*time.Minute)); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("second ConsumeChallenge: %v, want ErrNotFound", err)
	}
	if _, err := s.GetChallenge(ctx, c.TokenHash, base.Add(4*time.Minute)); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("GetChallenge after consume: %v, want ErrNotFound", err)
	}
}

func testChallengeExpired(t *testing.T, s mfa.ChallengeStore) {
	ctx := context.Background()
	c := newChallenge(base)
	mustCreate(t, s, c)
	if _, err := s.GetChallenge(ctx, c.TokenHash, c.ExpiresAt); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("GetChallenge at ExpiresAt: %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeChallenge(ctx, c.TokenHash, c.ExpiresAt.Add(time.Second)); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("ConsumeChallenge after ExpiresAt: %v, want ErrNotFound", err)
	}
	d := newChallenge(base)
	mustCreate(t, s, d)
	if _, err := s.ConsumeChallenge(ctx, d.TokenHash, d.ExpiresAt.Add(-time.Microsecond)); err != nil {
		t.Fatalf("ConsumeChallenge just before expiry: %v", err)
	}
}

func testChallengeConcurrentConsume(t *testing.T, s mfa.ChallengeStore) {
	c := newChallenge(base)
	mustCreate(t, s, c)
	wins := race(t, func() (bool, error) {
		_, err := s.ConsumeChallenge(context.Background(), c.TokenHash, base.Add(time.Second))
		if errors.Is(err, mfa.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	})
	if wins != 1 {
		t.Fatalf("%d of %d concurrent consumptions won, want exactly 1", wins, concurrency)
	}
}

func newSent(userID string, now time.Time) mfa.SentCode {
	return mfa.SentCode{
		UserID:       userID,
		Hash:         newHash(),
		Channel:      mfa.MethodEmail,
		SentAt:       now,
		ExpiresAt:    now.Add(5 * time.Minute),
		ResendAt:     now.Add(time.Minute),
		AttemptsLeft: 3,
	}
}

func mustPutSent(t *testing.T, s mfa.ChallengeStore, c mfa.SentCode) {
	t.Helper()
	if _, err := s.PutSentCode(context.Background(), c); err != nil {
		t.Fatalf("PutSentCode: %v", err)
	}
}

func testSentCodeOnce(t *testing.T, s mfa.ChallengeStore) {
	ctx := context.Background()
	c := newSent(newUserID(), base)
	c.Channel = mfa.MethodSMS
	mustPutSent(t, s, c)
	ch, err := s.UseSentCode(ctx, c.UserID, c.Hash, base.Add(time.Minute))
	if err != nil || ch != mfa.MethodSMS {
		t.Fatalf("UseSentCode = %q, %v; want sms, nil", ch, err)
	}
	if _, err := s.UseSentCode(ctx, c.UserID, c.Hash, base.Add(time.Minute)); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("second UseSentCode: %v, want ErrNotFound", err)
	}
}

func testSentCodeAttempts(t *testing.T, s mfa.ChallengeStore) {
	ctx := context.Background()
	c := newSent(newUserID(), base)
	mustPutSent(t, s, c)
	now := base.Add(time.Second)
	for i := range 2 {
		if _, err := s.UseSentCode(ctx, c.UserID, newHash(), now); !errors.Is(err, mfa.ErrCodeMismatch) {
			t.Fatalf("wrong guess %d: %v, want ErrCodeMismatch", i+1, err)
		}
	}
	if _, err := s.UseSentCode(ctx, c.UserID, c.Hash, now); err != nil {
		t.Fatalf("right code after 2 of 3 wrong guesses: %v", err)
	}

	d := newSent(newUserID(), base)
	mustPutSent(t, s, d)
	for range 3 {
		if _, err := s.UseSentCode(ctx, d.UserID, newHash(), now); !errors.Is(err, mfa.ErrCodeMismatch) {
			t.Fatalf("wrong guess: %v, want ErrCodeMismatch", err)
		}
	}
	if _, err := s.UseSentCode(ctx, d.UserID, d.Hash, now); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("right code after the attempts ran out: %v, want ErrNotFound", err)
	}
}

func testSentCodeExpired(t *testing.T, s mfa.ChallengeStore) {
	c := newSent(newUserID(), base)
	mustPutSent(t, s, c)
	if _, err := s.UseSentCode(context.Background(), c.UserID, c.Hash, c.ExpiresAt); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("UseSentCode at ExpiresAt: %v, want ErrNotFound", err)
	}
}

func testSentCodeThrottle(t *testing.T, s mfa.ChallengeStore) {
	ctx := context.Background()
	c := newSent(newUserID(), base)
	mustPutSent(t, s, c)
	again := newSent(c.UserID, base.Add(30*time.Second))
	at, err := s.PutSentCode(ctx, again)
	if !errors.Is(err, mfa.ErrThrottled) || !sameTime(at, c.ResendAt) {
		t.Fatalf("resend after 30s = %v, %v; want %v, ErrThrottled", at, err, c.ResendAt)
	}
	if _, err := s.UseSentCode(ctx, c.UserID, again.Hash, base.Add(40*time.Second)); !errors.Is(err, mfa.ErrCodeMismatch) {
		t.Fatalf("the throttled code works: %v", err)
	}
	if _, err := s.UseSentCode(ctx, c.UserID, c.Hash, base.Add(40*time.Second)); err != nil {
		t.Fatalf("the first code stopped working after a throttled resend: %v", err)
	}
}

func testSentCodeReplace(t *testing.T, s mfa.ChallengeStore) {
	ctx := context.Background()
	c := newSent(newUserID(), base)
	mustPutSent(t, s, c)
	next := newSent(c.UserID, c.ResendAt)
	mustPutSent(t, s, next)
	now := c.ResendAt.Add(time.Second)
	if _, err := s.UseSentCode(ctx, c.UserID, c.Hash, now); !errors.Is(err, mfa.ErrCodeMismatch) {
		t.Fatalf("replaced code: %v, want ErrCodeMismatch", err)
	}
	if _, err := s.UseSentCode(ctx, c.UserID, next.Hash, now); err != nil {
		t.Fatalf("new code: %v", err)
	}
}

func testSentCodeUsedThrottles(t *testing.T, s mfa.ChallengeStore) {
	ctx := context.Background()
	c := newSent(newUserID(), base)
	mustPutSent(t, s, c)
	if _, err := s.UseSentCode(ctx, c.UserID, c.Hash, base.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutSentCode(ctx, newSent(c.UserID, base.Add(2*time.Second))); !errors.Is(err, mfa.ErrThrottled) {
		t.Fatalf("resend right after a used code: %v, want ErrThrottled", err)
	}
}

func testSentCodeIsolation(t *testing.T, s mfa.ChallengeStore) {
	ctx := context.Background()
	a, b := newSent(newUserID(), base), newSent(newUserID(), base)
	mustPutSent(t, s, a)
	mustPutSent(t, s, b)
	if _, err := s.UseSentCode(ctx, b.UserID, a.Hash, base); !errors.Is(err, mfa.ErrCodeMismatch) {
		t.Fatalf("another user's code: %v, want ErrCodeMismatch", err)
	}
	if _, err := s.UseSentCode(ctx, a.UserID, a.Hash, base); err != nil {
		t.Fatalf("own code: %v", err)
	}
	if _, err := s.UseSentCode(ctx, newUserID(), a.Hash, base); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("user without a code: %v, want ErrNotFound", err)
	}
}

func testSentCodeConcurrent(t *testing.T, s mfa.ChallengeStore) {
	c := newSent(newUserID(), base)
	mustPutSent(t, s, c)
	wins := race(t, func() (bool, error) {
		_, err := s.UseSentCode(context.Background(), c.UserID, c.Hash, base.Add(time.Second))
		if errors.Is(err, mfa.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	})
	if wins != 1 {
		t.Fatalf("%d of %d concurrent uses of one sent code won, want exactly 1", wins, concurrency)
	}
}

func testSentCodeConcurrentGuesses(t *testing.T, s mfa.ChallengeStore) {
	c := newSent(newUserID(), base)
	c.AttemptsLeft = 5
	mustPutSent(t, s, c)
	var mismatches atomic.Int32
	race(t, func() (bool, error) {
		_, err := s.UseSentCode(context.Background(), c.UserID, newHash(), base.Add(time.Second))
		switch {
		case errors.Is(err, mfa.ErrCodeMismatch):
			mismatches.Add(1)
			return false, nil
		case errors.Is(err, mfa.ErrNotFound):
			return false, nil
		}
		return false, err
	})
	if n := mismatches.Load(); n != 5 {
		t.Fatalf("%d guesses were checked with 5 attempts", n)
	}
	if _, err := s.UseSentCode(context.Background(), c.UserID, c.Hash, base.Add(time.Second)); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("right code after the attempts ran out: %v, want ErrNotFound", err)
	}
}

func testChallengeCanceled(t *testing.T, s mfa.ChallengeStore) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.CreateChallenge(ctx, newChallenge(base)); err == nil {
		t.Error("CreateChallenge with a canceled context succeeded")
	}
	if _, err := s.PutSentCode(ctx, newSent(newUserID(), base)); err == nil {
		t.Error("PutSentCode with a canceled context succeeded")
	}
	if _, err := s.ConsumeChallenge(ctx, newHash(), base); err == nil || !errors.Is(err, context.Canceled) && errors.Is(err, mfa.ErrNotFound) {
		t.Errorf("ConsumeChallenge with a canceled context: %v", err)
	}
}
