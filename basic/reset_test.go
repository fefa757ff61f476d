package basic_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/basic"
)

// countingTokens counts the calls into a reset-token store.
type countingTokens struct {
	basic.ResetTokenStore
	saves atomic.Int64
}

func (c *countingTokens) SaveResetToken(ctx context.Context, t basic.ResetToken) error {
	c.saves.Add(1)
	return c.ResetTokenStore.SaveResetToken(ctx, t)
}

// countingUsers counts user-store lookups.
type countingUsers struct {
	basic.UserStore
	gets atomic.Int64
}

func (c *countingUsers) GetUser(ctx context.Context, f basic.UserField, v string) (*basic.User, error) {
	c.gets.Add(1)
	return c.UserStore.GetUser(ctx, f, v)
}

func TestInitiateResetLooksTheSameForUnknownAddresses(t *testing.T) {
	ctx := context.Background()
	mem := basic.NewMemoryStore()
	users := &countingUsers{UserStore: mem}
	tokens := &countingTokens{ResetTokenStore: mem}
	e := newEnv(t, func(cfg *basic.Config) { cfg.Store = users; cfg.ResetTokens = tokens })
	e.store = mem
	e.create(t, "alice", "alice@example.com")
	off := e.create(t, "dave", "dave@example.com")
	if err := e.users.Disable(ctx, off.ID); err != nil {
		t.Fatal(err)
	}

	type outcome struct {
		gets, saves, hashWork int64
		err                   error
		ticket                basic.ResetTicket
	}
	run := func(email string) outcome {
		users.gets.Store(0)
		tokens.saves.Store(0)
		e.hasher.reset()
		tk, err := e.users.InitiatePasswordReset(ctx, email)
		return outcome{users.gets.Load(), tokens.saves.Load(), e.hasher.hashes.Load() + e.hasher.verifies.Load(), err, tk}
	}
	known := run("ALICE@example.com")
	if known.err != nil || len(known.ticket.Token) != 43 || known.ticket.Email != "alice@example.com" {
		t.Fatalf("known address: %+v", known)
	}
	if !known.ticket.ExpiresAt.Equal(e.clock.Now().Add(30 * time.Minute)) {
		t.Fatalf("ExpiresAt %v, want now+30m", known.ticket.ExpiresAt)
	}
	for _, email := range []string{"nobody@example.com", "dave@example.com", "not an address", strings.Repeat("x", 300)} {
		got := run(email)
		if got.err != nil || got.ticket.Token != "" || got.ticket.UserID != "" || !got.ticket.ExpiresAt.Equal(known.ticket.ExpiresAt) {
			t.Fatalf("%q: %+v", email, got)
		}
		if email != strings.Repeat("x", 300) && (got.gets != known.gets || got.saves != known.saves || got.hashWork != known.hashWork) {
			t.Fatalf("%q did different work: %+v, known address %+v", email, got, known)
		}
	}
	if ev, ok := e.events.last(auth.EventPasswordResetRequest); !ok || ev.Reason != "unknown_email" {
		t.Fatalf("password_reset_requested for an unknown address = %+v", ev)
	}
}

func TestCompleteReset(t *testing.T) {
	ctx := context.Background()
	var revoked []string
	e := newEnv(t, func(cfg *basic.Config) {
		cfg.OnCredentialsChanged = func(ctx context.Context, id string) error {
			revoked = append(revoked, id)
			return nil
		}
	})
	u := e.create(t, "alice", "alice@example.com")
	// Locked out by a guesser; the reset also lifts the lock.
	for range 5 {
		_, _ = e.users.Authenticate(ctx, "alice", "wrong password 123")
	}
	tk, err := e.users.InitiatePasswordReset(ctx, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	// A refused password leaves the token usable.
	if err := e.users.CompletePasswordReset(ctx, tk.Token, "short"); !errors.Is(err, auth.ErrPasswordPolicy) {
		t.Fatalf("weak password: %v", err)
	}
	if err := e.users.CompletePasswordReset(ctx, tk.Token, otherPassword); err != nil {
		t.Fatalf("CompletePasswordReset: %v", err)
	}
	if len(revoked) != 1 || revoked[0] != u.ID {
		t.Fatalf("revocation hook calls: %v", revoked)
	}
	if ev, ok := e.events.last(auth.EventPasswordReset); !ok || ev.Subject != u.ID {
		t.Fatalf("password_reset event = %+v, %v", ev, ok)
	}
	if _, err := e.users.Authenticate(ctx, "alice", otherPassword); err != nil {
		t.Fatalf("sign-in with the new password: %v", err)
	}
	// Single use.
	if err := e.users.CompletePasswordReset(ctx, tk.Token, "yet another fine pass 9"); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("second use: %v", err)
	}
}

