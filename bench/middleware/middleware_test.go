package middlewarebench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/middleware"
)

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// BenchmarkMiddlewareOverhead compares a handler behind the full
// authentication chain (one trivial authenticator, one exempt pattern
// checked and missed) with the bare handler. The difference is the chain's
// overhead per request.
func BenchmarkMiddlewareOverhead(b *testing.B) {
	principal := &auth.Principal{Subject: "user-1", Method: auth.MethodJWT}
	trivial := auth.AuthenticatorFunc(func(*http.Request) (*auth.Principal, error) { return principal, nil })
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Context() == nil {
			b.Fatal("nil context")
		}
	})
	chain := middleware.Authenticate([]auth.Authenticator{trivial}, middleware.Exempt("/healthz"))(handler)
	req := httptest.NewRequest("GET", "/api/v1/predictions", nil)
	w := &nopWriter{h: http.Header{}}

	b.Run("gatehouse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			chain.ServeHTTP(w, req)
		}
	})
	// stdlib-withcontext is the floor of any middleware that hands a value to
	// the next handler: one context value and one request copy.
	type key struct{}
	b.Run("stdlib-withcontext", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			handler.ServeHTTP(w, req.WithContext(context.WithValue(req.Context(), key{}, principal)))
		}
	})
	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			handler.ServeHTTP(w, req)
		}
	})
}
