package mfa_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/mfa"
)

func TestNewValidatesConfig(t *testing.T) {
	kr := newKeyring(t)
	tests := []struct {
		name string
		cfg  mfa.Config
	}{
		{"no keyring", mfa.Config{}},
		{"issuer with a colon", mfa.Config{Keyring: kr, Issuer: "Steel:Plant"}},
		{"issuer with a newline", mfa.Config{Keyring: kr, Issuer: "Steel\nPlant"}},
		{"MD5", mfa.Config{Keyring: kr, Algorithm: "MD5"}},
		{"seven digits", mfa.Config{Keyring: kr, Digits: 7}},
		{"four digits", mfa.Config{Keyring: kr, Digits: 4}},
		{"a 10 s period", mfa.Config{Keyring: kr, Period: 10 * time.Second}},
		{"a fractional period", mfa.Config{Keyring: kr, Period: 30*time.Second + time.Millisecond}},
		{"an 80-bit secret", mfa.Config{Keyring: kr, SecretSize: 10}},
		{"a tiny QR code", mfa.Config{Keyring: kr, QRSize: 10}},
		{"a thousand backup codes", mfa.Config{Keyring: kr, BackupCodes: 1000}},
		{"a day-long challenge", mfa.Config{Keyring: kr, ChallengeTTL: 24 * time.Hour}},
		{"a negative sent-code lifetime", mfa.Config{Keyring: kr, SentCodeTTL: -time.Minute}},
		{"a hundred guesses per sent code", mfa.Config{Keyring: kr, SentCodeAttempts: 100}},
		{"resends every millisecond", mfa.Config{Keyring: kr, ResendInterval: time.Millisecond}},
		{"a negative grace period", mfa.Config{Keyring: kr, Policy: mfa.Policy{GracePeriod: -time.Hour}}},
		{"an unknown method", mfa.Config{Keyring: kr, Policy: mfa.Policy{Methods: []mfa.Method{"carrier_pigeon"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := mfa.New(tt.cfg); !errors.Is(err, mfa.ErrInvalidConfig) {
				t.Fatalf("New = %v, want ErrInvalidConfig", err)
			}
		})
	}
	if _, err := mfa.New(mfa.Config{Keyring: kr}); err != nil {
		t.Fatalf("New with only a keyring: %v", err)
	}
}

func TestSetupReturnsURLAndQRCode(t *testing.T) {
	e := newEnv(t, nil)
	en, err := e.m.Setup(context.Background(), mira)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(en.URL)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Steel Plant:mira" {
		t.Fatalf("otpauth URL %q", en.URL)
	}
	q := u.Query()
	if q.Get("issuer") != "Steel Plant" || q.Get("secret") != en.Secret || q.Get("algorithm") != "SHA1" ||
		q.Get("digits") != "6" || q.Get("period") != "30" {
		t.Fatalf("otpauth parameters %v", q)
	}
	raw, err := base32NoPad(en.Secret)
	if err != nil || len(raw) != 20 {
		t.Fatalf("secret %q decodes to %d bytes (%v), want 20", en.Secret, len(raw), err)
	}

	img, err := png.Decode(bytes.NewReader(en.QRCodePNG))
	if err != nil {
		t.Fatalf("QR code is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 256 {
		t.Fatalf("QR code is %v, want 256x256", b)
	}
	b64, ok := strings.CutPrefix(en.QRCodeDataURL, "data:image/png;base64,")
	if !ok {
		t.Fatalf("data URL %.40q...", en.QRCodeDataURL)
	}
	if dec, err := base64.StdEncoding.DecodeString(b64); err != nil || !bytes.Equal(dec, en.QRCodePNG) {
		t.Fatal("data URL does not hold the PNG")
	}

	if len(en.BackupCodes) != 10 {
		t.Fatalf("%d backup codes, want 10", len(en.BackupCodes))
	}
	for _, s := range []string{en.String(), fmt.Sprintf("%#v", *en), fmt.Sprintf("%v", *en)} {
		if strings.Contains(s, en.Secret) || strings.Contains(s, en.BackupCodes[0]) {
			t.Fatalf("formatting an Enrollment leaks a secret: %s", s)
		}
	}

	rec, err := e.store.GetTOTP(context.Background(), mira.ID)
	if err != nil || rec.Confirmed() {
		t.Fatalf("stored enrolment %+v, %v; want pending", rec, err)
	}
	if strings.Contains(rec.Secret, en.Secret) || bytes.Contains([]byte(rec.Secret), raw) {
		t.Fatal("the store holds the secret in the clear")
	}
	if _, err := e.kr.Decrypt(rec.Secret, []byte("u-someone-else")); !errors.Is(err, auth.ErrKeyringCiphertext) {
		t.Fatalf("sealed secret opens for another user: %v", err)
	}
	for _, h := range rec.PendingBackupCodes {
		for _, c := range en.BackupCodes {
			if strings.Contains(h, strings.ReplaceAll(c, "-", "")) {
				t.Fatal("the store holds a backup code in the clear")
			}
		}
	}

	st, err := e.m.Status(context.Background(), mira.ID)
	if err != nil || !st.Pending || st.Enabled || st.BackupCodesRemaining != 0 {
		t.Fatalf("Status after Setup = %+v, %v; want pending without active backup codes", st, err)
	}
	d, err := e.m.Decide(context.Background(), mfa.User{ID: mira.ID})
	if err != nil || d.Challenge || d.Enabled {
		t.Fatalf("Decide for a pending enrolment = %+v, %v; want no challenge", d, err)
	}
	if _, err := e.m.Verify(context.Background(), mira.ID, en.BackupCodes[0]); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("backup code before Confirm: %v, want invalid_credentials", err)
	}
}

func TestSetupWithStrongerParameters(t *testing.T) {
	e := newEnv(t, func(c *mfa.Config) { c.Algorithm, c.Digits, c.Period, c.SecretSize = "SHA512", 8, 60*time.Second, 64 })
	user := e.enroll(t, mira)
	if user.params.Digits.Length() != 8 || user.params.Period != 60 || user.params.Algorithm.String() != "SHA512" {
		t.Fatalf("URL parameters %+v", user.params)
	}
	e.clock.Advance(30 * time.Second) // the enrol step was 60 s long
	res, err := e.m.Verify(context.Background(), mira.ID, user.code(t, e.clock.Now()))
	if err != nil || res.Method != mfa.MethodTOTP {
		t.Fatalf("Verify = %+v, %v", res, err)
	}
}

func TestConfirm(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	en, err := e.m.Setup(ctx, mira)
	if err != nil {
		t.Fatal(err)
	}
	user := enrolled{secret: en.Secret, params: paramsOf(t, en.URL)}
	now := e.clock.Now()

	err = e.m.Confirm(ctx, mira, user.code(t, now.Add(-2*time.Minute)))
	wantAuthError(t, err, auth.CodeInvalidCredentials, mfa.ErrInvalidCode)
	if st, _ := e.m.Status(ctx, mira.ID); st.Enabled {
		t.Fatal("a wrong code turned TOTP on")
	}
	if e.events.count(auth.EventMFAFailed) != 1 {
		t.Fatal("no mfa_failed for a wrong confirmation code")
	}

	e.clock.Advance(2 * time.Second) // past the limiter's delay
	code := user.code(t, e.clock.Now())
	if err := e.m.Confirm(ctx, mira, code); err != nil {
		t.Fatalf("Confirm: %v", err)
	}
	st, _ := e.m.Status(ctx, mira.ID)
	if !st.Enabled || st.Pending || st.BackupCodesRemaining != 10 || !st.EnabledAt.Equal(e.clock.Now()) {
		t.Fatalf("Status after Confirm = %+v", st)
	}
	if ev, ok := e.events.last(auth.EventMFAEnabled); !ok || ev.Subject != mira.ID || ev.Username != "mira" {
		t.Fatalf("mfa_enabled event = %+v, %v", ev, ok)
	}

	// The code that confirmed cannot log in.
	_, err = e.m.Verify(ctx, mira.ID, code)
	wantAuthError(t, err, auth.CodeInvalidCredentials, mfa.ErrReplayedCode)
	// Nor can it confirm again.
	wantAuthError(t, e.m.Confirm(ctx, mira, code), auth.CodeConflict, mfa.ErrNoPendingEnrollment)
	// Nor can TOTP be set up over the enabled one.
	_, err = e.m.Setup(ctx, mira)
	wantAuthError(t, err, auth.CodeConflict, mfa.ErrEnabled)
	// Backup codes shown at Setup now work.
	e.clock.Advance(2 * time.Second)
	if res, err := e.m.Verify(ctx, mira.ID, en.BackupCodes[0]); err != nil || res.BackupCodesRemaining != 9 {
		t.Fatalf("backup code after Confirm = %+v, %v", res, err)
	}
}

func TestConfirmWithTheReplacedSecretFails(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	first, err := e.m.Setup(ctx, mira)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.m.Setup(ctx, mira)
	if err != nil {
		t.Fatal(err)
	}
	old := enrolled{secret: first.Secret, params: paramsOf(t, first.URL)}
	err = e.m.Confirm(ctx, mira, old.code(t, e.clock.Now()))
	wantAuthError(t, err, auth.CodeInvalidCredentials, mfa.ErrInvalidCode)
	e.clock.Advance(2 * time.Second)
	cur := enrolled{secret: second.Secret, params: paramsOf(t, second.URL)}
	if err := e.m.Confirm(ctx, mira, cur.code(t, e.clock.Now())); err != nil {
		t.Fatalf("Confirm with the current secret: %v", err)
	}
	if _, err := e.m.Verify(ctx, mira.ID, first.BackupCodes[0]); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("backup code of the replaced Setup: %v, want invalid_credentials", err)
	}
}

