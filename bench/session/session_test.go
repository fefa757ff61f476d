// Package sessionbench compares authenticating a request by its session
// cookie in Gatehouse with alexedwards/scs.
package sessionbench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/session"
)

// numSessions is how many sessions each store holds.
const numSessions = 100_000

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// BenchmarkSessionAuthenticate measures one request carrying a valid session
// cookie, against a store holding 100k sessions.
//
// gatehouse: Manager.Authenticate on the in-memory store (cookie parse,
// SHA-256 of the secret, lookup, expiry check, principal built; the idle
// deadline is not due, as for all but one request a minute).
//
// scs: LoadAndSave with its memstore around a handler that reads one value
// (token lookup, gob decoding of the session data, value read).
func BenchmarkSessionAuthenticate(b *testing.B) {
	b.Run("gatehouse", func(b *testing.B) {
		store := session.NewMemoryStoreWith(session.MemoryStoreConfig{SweepInterval: -1})
		m, err := session.New(session.Config{Store: store})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		var last *http.Cookie
		for i := range numSessions {
			w := httptest.NewRecorder()
			p := &auth.Principal{Subject: fmt.Sprintf("user-%d", i), Username: fmt.Sprintf("u%d", i), Roles: []string{"operator"}}
			if _, err := m.Create(ctx, w, p, session.Meta{ClientIP: "203.0.113.9", UserAgent: "bench"}); err != nil {
				b.Fatal(err)
			}
			if i == numSessions/2 {
				last = w.Result().Cookies()[0]
			}
		}
		r := httptest.NewRequest("GET", "https://plant.example/api/v1/alerts", nil)
		r.AddCookie(last)
		if p, err := m.Authenticate(r); err != nil || p.Subject != fmt.Sprintf("user-%d", numSessions/2) {
			b.Fatalf("Authenticate = %v, %v", p, err)
		}
		runtime.GC() // collect the setup's garbage before timing
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			p, err := m.Authenticate(r)
			if err != nil || p == nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("scs", func(b *testing.B) {
		sm := scs.New()
		ms := memstore.NewWithCleanupInterval(0)
		sm.Store = ms
		sm.Lifetime = 12 * time.Hour
		sm.IdleTimeout = 30 * time.Minute
		var token string
		for i := range numSessions {
			ctx, err := sm.Load(context.Background(), "")
			if err != nil {
				b.Fatal(err)
			}
			sm.Put(ctx, "user_id", fmt.Sprintf("user-%d", i))
			tok, _, err := sm.Commit(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if i == numSessions/2 {
				token = tok
			}
		}
		want := fmt.Sprintf("user-%d", numSessions/2)
		var got string
		h := sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = sm.GetString(r.Context(), "user_id")
		}))
		r := httptest.NewRequest("GET", "https://plant.example/api/v1/alerts", nil)
		r.AddCookie(&http.Cookie{Name: sm.Cookie.Name, Value: token})
		w := &nopWriter{h: http.Header{}}
		h.ServeHTTP(w, r)
		if got != want {
			b.Fatalf("handler read %q, want %q", got, want)
		}
		runtime.GC() // collect the setup's garbage before timing
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			clear(w.h)
			h.ServeHTTP(w, r)
		}
		if got != want {
			b.Fatalf("handler read %q", got)
		}
	})
}