func TestResetTokenRejections(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// spoil runs between issuing and using the token.
		spoil func(t *testing.T, e *env, u *basic.User, token string) string
	}{
		{"expired at exactly 30 minutes", func(t *testing.T, e *env, u *basic.User, tok string) string {
			e.clock.Advance(30 * time.Minute)
			return tok
		}},
		{"password changed after issue", func(t *testing.T, e *env, u *basic.User, tok string) string {
			if err := e.users.ChangePassword(ctx, u.ID, goodPassword, otherPassword); err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"password set by an administrator after issue", func(t *testing.T, e *env, u *basic.User, tok string) string {
			if err := e.users.SetPassword(ctx, u.ID, otherPassword); err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"password reset with a newer token", func(t *testing.T, e *env, u *basic.User, tok string) string {
			newer, err := e.users.InitiatePasswordReset(ctx, "alice@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if err := e.users.CompletePasswordReset(ctx, newer.Token, otherPassword); err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"email changed after issue", func(t *testing.T, e *env, u *basic.User, tok string) string {
			email := "new-alice@example.com"
			if _, err := e.users.Update(ctx, u.ID, basic.UserUpdate{Email: &email}); err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"user disabled after issue", func(t *testing.T, e *env, u *basic.User, tok string) string {
			if err := e.users.Disable(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"user deleted after issue", func(t *testing.T, e *env, u *basic.User, tok string) string {
			if err := e.users.Delete(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"one character changed", func(t *testing.T, e *env, u *basic.User, tok string) string {
			if tok[0] == 'A' {
				return "B" + tok[1:]
			}
			return "A" + tok[1:]
		}},
		{"truncated", func(t *testing.T, e *env, u *basic.User, tok string) string { return tok[:42] }},
		{"padded", func(t *testing.T, e *env, u *basic.User, tok string) string { return tok + "=" }},
		{"empty", func(t *testing.T, e *env, u *basic.User, tok string) string { return "" }},
		{"the stored hash instead of the token", func(t *testing.T, e *env, u *basic.User, tok string) string {
			return strings.Repeat("a", 43)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			u := e.create(t, "alice", "alice@example.com")
			tk, err := e.users.InitiatePasswordReset(ctx, "alice@example.com")
			if err != nil {
				t.Fatal(err)
			}
			tok := tc.spoil(t, e, u, tk.Token)
			err = e.users.CompletePasswordReset(ctx, tok, "a brand new passphrase 7")
			var ae *auth.Error
			if !errors.As(err, &ae) || ae.Code != auth.CodeInvalidToken {
				t.Fatalf("CompletePasswordReset = %v, want invalid_token", err)
			}
		})
	}
	t.Run("one nanosecond before expiry still works", func(t *testing.T) {
		e := newEnv(t, nil)
		e.create(t, "alice", "alice@example.com")
		tk, _ := e.users.InitiatePasswordReset(ctx, "alice@example.com")
		e.clock.Advance(30*time.Minute - time.Nanosecond)
		if err := e.users.CompletePasswordReset(ctx, tk.Token, "a brand new passphrase 7"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestResetTokenSingleUseUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	var revocations atomic.Int64
	e := newEnv(t, func(cfg *basic.Config) {
		cfg.OnCredentialsChanged = func(context.Context, string) error { revocations.Add(1); return nil }
	})
	e.create(t, "alice", "alice@example.com")
	tk, err := e.users.InitiatePasswordReset(ctx, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	var wg sync.WaitGroup
	var mu sync.Mutex // guards wins, winner, others
	wins, winner, others := 0, -1, []error(nil)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pw := "concurrent reset pass " + string(rune('a'+i%26)) + string(rune('a'+i/26))
			err := e.users.CompletePasswordReset(ctx, tk.Token, pw)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
				winner = i
			case errors.Is(err, auth.ErrInvalidToken):
			default:
				others = append(others, err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || len(others) > 0 || revocations.Load() != 1 {
		t.Fatalf("%d concurrent uses of one token: %d succeeded, other errors %v, %d revocations",
			n, wins, others, revocations.Load())
	}
	pw := "concurrent reset pass " + string(rune('a'+winner%26)) + string(rune('a'+winner/26))
	if _, err := e.users.Authenticate(ctx, "alice", pw); err != nil {
		t.Fatalf("the winner's password does not work: %v", err)
	}
}
