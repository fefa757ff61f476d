package basic_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/basic"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
)

func TestAuthenticateSuccess(t *testing.T) {
	e := newEnv(t, nil)
	created := e.create(t, "Operator_001", "op1@example.com")
	u, err := e.users.Authenticate(context.Background(), "operator_001", goodPassword)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if u.ID != created.ID || u.PasswordHash != "" || u.PasswordHistory != nil {
		t.Fatalf("returned user %+v: wrong ID or hashes not cleared", u)
	}
	if ev, ok := e.events.last(auth.EventLoginSucceeded); !ok || ev.Subject != u.ID || ev.Username != "Operator_001" {
		t.Fatalf("login_success event = %+v, %v", ev, ok)
	}
	p := u.Principal(auth.MethodBasic)
	if p.Subject != u.ID || p.Method != auth.MethodBasic || len(p.Roles) != 1 || p.MFA.Verified {
		t.Fatalf("principal %+v", p)
	}
}

// TestEqualHashWorkForEveryFailure proves that an unknown username, a wrong
// password, a disabled user and a right password of a disabled user each cost
// exactly one hash verification, and get the same answer.
func TestEqualHashWorkForEveryFailure(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "alice", "alice@example.com")
	off := e.create(t, "disabled_dave", "dave@example.com")
	if err := e.users.Disable(context.Background(), off.ID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, user, pw string
	}{
		{"unknown username", "mallory", goodPassword},
		{"unknown username that differs only by one letter", "alicf", goodPassword},
		{"wrong password", "alice", "wrong password 123"},
		{"disabled user, wrong password", "disabled_dave", "wrong password 123"},
		{"disabled user, right password", "disabled_dave", goodPassword},
		{"username no account can have", strings.Repeat("x", 65), goodPassword},
		{"username with a colon", "ali:ce", goodPassword},
	}
	var first *auth.Error
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.hasher.reset()
			_, err := e.users.Authenticate(context.Background(), tc.user, tc.pw)
			var ae *auth.Error
			if !errors.As(err, &ae) || !errors.Is(err, auth.ErrInvalidCredentials) {
				t.Fatalf("Authenticate = %v, want invalid_credentials", err)
			}
			if first == nil {
				first = ae
			} else if ae.Description != first.Description || ae.RetryAfter != first.RetryAfter || len(ae.Details) != 0 {
				t.Fatalf("answer %+v differs from %+v", ae, first)
			}
			if v, h := e.hasher.verifies.Load(), e.hasher.hashes.Load(); v != 1 || h != 0 {
				t.Fatalf("hash work: %d verifications, %d hashes; want exactly 1 verification", v, h)
			}
		})
	}
}

// lockEnv is an env whose lockout allows 5 failures (the default) with no
// progressive delays.
func lockEnv(t *testing.T) *env {
	t.Helper()
	return newEnv(t, nil)
}

func TestLockoutSequential(t *testing.T) {
	ctx := context.Background()
	e := lockEnv(t)
	u := e.create(t, "alice", "")
	for i := 1; i <= 4; i++ {
		if _, err := e.users.Authenticate(ctx, "alice", "wrong password 123"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("failure %d: %v, want invalid_credentials", i, err)
		}
	}
	// The fifth failure locks and says so.
	_, err := e.users.Authenticate(ctx, "alice", "wrong password 123")
	var fifth *auth.Error
	if !errors.As(err, &fifth) || fifth.Code != auth.CodeAccountLocked || fifth.RetryAfter != 15*time.Minute {
		t.Fatalf("fifth failure: %v, want account_locked with RetryAfter 15m", err)
	}
	if n := e.events.count(auth.EventAccountLocked); n != 1 {
		t.Fatalf("%d account_locked events, want 1", n)
	}

	// While locked: the same answer for the right password, a wrong one,
	// and a user that does not exist, with no hash work at all.
	e.clock.Advance(5 * time.Minute)
	e.hasher.reset()
	var answers []*auth.Error
	for _, pw := range []string{goodPassword, "wrong password 123"} {
		_, err := e.users.Authenticate(ctx, "ALICE", pw)
		var ae *auth.Error
		if !errors.As(err, &ae) {
			t.Fatalf("locked: %v", err)
		}
		answers = append(answers, ae)
	}
	if !sameAnswer(answers[0], answers[1]) || answers[0].Code != auth.CodeAccountLocked || answers[0].RetryAfter != 10*time.Minute {
		t.Fatalf("locked answers differ or are wrong: right pw %+v, wrong pw %+v", answers[0], answers[1])
	}
	if v := e.hasher.verifies.Load(); v != 0 {
		t.Fatalf("%d verifications while locked, want 0", v)
	}

	// After the lock: the right password works and clears the count.
	e.clock.Advance(10 * time.Minute)
	if _, err := e.users.Authenticate(ctx, "alice", goodPassword); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	st, err := e.users.LockStatus(ctx, u.ID)
	if err != nil || st.Locked || st.Failures != 0 {
		t.Fatalf("LockStatus after success = %+v, %v", st, err)
	}
}