func TestConfirmWithoutSetup(t *testing.T) {
	e := newEnv(t, nil)
	wantAuthError(t, e.m.Confirm(context.Background(), mira, "123456"), auth.CodeConflict, mfa.ErrNoPendingEnrollment)
}

// TOTP replay and skew with an injected clock (RFC 6238 §5.2).
func TestVerifyReplayAndSkew(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	user := e.enroll(t, mira)
	t0 := e.clock.Now() // 10 s into a fresh step

	// t0 is 10 s into step S: S+1 starts at t0+20s, S+2 at t0+50s, S+3 at
	// t0+80s. The failures in a row stay under the limiter's lock and
	// within its delays.
	sec := time.Second
	tests := []struct {
		name   string
		at     time.Duration // the clock, relative to t0
		codeAt time.Duration // the code's time, relative to t0
		ok     bool
		cause  error
	}{
		{"current code", 0, 0, true, nil},
		{"the same code again", 2 * sec, 0, false, mfa.ErrReplayedCode},
		{"the previous step after the current one was used", 4 * sec, -30 * sec, false, mfa.ErrReplayedCode},
		{"the next step, one step of skew ahead", 6 * sec, 30 * sec, true, nil},
		{"the current step after the next one was used", 8 * sec, 0, false, mfa.ErrReplayedCode},
		{"two steps ahead", 12 * sec, 60 * sec, false, mfa.ErrInvalidCode},
		{"one step behind, later (S+2 at S+3)", 85 * sec, 50 * sec, true, nil},
		{"the step just used, again", 90 * sec, 50 * sec, false, mfa.ErrReplayedCode},
		{"two steps behind", 95 * sec, 20 * sec, false, mfa.ErrInvalidCode},
		{"a code an hour old", 100 * sec, -time.Hour, false, mfa.ErrInvalidCode},
		{"the current code once the clock moved on", 106 * sec, 106 * sec, true, nil},
	}
	for _, tt := range tests {
		e.clock.Advance(t0.Add(tt.at).Sub(e.clock.Now()))
		code := user.code(t, t0.Add(tt.codeAt))
		res, err := e.m.Verify(ctx, mira.ID, code, "pwd")
		if tt.ok {
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if res.Method != mfa.MethodTOTP || !res.MFA.Verified || !res.MFA.VerifiedAt.Equal(e.clock.Now()) ||
				!slices.Equal(res.MFA.Methods, []string{"pwd", "otp", "mfa"}) || res.UserID != mira.ID {
				t.Fatalf("%s: result %+v", tt.name, res)
			}
			continue
		}
		if err == nil {
			t.Fatalf("%s: accepted", tt.name)
		}
		var ae *auth.Error
		if !errors.As(err, &ae) || ae.Code != auth.CodeInvalidCredentials || !errors.Is(err, tt.cause) {
			t.Fatalf("%s: %v, want invalid_credentials caused by %v", tt.name, err, tt.cause)
		}
	}
	if ev, ok := e.events.last(auth.EventMFAFailed); !ok || ev.Subject != mira.ID || ev.Attrs["factor"] != "totp" {
		t.Fatalf("mfa_failed event %+v", ev)
	}
}

