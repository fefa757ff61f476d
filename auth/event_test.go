package auth_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

func TestDispatcherRoutesByType(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := auth.NewDispatcher(auth.DispatcherConfig{})
		var mu sync.Mutex
		var locked, all []auth.EventType
		d.On(auth.EventAccountLocked, func(_ context.Context, e auth.Event) error {
			mu.Lock()
			defer mu.Unlock()
			locked = append(locked, e.Type)
			return nil
		})
		d.OnAll(func(_ context.Context, e auth.Event) error {
			mu.Lock()
			defer mu.Unlock()
			all = append(all, e.Type)
			return nil
		})
		d.Emit(auth.Event{Type: auth.EventLoginFailed})
		d.Emit(auth.Event{Type: auth.EventAccountLocked})
		if err := d.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(locked) != 1 || locked[0] != auth.EventAccountLocked {
			t.Fatalf("On(account_locked) got %v", locked)
		}
		if len(all) != 2 {
			t.Fatalf("OnAll got %v", all)
		}
	})
}

// A handler that blocks forever must not block Emit, nor delay the other
// handlers; what does not fit in its queue is dropped and counted.
func TestDispatcherBlockingHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const queue = 2
		d := auth.NewDispatcher(auth.DispatcherConfig{QueueSize: queue, HandlerTimeout: time.Hour})
		release := make(chan struct{})
		d.OnAll(func(ctx context.Context, e auth.Event) error {
			<-release
			return nil
		})
		var got int
		d.OnAll(func(context.Context, auth.Event) error { got++; return nil })

		const n = 10
		for i := 0; i < n; i++ {
			d.Emit(auth.Event{Type: auth.EventLoginFailed}) // must return at once
			synctest.Wait()
		}
		if got != n {
			t.Fatalf("fast handler got %d of %d events", got, n)
		}
		// The blocked handler holds one event and queues two; the rest drop.
		if want := uint64(n - 1 - queue); d.Dropped() != want {
			t.Fatalf("Dropped() = %d, want %d", d.Dropped(), want)
		}
		close(release)
		if err := d.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

// A handler that honours its context is cut off by HandlerTimeout; one that
// panics or errors is counted and reported, and later events still flow.
func TestDispatcherPanicErrorAndTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var reported []string
		d := auth.NewDispatcher(auth.DispatcherConfig{
			HandlerTimeout: 2 * time.Second,
			OnError: func(_ auth.EventType, err error) {
				mu.Lock()
				defer mu.Unlock()
				reported = append(reported, err.Error())
			},
		})
		calls := 0
		d.On(auth.EventLoginFailed, func(context.Context, auth.Event) error {
			calls++
			if calls == 1 {
				panic("handler bug")
			}
			return nil
		})
		d.On(auth.EventTokenIssued, func(context.Context, auth.Event) error { return errors.New("sink down") })
		d.On(auth.EventAccountLocked, func(ctx context.Context, _ auth.Event) error {
			<-ctx.Done()
			return ctx.Err()
		})
		start := time.Now()
		d.Emit(auth.Event{Type: auth.EventLoginFailed})
		d.Emit(auth.Event{Type: auth.EventLoginFailed})
		d.Emit(auth.Event{Type: auth.EventTokenIssued})
		d.Emit(auth.Event{Type: auth.EventAccountLocked})
		if time.Since(start) != 0 {
			t.Fatal("Emit took time")
		}
		if err := d.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if time.Since(start) != 2*time.Second {
			t.Fatalf("blocking handler ran %v, want the 2s timeout", time.Since(start))
		}
		if calls != 2 {
			t.Fatalf("handler after panic got %d calls, want 2", calls)
		}
		if d.Failed() != 3 {
			t.Fatalf("Failed() = %d, want 3 (panic, error, timeout)", d.Failed())
		}
		joined := strings.Join(reported, "|")
		for _, want := range []string{"panicked: handler bug", "sink down", "deadline exceeded"} {
			if !strings.Contains(joined, want) {
				t.Errorf("OnError reports %q, missing %q", joined, want)
			}
		}
	})
}