func TestLockoutUnknownUserLooksTheSame(t *testing.T) {
	ctx := context.Background()
	e := lockEnv(t)
	e.create(t, "alice", "")
	answer := func(user string) []*auth.Error {
		var out []*auth.Error
		for range 6 {
			_, err := e.users.Authenticate(ctx, user, "wrong password 123")
			var ae *auth.Error
			if !errors.As(err, &ae) {
				t.Fatalf("%s: %v", user, err)
			}
			out = append(out, ae)
		}
		return out
	}
	known, unknown := answer("alice"), answer("nobody_here")
	for i := range known {
		if !sameAnswer(known[i], unknown[i]) {
			t.Fatalf("attempt %d: existing user got %+v, unknown user %+v", i+1, known[i], unknown[i])
		}
	}
	if known[5].Code != auth.CodeAccountLocked {
		t.Fatalf("sixth attempt: %+v, want account_locked", known[5])
	}
}

func TestLockoutConcurrentWrongAttempts(t *testing.T) {
	ctx := context.Background()
	e := lockEnv(t)
	e.create(t, "alice", "")
	const n = 100
	var wg sync.WaitGroup
	var mu sync.Mutex // guards counts
	counts := map[auth.Code]int{}
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.users.Authenticate(ctx, "alice", "wrong password 123")
			mu.Lock()
			defer mu.Unlock()
			counts[code(err)]++
		}()
	}
	wg.Wait()
	// Exactly MaxFailures attempts were let through to the hasher.
	if v := e.hasher.verifies.Load(); v != ratelimit.DefaultMaxFailures {
		t.Fatalf("%d password verifications under %d concurrent attempts, want exactly %d",
			v, n, ratelimit.DefaultMaxFailures)
	}
	if counts[auth.CodeInvalidCredentials] != 4 || counts[auth.CodeAccountLocked] != n-4 || len(counts) != 2 {
		t.Fatalf("answers %v, want 4 invalid_credentials and %d account_locked", counts, n-4)
	}
	if got := e.events.count(auth.EventAccountLocked); got != 1 {
		t.Fatalf("%d account_locked events, want 1", got)
	}
	// The right password changes nothing while locked.
	_, err := e.users.Authenticate(ctx, "alice", goodPassword)
	var ae *auth.Error
	if !errors.As(err, &ae) || ae.Code != auth.CodeAccountLocked || ae.RetryAfter != 15*time.Minute {
		t.Fatalf("right password while locked: %v", err)
	}
}

func TestUnlock(t *testing.T) {
	ctx := context.Background()
	e := lockEnv(t)
	u := e.create(t, "alice", "")
	for range 5 {
		_, _ = e.users.Authenticate(ctx, "alice", "wrong password 123")
	}
	if st, err := e.users.LockStatus(ctx, u.ID); err != nil || !st.Locked {
		t.Fatalf("LockStatus = %+v, %v; want locked", st, err)
	}
	if err := e.users.Unlock(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if ev, ok := e.events.last(auth.EventAccountUnlocked); !ok || ev.Subject != u.ID {
		t.Fatalf("account_unlocked event = %+v, %v", ev, ok)
	}
	if _, err := e.users.Authenticate(ctx, "alice", goodPassword); err != nil {
		t.Fatalf("after Unlock: %v", err)
	}
	if err := e.users.Unlock(ctx, "usr_missing"); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("Unlock of a missing user: %v", err)
	}
}

func TestProgressiveDelayIsRateLimited(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	lock, err := ratelimit.NewAttemptsLimiter(ratelimit.AttemptsConfig{Now: c.Now}) // default delays
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(cfg *basic.Config) { cfg.Lockout = lock; cfg.Now = c.Now })
	e.create(t, "alice", "")
	if _, err := e.users.Authenticate(ctx, "alice", "wrong password 123"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatal(err)
	}
	e.hasher.reset()
	_, err = e.users.Authenticate(ctx, "alice", goodPassword)
	var ae *auth.Error
	if !errors.As(err, &ae) || ae.Code != auth.CodeRateLimited || ae.RetryAfter != time.Second {
		t.Fatalf("immediate retry: %v, want rate_limited with RetryAfter 1s", err)
	}
	if e.hasher.verifies.Load() != 0 {
		t.Fatal("a delayed attempt reached the hasher")
	}
	c.Advance(time.Second)
	if _, err := e.users.Authenticate(ctx, "alice", goodPassword); err != nil {
		t.Fatalf("after the delay: %v", err)
	}
}