func TestReplayAcrossManagersSharingAStore(t *testing.T) {
	ctx := context.Background()
	a := newEnv(t, nil)
	user := a.enroll(t, mira)
	b, err := mfa.New(mfa.Config{Keyring: a.kr, Store: a.store, Now: a.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	code := user.code(t, a.clock.Now())
	if _, err := a.m.Verify(ctx, mira.ID, code); err != nil {
		t.Fatalf("first instance: %v", err)
	}
	_, err = b.Verify(ctx, mira.ID, code)
	wantAuthError(t, err, auth.CodeInvalidCredentials, mfa.ErrReplayedCode)
}

func TestConcurrentUseOfOneTOTPCode(t *testing.T) {
	e := newEnv(t, nil)
	user := e.enroll(t, mira)
	m, err := mfa.New(mfa.Config{Keyring: e.kr, Store: e.store, Now: e.clock.Now, Attempts: lenientAttempts(t, e.clock.Now)})
	if err != nil {
		t.Fatal(err)
	}
	code := user.code(t, e.clock.Now())
	var wins, replays atomic.Int32
	var wg sync.WaitGroup
	startGate := make(chan struct{})
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-startGate
			_, err := m.Verify(context.Background(), mira.ID, code)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, mfa.ErrReplayedCode):
				replays.Add(1)
			default:
				t.Errorf("Verify: %v", err)
			}
		}()
	}
	close(startGate)
	wg.Wait()
	if wins.Load() != 1 || replays.Load() != 49 {
		t.Fatalf("%d wins and %d replays of one code over 50 requests, want 1 and 49", wins.Load(), replays.Load())
	}
}

