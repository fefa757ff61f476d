package basic

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

func lowCostHasher(t *testing.T, maxConcurrent int, wait time.Duration) *PasswordHasher {
	t.Helper()
	h, err := NewHasher(HasherConfig{
		Argon2id:        Argon2idParams{Memory: 64, Iterations: 1},
		MaxConcurrent:   maxConcurrent,
		MaxWait:         wait,
		InsecureLowCost: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHasherBusyAfterMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := lowCostHasher(t, 2, 0) // default wait: 2 s
		enc, err := h.Hash(context.Background(), "x")
		if err != nil {
			t.Fatal(err)
		}
		// Occupy both slots, as two long computations would.
		h.slots <- struct{}{}
		h.slots <- struct{}{}

		start := time.Now()
		_, err = h.Hash(context.Background(), "y")
		if waited := time.Since(start); waited != DefaultMaxWait {
			t.Fatalf("waited %v, want %v", waited, DefaultMaxWait)
		}
		var ae *auth.Error
		if !errors.As(err, &ae) || ae.Code != auth.CodeUnavailable || ae.RetryAfter <= 0 || !errors.Is(err, ErrBusy) {
			t.Fatalf("Hash with full slots = %v, want unavailable with RetryAfter wrapping ErrBusy", err)
		}
		if err := h.Verify(context.Background(), "x", enc); !errors.Is(err, ErrBusy) {
			t.Fatalf("Verify with full slots = %v, want ErrBusy", err)
		}

		// A slot freed during the wait is taken.
		done := make(chan error)
		go func() { done <- h.Verify(context.Background(), "x", enc) }()
		synctest.Wait() // the goroutine is blocked waiting for a slot
		<-h.slots
		if err := <-done; err != nil {
			t.Fatalf("Verify after a slot freed: %v", err)
		}

		// The caller's context ends the wait early, as a plain error.
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		h.slots <- struct{}{}
		start = time.Now()
		err = h.Verify(ctx, "x", enc)
		if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ae) {
			t.Fatalf("Verify with an expiring context = %v", err)
		}
		if waited := time.Since(start); waited != 100*time.Millisecond {
			t.Fatalf("waited %v after the context ended", waited)
		}
	})
}

func TestHasherSlotsAreReleased(t *testing.T) {
	h := lowCostHasher(t, 1, time.Millisecond)
	for range 20 {
		enc, err := h.Hash(context.Background(), "pw")
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Verify(context.Background(), "wrong", enc); !errors.Is(err, ErrMismatch) {
			t.Fatal(err)
		}
	}
	if n := len(h.slots); n != 0 {
		t.Fatalf("%d slots still held after sequential use", n)
	}
}

func TestEmbeddedBlocklist(t *testing.T) {
	b, err := loadBlocklist()
	if err != nil {
		t.Fatal(err)
	}
	if b.len() < 10_000 {
		t.Fatalf("blocklist has %d entries, want at least 10,000", b.len())
	}
	for i := 1; i < b.len(); i++ {
		if b.line(i-1) >= b.line(i) {
			t.Fatalf("blocklist not strictly sorted at %d: %q >= %q", i, b.line(i-1), b.line(i))
		}
	}
	for _, w := range []string{"password", "123456", "qwertyuiop", "iloveyou", b.line(0), b.line(b.len() - 1)} {
		if !b.contains(w) {
			t.Errorf("blocklist lacks %q", w)
		}
	}
	for _, w := range []string{"", "Password", "amber falcon quarry 58", "password\n"} {
		if b.contains(w) {
			t.Errorf("blocklist contains %q", w)
		}
	}
}
