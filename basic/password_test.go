package basic_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/basic"
)

func policyCodes(t *testing.T, err error) []basic.ViolationCode {
	t.Helper()
	return violations(t, err)
}

func TestChangePassword(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	u := e.create(t, "alice", "alice@example.com")

	if err := e.users.ChangePassword(ctx, u.ID, "not my password", otherPassword); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("wrong old password: %v", err)
	}
	if got := policyCodes(t, e.users.ChangePassword(ctx, u.ID, goodPassword, goodPassword)); len(got) != 1 || got[0] != basic.ViolationReused {
		t.Fatalf("same password again: %v, want [reused]", got)
	}
	if got := policyCodes(t, e.users.ChangePassword(ctx, u.ID, goodPassword, "alice-2031-xyzzy-q")); !slices.Equal(got,
		[]basic.ViolationCode{basic.ViolationContainsUsername, basic.ViolationContainsEmail}) {
		t.Fatalf("new password with the username: %v", got)
	}
	if err := e.users.ChangePassword(ctx, u.ID, goodPassword, otherPassword); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	if _, err := e.users.Authenticate(ctx, "alice", goodPassword); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("old password after the change: %v", err)
	}
	if _, err := e.users.Authenticate(ctx, "alice", otherPassword); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if ev, ok := e.events.last(auth.EventPasswordChanged); !ok || ev.Subject != u.ID {
		t.Fatalf("password_changed event = %+v, %v", ev, ok)
	}
	// History is off by default: the first password may come back.
	if err := e.users.ChangePassword(ctx, u.ID, otherPassword, goodPassword); err != nil {
		t.Fatalf("returning to an old password with history off: %v", err)
	}
}

func TestChangePasswordGoesThroughLockout(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	u := e.create(t, "alice", "")
	for i := 1; i <= 5; i++ {
		err := e.users.ChangePassword(ctx, u.ID, fmt.Sprintf("guess number %d", i), otherPassword)
		want := auth.CodeInvalidCredentials
		if i == 5 {
			want = auth.CodeAccountLocked
		}
		if code(err) != want {
			t.Fatalf("guess %d: %v, want %s", i, err, want)
		}
	}
	e.hasher.reset()
	if err := e.users.ChangePassword(ctx, u.ID, goodPassword, otherPassword); code(err) != auth.CodeAccountLocked {
		t.Fatalf("right old password while locked: %v", err)
	}
	if _, err := e.users.Authenticate(ctx, "alice", goodPassword); code(err) != auth.CodeAccountLocked {
		t.Fatalf("sign-in after guessing through ChangePassword: %v", err)
	}
	if e.hasher.verifies.Load() != 0 {
		t.Fatal("password checked while locked")
	}
}

func TestPasswordHistory(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(cfg *basic.Config) { cfg.PasswordHistory = true })
	u := e.create(t, "alice", "")
	pw := func(i int) string { return fmt.Sprintf("history-item-%02d-kqzw", i) }
	current := goodPassword
	// Passwords 1..5.
	for i := 1; i <= 5; i++ {
		if err := e.users.ChangePassword(ctx, u.ID, current, pw(i)); err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
		current = pw(i)
	}
	stored, _ := e.store.GetUser(ctx, basic.ByID, u.ID)
	if len(stored.PasswordHistory) != basic.DefaultPasswordHistory-1 {
		t.Fatalf("history holds %d hashes, want %d", len(stored.PasswordHistory), basic.DefaultPasswordHistory-1)
	}
	// The current one and the four before it are refused...
	for i := 1; i <= 5; i++ {
		err := e.users.SetPassword(ctx, u.ID, pw(i))
		if got := policyCodes(t, err); len(got) != 1 || got[0] != basic.ViolationReused {
			t.Fatalf("SetPassword to password %d of the last 5: %v", i, err)
		}
	}
	// ...the sixth most recent (the very first) is allowed again.
	if err := e.users.ChangePassword(ctx, u.ID, current, goodPassword); err != nil {
		t.Fatalf("password older than the history: %v", err)
	}
	// The history now holds 5, 4, 3 and 2; the first is free again.
	if err := e.users.SetPassword(ctx, u.ID, pw(1)); err != nil {
		t.Fatalf("SetPassword to a password that left the history: %v", err)
	}
}

func TestRevocationHookOrdering(t *testing.T) {
	ctx := context.Background()
	var e *env
	var sawNewPassword bool
	fail := true
	calls := 0
	e = newEnv(t, func(cfg *basic.Config) {
		cfg.OnCredentialsChanged = func(ctx context.Context, id string) error {
			calls++
			// The hook runs after the new password is stored.
			stored, err := e.store.GetUser(ctx, basic.ByID, id)
			sawNewPassword = err == nil && e.hasher.Verify(ctx, otherPassword, stored.PasswordHash) == nil
			if fail {
				return errors.New("token store down")
			}
			return nil
		}
	})
	u := e.create(t, "alice", "")
	err := e.users.ChangePassword(ctx, u.ID, goodPassword, otherPassword)
	if !errors.Is(err, basic.ErrRevocationIncomplete) || calls != 1 || !sawNewPassword {
		t.Fatalf("failing hook: err %v, calls %d, hook saw new password %v", err, calls, sawNewPassword)
	}
	if code(err) != "" || auth.AsError(err).Code != auth.CodeUnavailable {
		t.Fatalf("a failed revocation must not look like a client error: %v", err)
	}
	// The change stands...
	if _, err := e.users.Authenticate(ctx, "alice", otherPassword); err != nil {
		t.Fatalf("new password after a failed hook: %v", err)
	}
	// ...and the revocation can be retried on its own.
	fail = false
	if err := e.users.RevokeCredentials(ctx, u.ID); err != nil || calls != 2 {
		t.Fatalf("RevokeCredentials retry: %v (calls %d)", err, calls)
	}
}