func TestConcurrentUseOfOneBackupCode(t *testing.T) {
	e := newEnv(t, nil)
	user := e.enroll(t, mira)
	m, err := mfa.New(mfa.Config{Keyring: e.kr, Store: e.store, Now: e.clock.Now, Attempts: lenientAttempts(t, e.clock.Now)})
	if err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	startGate := make(chan struct{})
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-startGate
			res, err := m.Verify(context.Background(), mira.ID, user.backup[3])
			switch {
			case err == nil:
				wins.Add(1)
				if res.BackupCodesRemaining != 9 {
					t.Errorf("remaining = %d, want 9", res.BackupCodesRemaining)
				}
			case !errors.Is(err, mfa.ErrInvalidCode):
				t.Errorf("Verify: %v", err)
			}
		}()
	}
	close(startGate)
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d of 50 concurrent uses of one backup code won, want 1", wins.Load())
	}
}

func TestBackupCodes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	user := e.enroll(t, mira)

	typed := strings.ToLower(strings.ReplaceAll(user.backup[0], "-", " "))
	res, err := e.m.Verify(ctx, mira.ID, typed, "pwd")
	if err != nil || res.Method != mfa.MethodBackupCode || res.BackupCodesRemaining != 9 ||
		!slices.Equal(res.MFA.Methods, []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("Verify(backup code typed as %q) = %+v, %v", typed, res, err)
	}
	if ev, ok := e.events.last(auth.EventBackupCodeUsed); !ok || ev.Attrs["remaining"] != "9" || ev.Subject != mira.ID {
		t.Fatalf("backup_code_used event %+v, %v", ev, ok)
	}
	_, err = e.m.Verify(ctx, mira.ID, user.backup[0])
	wantAuthError(t, err, auth.CodeInvalidCredentials, mfa.ErrInvalidCode)

	e.clock.Advance(5 * time.Second)
	fresh, err := e.m.RegenerateBackupCodes(ctx, mira)
	if err != nil || len(fresh) != 10 {
		t.Fatalf("RegenerateBackupCodes = %d codes, %v", len(fresh), err)
	}
	_, err = e.m.Verify(ctx, mira.ID, user.backup[1])
	wantAuthError(t, err, auth.CodeInvalidCredentials, mfa.ErrInvalidCode)
	e.clock.Advance(5 * time.Second)
	if res, err := e.m.Verify(ctx, mira.ID, fresh[9]); err != nil || res.BackupCodesRemaining != 9 {
		t.Fatalf("regenerated code = %+v, %v", res, err)
	}
	if st, _ := e.m.Status(ctx, mira.ID); st.BackupCodesRemaining != 9 {
		t.Fatalf("remaining = %d, want 9", st.BackupCodesRemaining)
	}

	other := newEnv(t, nil)
	_, err = other.m.RegenerateBackupCodes(ctx, mira)
	wantAuthError(t, err, auth.CodeConflict, mfa.ErrNotEnabled)
}

func TestBackupCodesNotAllowedByPolicy(t *testing.T) {
	e := newEnv(t, func(c *mfa.Config) { c.Policy.Methods = []mfa.Method{mfa.MethodTOTP} })
	user := e.enroll(t, mira)
	_, err := e.m.Verify(context.Background(), mira.ID, user.backup[0])
	wantAuthError(t, err, auth.CodeInvalidCredentials, mfa.ErrInvalidCode)
	d, _ := e.m.Decide(context.Background(), mira)
	if !slices.Equal(d.Methods, []mfa.Method{mfa.MethodTOTP}) {
		t.Fatalf("methods %v", d.Methods)
	}
}