func TestClientLimiter(t *testing.T) {
	c := newClock()
	perIP, err := ratelimit.NewAttemptsLimiter(ratelimit.AttemptsConfig{Delays: []time.Duration{0}, MaxFailures: 3, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(cfg *basic.Config) { cfg.ClientLimiter = perIP })
	e.create(t, "alice", "")
	attacker := auth.WithRequestMeta(context.Background(), auth.RequestMeta{ClientIP: "198.51.100.7"})
	// Spraying different usernames from one address.
	for i, user := range []string{"u1", "u2", "u3", "u4"} {
		_, err := e.users.Authenticate(attacker, user, "wrong password 123")
		want := auth.CodeInvalidCredentials
		if i == 3 {
			want = auth.CodeRateLimited
		}
		if code(err) != want {
			t.Fatalf("attempt %d from one IP: %v, want %s", i+1, err, want)
		}
	}
	// Another client is not affected, nor is alice's account.
	other := auth.WithRequestMeta(context.Background(), auth.RequestMeta{ClientIP: "203.0.113.9"})
	if _, err := e.users.Authenticate(other, "alice", goodPassword); err != nil {
		t.Fatalf("other client: %v", err)
	}
}

// failingStore fails every lookup.
type failingStore struct{ basic.UserStore }

func (failingStore) GetUser(context.Context, basic.UserField, string) (*basic.User, error) {
	return nil, errors.New("connection reset by peer")
}

func TestStoreFailureIsNotInvalidCredentials(t *testing.T) {
	e := newEnv(t, func(cfg *basic.Config) { cfg.Store = failingStore{basic.NewMemoryStore()} })
	_, err := e.users.Authenticate(context.Background(), "alice", goodPassword)
	var ae *auth.Error
	if err == nil || errors.As(err, &ae) {
		t.Fatalf("Authenticate with a failing store = %v, want a plain wrapped error", err)
	}
	if auth.AsError(err).Code != auth.CodeUnavailable {
		t.Fatalf("maps to %s, want unavailable", auth.AsError(err).Code)
	}
}

func TestRehashOnLogin(t *testing.T) {
	ctx := context.Background()
	for _, legacy := range []basic.Algorithm{basic.Bcrypt, basic.Scrypt} {
		t.Run(string(legacy), func(t *testing.T) {
			// Users created under a legacy algorithm...
			store := basic.NewMemoryStore()
			old, err := basic.New(basic.Config{Store: store, Hasher: cheapHasher(t, legacy)})
			if err != nil {
				t.Fatal(err)
			}
			u, err := old.Create(ctx, basic.NewUser{Username: "alice", Password: goodPassword})
			if err != nil {
				t.Fatal(err)
			}
			// ...sign in after the switch to Argon2id.
			e := newEnv(t, func(cfg *basic.Config) { cfg.Store = store })
			if _, err := e.users.Authenticate(ctx, "alice", goodPassword); err != nil {
				t.Fatalf("Authenticate with a %s hash: %v", legacy, err)
			}
			stored, _ := store.GetUser(ctx, basic.ByID, u.ID)
			if !strings.HasPrefix(stored.PasswordHash, "$argon2id$") || len(stored.PasswordHistory) != 0 {
				t.Fatalf("after sign-in the hash is %q (history %v), want a fresh argon2id hash", stored.PasswordHash, stored.PasswordHistory)
			}
			if e.hasher.hashes.Load() != 1 {
				t.Fatalf("%d hashes computed, want 1 rehash", e.hasher.hashes.Load())
			}
			e.hasher.reset()
			if _, err := e.users.Authenticate(ctx, "alice", goodPassword); err != nil {
				t.Fatalf("Authenticate with the new hash: %v", err)
			}
			if e.hasher.hashes.Load() != 0 {
				t.Fatal("a current hash was rehashed")
			}
		})
	}
}

// busyHasher answers every call as a saturated PasswordHasher would.
type busyHasher struct{ basic.Hasher }

func (busyHasher) Verify(context.Context, string, string) error {
	return &auth.Error{Code: auth.CodeUnavailable, RetryAfter: time.Second, Err: basic.ErrBusy}
}

func TestBusyHasherAnswersUnavailable(t *testing.T) {
	e := newEnv(t, nil)
	e.create(t, "alice", "")
	busy, err := basic.New(basic.Config{Store: e.store, Hasher: busyHasher{cheapHasher(t, basic.Argon2id)}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = busy.Authenticate(context.Background(), "alice", goodPassword)
	if !errors.Is(err, basic.ErrBusy) || code(err) != auth.CodeUnavailable {
		t.Fatalf("Authenticate with a busy hasher = %v, want unavailable wrapping ErrBusy", err)
	}
}

// sameAnswer reports whether a client would see the same response for a and
// b: code, description, Retry-After and body details.
func sameAnswer(a, b *auth.Error) bool {
	return a.Code == b.Code && a.ClientDescription() == b.ClientDescription() &&
		a.RetryAfter == b.RetryAfter && len(a.Details) == 0 && len(b.Details) == 0
}