func TestNilDispatcherAndEmitterDiscard(t *testing.T) {
	var d *auth.Dispatcher
	d.Emit(auth.Event{Type: auth.EventLoginFailed})
	auth.Emit(nil, auth.Event{Type: auth.EventLoginFailed})
	var got auth.Event
	auth.Emit(auth.EmitterFunc(func(e auth.Event) { got = e }), auth.Event{Type: auth.EventTokenIssued})
	if got.Type != auth.EventTokenIssued {
		t.Fatal("EmitterFunc not called")
	}
}

func TestNewEventCopiesRequestMeta(t *testing.T) {
	ctx := auth.WithRequestMeta(context.Background(), auth.RequestMeta{RequestID: "r1", ClientIP: "192.0.2.1", UserAgent: "curl/8"})
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e := auth.NewEvent(ctx, auth.EventLoginSucceeded, now)
	if e.RequestID != "r1" || e.ClientIP != "192.0.2.1" || e.UserAgent != "curl/8" || !e.Time.Equal(now) {
		t.Fatalf("NewEvent = %+v", e)
	}
}

// Real-looking secrets go through every event type under every sensitive
// attribute name; no secret may reach the log beyond a 4-byte prefix.
func TestAuditHandlerMasksSecrets(t *testing.T) {
	secrets := map[string]string{
		"password":            "correct horse battery staple",
		"new_password":        "Tr0ub4dor&3-Tr0ub4dor&3",
		"access_token":        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJlLXZhbHVl",
		"refresh_token":       "rt_8c1d7e0b9a3f4d2e8c1d7e0b9a3f4d2e",
		"api_key":             "gk_4f9XbQ2mLk8sTz1wVh7eRy3pUc6nDj0aG5iO",
		"client_secret":       "cs_Zx8Vb7Nm6Lk5Jh4Gf3Ds2Aq1Wert",
		"code":                "482913",
		"mfa_code":            "90693936",
		"backup_code":         "K7PD-Q2WX-M9TR",
		"authorization":       "Basic b3BlcmF0b3JfMDAxOmh1bnRlcjI=",
		"Cookie":              "__Host-gh_sid=Qm9vdGhfc2Vzc2lvbl9pZF92YWx1ZQ",
		"totp_secret":         "JBSWY3DPEHPK3PXPJBSWY3DP",
		"reset_token":         "Zm9yZ290LXBhc3N3b3JkLXJlc2V0LXRva2Vu",
		"code_verifier":       "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
		"private_key":         "MC4CAQAwBQYDK2VwBCIEIKoVv1Kz0dQ7vrbW8QJ1vfhMsS",
		"upstream_credential": "ya29.a0AfH6SMBx-Kq7Lw2Zr9Tn4Pc1Vb8",
	}
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	h := auth.AuditHandler(logger)
	for _, typ := range auth.EventTypes {
		e := auth.Event{Type: typ, Time: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC),
			Subject: "user-1", Username: "operator_001", Method: auth.MethodJWT, Reason: "test",
			Attrs: map[string]string{"key_id": "key-7"}}
		for k, v := range secrets {
			e.Attrs[k] = v
		}
		if err := h(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	out := buf.String()
	if got := strings.Count(out, "\n"); got != len(auth.EventTypes) {
		t.Fatalf("%d log lines for %d event types", got, len(auth.EventTypes))
	}
	// Only Mask's 4-byte prefix may show, so no 5-byte piece of a secret may
	// appear (the secrets hold no words that occur elsewhere in the output).
	for name, s := range secrets {
		for i := 0; i+5 <= len(s); i++ {
			if sub := s[i : i+5]; strings.Contains(out, sub) {
				t.Fatalf("%s: 5-byte piece %q of the secret reached the log", name, sub)
			}
		}
		if len(s) < 16 && strings.Contains(out, s) {
			t.Fatalf("%s: short secret reached the log", name)
		}
	}
	if !strings.Contains(out, `"key_id":"key-7"`) {
		t.Fatal("non-secret attribute was masked or dropped")
	}
}