func TestAttemptsLockTheSecondFactor(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	user := e.enroll(t, mira)

	wrong := "000000"
	if user.code(t, e.clock.Now()) == wrong {
		wrong = "000001"
	}
	for i := 1; i <= 4; i++ {
		_, err := e.m.Verify(ctx, mira.ID, wrong)
		wantAuthError(t, err, auth.CodeInvalidCredentials, mfa.ErrInvalidCode)
		// Right away, even the right code is only told to wait.
		_, err = e.m.Verify(ctx, mira.ID, user.backup[0])
		ae := wantAuthError(t, err, auth.CodeRateLimited, mfa.ErrLocked)
		if ae.RetryAfter <= 0 {
			t.Fatalf("attempt %d: no RetryAfter", i)
		}
		e.clock.Advance(ae.RetryAfter)
	}
	_, err := e.m.Verify(ctx, mira.ID, wrong)
	ae := wantAuthError(t, err, auth.CodeAccountLocked, mfa.ErrLocked)
	if ae.RetryAfter != 15*time.Minute {
		t.Fatalf("RetryAfter = %v, want the lockout", ae.RetryAfter)
	}
	if e.events.count(auth.EventMFAFailed) != 9 || e.events.count(auth.EventAccountLocked) != 1 {
		t.Fatalf("%d mfa_failed and %d account_locked events", e.events.count(auth.EventMFAFailed), e.events.count(auth.EventAccountLocked))
	}

	// While locked the right code gets the same answer and is not spent.
	e.clock.Advance(time.Minute)
	_, err = e.m.Verify(ctx, mira.ID, user.backup[0])
	wantAuthError(t, err, auth.CodeAccountLocked, mfa.ErrLocked)
	if st, _ := e.m.Status(ctx, mira.ID); !st.Locked || st.BackupCodesRemaining != 10 {
		t.Fatalf("Status while locked = %+v", st)
	}
	_, err = e.m.SendCode(ctx, mira, mfa.MethodEmail)
	if err == nil {
		t.Fatal("a code was sent while locked")
	}

	e.clock.Advance(15 * time.Minute)
	if res, err := e.m.Verify(ctx, mira.ID, user.backup[0]); err != nil || res.BackupCodesRemaining != 9 {
		t.Fatalf("after the lock: %+v, %v", res, err)
	}
}

func TestUnlock(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	user := e.enroll(t, mira)
	for range 5 {
		_, _ = e.m.Verify(ctx, mira.ID, "not a code")
		e.clock.Advance(31 * time.Second)
	}
	if st, _ := e.m.Status(ctx, mira.ID); !st.Locked {
		t.Fatal("five malformed codes did not lock")
	}
	if err := e.m.Unlock(ctx, mira.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Verify(ctx, mira.ID, user.backup[0]); err != nil {
		t.Fatalf("after Unlock: %v", err)
	}
	if e.events.count(auth.EventAccountUnlocked) != 1 {
		t.Fatal("no account_unlocked event")
	}
}

func TestSentCodes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *mfa.Config) {
		c.Policy.Methods = []mfa.Method{mfa.MethodTOTP, mfa.MethodEmail, mfa.MethodSMS}
	})
	info, err := e.m.SendCode(ctx, mira, mfa.MethodSMS)
	if err != nil {
		t.Fatal(err)
	}
	if !info.ExpiresAt.Equal(start.Add(5*time.Minute)) || !info.ResendAt.Equal(start.Add(time.Minute)) {
		t.Fatalf("SentInfo %+v", info)
	}
	code := e.sender.lastCode(t)
	if len(code) != 6 || e.sender.msgs[0].user.Phone != mira.Phone || e.sender.msgs[0].channel != mfa.MethodSMS {
		t.Fatalf("sent %+v", e.sender.msgs[0])
	}

	// A resend inside the interval is throttled; the first code keeps working.
	e.clock.Advance(20 * time.Second)
	_, err = e.m.SendCode(ctx, mira, mfa.MethodEmail)
	if ae := wantAuthError(t, err, auth.CodeRateLimited, mfa.ErrThrottled); ae.RetryAfter != 40*time.Second {
		t.Fatalf("RetryAfter = %v, want 40s", ae.RetryAfter)
	}
	res, err := e.m.Verify(ctx, mira.ID, code, "pwd")
	if err != nil || res.Method != mfa.MethodSMS || !slices.Equal(res.MFA.Methods, []string{"pwd", "sms", "mfa"}) {
		t.Fatalf("Verify(sent code) = %+v, %v", res, err)
	}
	_, err = e.m.Verify(ctx, mira.ID, code)
	wantAuthError(t, err, auth.CodeInvalidCredentials, mfa.ErrInvalidCode)

	// After the interval a new code goes out; it expires after 5 minutes.
	e.clock.Advance(time.Minute)
	if _, err := e.m.SendCode(ctx, mira, mfa.MethodEmail); err != nil {
		t.Fatal(err)
	}
	late := e.sender.lastCode(t)
	if e.sender.msgs[1].user.Email != mira.Email {
		t.Fatal("email code not sent to the user")
	}
	e.clock.Advance(5 * time.Minute)
	_, err = e.m.Verify(ctx, mira.ID, late)
	wantAuthError(t, err, auth.CodeInvalidCredentials, mfa.ErrInvalidCode)
	if e.events.count(auth.EventMFAChallenge) != 2 {
		t.Fatalf("%d mfa_challenge events for 2 codes sent", e.events.count(auth.EventMFAChallenge))
	}
}

