package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/mfa"
	"github.com/gatehouse-auth/gatehouse/mfa/mfatest"
	"github.com/gatehouse-auth/gatehouse/store/sqlite"
)

func TestMFAStoreConformance(t *testing.T) {
	mfatest.Run(t, func(t *testing.T) mfa.Store {
		return newDB(t).MFA()
	})
}

// TestMFACodeUsedOnceAcrossProcesses races one TOTP step and one backup
// code through two handles on the same file, as two processes would: each
// is accepted exactly once, whichever handle asks.
func TestMFACodeUsedOnceAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	stores := make([]*sqlite.MFAStore, 2)
	for i := range stores {
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		stores[i] = db.MFA()
	}
	s := stores[0]
	rec := mfa.TOTPRecord{UserID: "mira", ID: "e-1", Secret: "sealed", Algorithm: "SHA1", Digits: 6, Period: 30, CreatedAt: time.Now()}
	if err := s.PutPendingTOTP(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmTOTP(ctx, rec.UserID, rec.ID, 100, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceBackupCodes(ctx, rec.UserID, []string{"h1", "h2", "h3"}); err != nil {
		t.Fatal(err)
	}

	const n = 20
	var steps, codes atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		s := stores[i%2]
		wg.Go(func() {
			ok, err := s.AdvanceTOTPStep(ctx, rec.UserID, 101)
			if err != nil {
				errs <- err
			}
			if ok {
				steps.Add(1)
			}
		})
		wg.Go(func() {
			left, err := s.ConsumeBackupCode(ctx, rec.UserID, "h2")
			switch {
			case errors.Is(err, mfa.ErrNotFound):
			case err != nil:
				errs <- err
			case left != 2:
				errs <- errors.New("a winning use did not leave 2 codes")
			default:
				codes.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if steps.Load() != 1 || codes.Load() != 1 {
		t.Fatalf("TOTP step accepted %d times, backup code %d times; want once each", steps.Load(), codes.Load())
	}
	if c, err := stores[1].CountBackupCodes(ctx, rec.UserID); err != nil || c != 2 {
		t.Fatalf("CountBackupCodes = %d, %v; want 2", c, err)
	}
}

func TestMFADeleteExpired(t *testing.T) {
	ctx := context.Background()
	s := newDB(t).MFA()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, ttl := range []time.Duration{time.Minute, time.Hour} {
		c := mfa.ChallengeRecord{TokenHash: string(rune('a' + i)), User: mfa.User{ID: "u"}, FirstFactor: "pwd", CreatedAt: now, ExpiresAt: now.Add(ttl)}
		if err := s.CreateChallenge(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// Expired, but still throttling resends until its ResendAt: kept.
	throttling := mfa.SentCode{UserID: "u1", Hash: "x", Channel: mfa.MethodEmail, SentAt: now, ExpiresAt: now.Add(time.Minute), ResendAt: now.Add(time.Hour), AttemptsLeft: 3}
	// Expired and past its ResendAt: deleted.
	done := mfa.SentCode{UserID: "u2", Hash: "y", Channel: mfa.MethodSMS, SentAt: now, ExpiresAt: now.Add(time.Minute), ResendAt: now.Add(time.Minute), AttemptsLeft: 3}
	for _, c := range []mfa.SentCode{throttling, done} {
		if _, err := s.PutSentCode(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	later := now.Add(time.Minute)
	if n, err := s.DeleteExpired(ctx, later); err != nil || n != 2 {
		t.Fatalf("DeleteExpired = %d, %v; want 2", n, err)
	}
	if _, err := s.GetChallenge(ctx, "b", later); err != nil {
		t.Fatalf("live challenge deleted: %v", err)
	}
	// The kept code still throttles.
	if _, err := s.PutSentCode(ctx, mfa.SentCode{UserID: "u1", Hash: "z", SentAt: later, ExpiresAt: later.Add(time.Minute), ResendAt: later, AttemptsLeft: 3}); !errors.Is(err, mfa.ErrThrottled) {
		t.Fatalf("resend over the kept code: %v, want ErrThrottled", err)
	}
}