func TestSentCodeVoidedByWrongGuesses(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *mfa.Config) {
		c.Policy.Methods = []mfa.Method{mfa.MethodEmail}
		c.SentCodeAttempts = 3
	})
	m, err := mfa.New(mfa.Config{Keyring: e.kr, Store: e.store, Now: e.clock.Now, Sender: e.sender,
		Policy: mfa.Policy{Methods: []mfa.Method{mfa.MethodEmail}}, SentCodeAttempts: 3,
		Attempts: lenientAttempts(t, e.clock.Now)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.SendCode(ctx, mira, mfa.MethodEmail); err != nil {
		t.Fatal(err)
	}
	code := e.sender.lastCode(t)
	for i := range 3 {
		wrong := fmt.Sprintf("%06d", (i+1)*111111)
		if wrong == code {
			wrong = "999990"
		}
		_, err := m.Verify(ctx, mira.ID, wrong)
		wantAuthError(t, err, auth.CodeInvalidCredentials, mfa.ErrInvalidCode)
	}
	_, err = m.Verify(ctx, mira.ID, code)
	wantAuthError(t, err, auth.CodeInvalidCredentials, mfa.ErrInvalidCode)
}

func TestSendCodeRefusals(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		methods []mfa.Method
		noSend  bool
		user    mfa.User
		channel mfa.Method
	}{
		{"email not allowed by the default policy", nil, false, mira, mfa.MethodEmail},
		{"sms allowed but the user has no phone", []mfa.Method{mfa.MethodSMS}, false, mfa.User{ID: "u-1", Email: "a@b.example"}, mfa.MethodSMS},
		{"email allowed but no sender", []mfa.Method{mfa.MethodEmail}, true, mira, mfa.MethodEmail},
		{"a channel that is not a sent code", []mfa.Method{mfa.MethodTOTP, mfa.MethodEmail}, false, mira, mfa.MethodTOTP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *mfa.Config) {
				c.Policy.Methods = tt.methods
				if tt.noSend {
					c.Sender = nil
				}
			})
			_, err := e.m.SendCode(ctx, tt.user, tt.channel)
			wantAuthError(t, err, auth.CodeInvalidRequest, mfa.ErrMethodNotAllowed)
			if len(e.sender.msgs) != 0 {
				t.Fatal("a code was sent")
			}
		})
	}
}

func TestSenderFailureIsNotACredentialError(t *testing.T) {
	e := newEnv(t, func(c *mfa.Config) { c.Policy.Methods = []mfa.Method{mfa.MethodEmail} })
	e.sender.err = errors.New("smtp: 421 service not available")
	_, err := e.m.SendCode(context.Background(), mira, mfa.MethodEmail)
	if err == nil || auth.AsError(err).Code != auth.CodeUnavailable {
		t.Fatalf("SendCode with a failing sender: %v, want a 503-class error", err)
	}
}

func TestDecide(t *testing.T) {
	ctx := context.Background()
	newcomer := mfa.User{ID: "u-new", Name: "nico", Roles: []string{"admin"}, CreatedAt: start.Add(-24 * time.Hour)}
	veteran := mfa.User{ID: "u-old", Name: "vera", Roles: []string{"admin"}, CreatedAt: start.Add(-30 * 24 * time.Hour)}
	operator := mfa.User{ID: "u-op", Name: "otto", Email: "otto@plant.example", Roles: []string{"operator"}, CreatedAt: start.Add(-time.Hour)}
	unknownAge := mfa.User{ID: "u-unk", Roles: []string{"admin"}}
	policy := mfa.Policy{RequiredForRoles: []string{"admin", "supervisor"}, GracePeriod: 7 * 24 * time.Hour}

	tests := []struct {
		name   string
		policy mfa.Policy
		user   mfa.User
		enrol  bool
		want   mfa.Decision
	}{
		{"operator without MFA logs in", policy, operator, false, mfa.Decision{}},
		{"operator who turned TOTP on is challenged", policy, operator, true,
			mfa.Decision{Challenge: true, Enabled: true, Methods: []mfa.Method{mfa.MethodTOTP, mfa.MethodBackupCode}}},
		{"admin with TOTP is challenged", policy, veteran, true,
			mfa.Decision{Challenge: true, Enabled: true, Required: true, Methods: []mfa.Method{mfa.MethodTOTP, mfa.MethodBackupCode}}},
		{"new admin without MFA inside the grace period is told to enrol", policy, newcomer, false,
			mfa.Decision{Required: true, MustEnroll: true, EnrollBy: newcomer.CreatedAt.Add(7 * 24 * time.Hour)}},
		{"old admin without MFA after the grace period", policy, veteran, false,
			mfa.Decision{Required: true, MustEnroll: true, EnrollBy: veteran.CreatedAt.Add(7 * 24 * time.Hour), GraceExpired: true}},
		{"admin of unknown age gets no grace", policy, unknownAge, false,
			mfa.Decision{Required: true, MustEnroll: true, GraceExpired: true}},
		{"no grace by default", mfa.Policy{RequiredForRoles: []string{"admin"}}, newcomer, false,
			mfa.Decision{Required: true, MustEnroll: true, EnrollBy: newcomer.CreatedAt, GraceExpired: true}},
		{"required for all covers operators", mfa.Policy{RequiredForAll: true, GracePeriod: 48 * time.Hour}, operator, false,
			mfa.Decision{Required: true, MustEnroll: true, EnrollBy: operator.CreatedAt.Add(48 * time.Hour)}},
		{"required with email allowed: the email code is the factor", mfa.Policy{RequiredForAll: true, Methods: []mfa.Method{mfa.MethodTOTP, mfa.MethodEmail}}, operator, false,
			mfa.Decision{Challenge: true, Required: true, Methods: []mfa.Method{mfa.MethodEmail}}},
		{"email allowed does not make MFA due when not required", mfa.Policy{Methods: []mfa.Method{mfa.MethodEmail}}, operator, false,
			mfa.Decision{Methods: []mfa.Method{mfa.MethodEmail}}},
		{"role names are matched exactly", mfa.Policy{RequiredForRoles: []string{"Admin"}}, veteran, false, mfa.Decision{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *mfa.Config) { c.Policy = tt.policy })
			if tt.enrol {
				e.enroll(t, tt.user)
				e.clock.Advance(-30 * time.Second)
			}
			got, err := e.m.Decide(ctx, tt.user)
			if err != nil {
				t.Fatal(err)
			}
			if got.Challenge != tt.want.Challenge || got.Enabled != tt.want.Enabled || got.Required != tt.want.Required ||
				got.MustEnroll != tt.want.MustEnroll || !got.EnrollBy.Equal(tt.want.EnrollBy) ||
				got.GraceExpired != tt.want.GraceExpired || !slices.Equal(got.Methods, tt.want.Methods) {
				t.Fatalf("Decide = %+v\nwant     %+v", got, tt.want)
			}
		})
	}
}

// A user who turned TOTP on is never let in with the password alone, even
// after the policy stops accepting TOTP.
func TestDecideNeverFallsBackToThePassword(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	e.enroll(t, mira)
	emailOnly, err := mfa.New(mfa.Config{Keyring: e.kr, Store: e.store, Now: e.clock.Now,
		Policy: mfa.Policy{Methods: []mfa.Method{mfa.MethodEmail}}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := emailOnly.Decide(ctx, mfa.User{ID: mira.ID, CreatedAt: mira.CreatedAt})
	if err != nil {
		t.Fatal(err)
	}
	if d.Challenge || !d.Enabled || !d.MustEnroll || !d.GraceExpired {
		t.Fatalf("Decide = %+v; want enrolment required, no password-only login", d)
	}
	_, err = emailOnly.Setup(ctx, mfa.User{ID: "u-new"})
	wantAuthError(t, err, auth.CodeInvalidRequest, mfa.ErrMethodNotAllowed)
}

func TestDisable(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	user := e.enroll(t, mira)
	if err := e.m.Disable(ctx, mira); err != nil {
		t.Fatal(err)
	}
	if e.events.count(auth.EventMFADisabled) != 1 {
		t.Fatal("no mfa_disabled event")
	}
	st, _ := e.m.Status(ctx, mira.ID)
	if st.Enabled || st.Pending || st.BackupCodesRemaining != 0 {
		t.Fatalf("Status after Disable = %+v", st)
	}
	_, err := e.m.Verify(ctx, mira.ID, user.code(t, e.clock.Now()))
	wantAuthError(t, err, auth.CodeInvalidCredentials, mfa.ErrInvalidCode)
	if err := e.m.Disable(ctx, mira); err != nil || e.events.count(auth.EventMFADisabled) != 1 {
		t.Fatalf("second Disable: %v, %d events", err, e.events.count(auth.EventMFADisabled))
	}
	if _, err := e.m.Setup(ctx, mira); err != nil {
		t.Fatalf("Setup after Disable: %v", err)
	}
}

// failingStore fails every call after the enrolment.
type failingStore struct {
	*mfa.MemoryStore
	fail atomic.Bool
}

var errStoreDown = errors.New("dial tcp 10.0.0.9:5432: connection refused")

func (s *failingStore) GetTOTP(ctx context.Context, userID string) (mfa.TOTPRecord, error) {
	if s.fail.Load() {
		return mfa.TOTPRecord{}, errStoreDown
	}
	return s.MemoryStore.GetTOTP(ctx, userID)
}

func (s *failingStore) ConsumeBackupCode(ctx context.Context, userID, hash string) (int, error) {
	if s.fail.Load() {
		return 0, errStoreDown
	}
	return s.MemoryStore.ConsumeBackupCode(ctx, userID, hash)
}

func TestStoreFailureIsNotAWrongCode(t *testing.T) {
	ctx := context.Background()
	fs := &failingStore{MemoryStore: mfa.NewMemoryStore()}
	e := newEnv(t, func(c *mfa.Config) { c.Store = fs })
	user := e.enroll(t, mira)
	fs.fail.Store(true)
	for _, code := range []string{user.code(t, e.clock.Now()), user.backup[0]} {
		_, err := e.m.Verify(ctx, mira.ID, code)
		if !errors.Is(err, errStoreDown) || auth.AsError(err).Code != auth.CodeUnavailable {
			t.Fatalf("Verify with the store down: %v, want the store error (503)", err)
		}
		e.clock.Advance(time.Minute)
	}
	if e.events.count(auth.EventMFAFailed) != 0 {
		t.Fatal("a store failure was reported as a failed second factor")
	}
}

// A sealed secret copied onto another user's enrolment does not open.
func TestSecretIsBoundToItsUser(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	user := e.enroll(t, mira)
	rec, _ := e.store.GetTOTP(ctx, mira.ID)
	rec.UserID, rec.ID = "u-mallory", "e-copied"
	if err := e.store.PutPendingTOTP(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := e.store.ConfirmTOTP(ctx, "u-mallory", "e-copied", 0, start); err != nil {
		t.Fatal(err)
	}
	_, err := e.m.Verify(ctx, "u-mallory", user.code(t, e.clock.Now()))
	if err == nil || !errors.Is(err, auth.ErrKeyringCiphertext) {
		t.Fatalf("Verify with a moved secret: %v, want a keyring error", err)
	}
}

func TestMalformedCodes(t *testing.T) {
	ctx := context.Background()
	var e *env
	e = newEnv(t, func(c *mfa.Config) { c.Attempts = lenientAttempts(t, func() time.Time { return e.clock.Now() }) })
	e.enroll(t, mira)
	for _, code := range []string{"", "12345", "123456789", "12ab56", "DROP TABLE", strings.Repeat("1", 10_000), "１２３４５６"} {
		e.clock.Advance(time.Minute)
		_, err := e.m.Verify(ctx, mira.ID, code)
		wantAuthError(t, err, auth.CodeInvalidCredentials, mfa.ErrMalformedCode)
	}
}

func TestEmptyUserIDIsRefused(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	if _, err := e.m.Setup(ctx, mfa.User{}); err == nil {
		t.Error("Setup without an ID")
	}
	if _, err := e.m.Verify(ctx, "", "123456"); err == nil {
		t.Error("Verify without an ID")
	}
	if _, err := e.m.Challenge(ctx, mfa.User{}, ""); err == nil {
		t.Error("Challenge without an ID")
	}
	if _, err := e.m.Decide(ctx, mfa.User{}); err == nil {
		t.Error("Decide without an ID")
	}
}

func base32NoPad(s string) ([]byte, error) {
	return base32Enc.DecodeString(s)
}
