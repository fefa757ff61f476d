package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/middleware"
)

func TestRequestIDSanitising(t *testing.T) {
	cases := []struct {
		name, in string
		echoed   bool
	}{
		{"sane id echoed", "req-42.a_B", true},
		{"uuid echoed", "2f1c7a52-9a7e-4e9b-8a3c-1e2d3c4b5a69", true},
		{"128 characters echoed", strings.Repeat("a", 128), true},
		{"129 characters replaced", strings.Repeat("a", 129), false},
		{"empty replaced", "", false},
		{"space replaced", "a b", false},
		{"log injection replaced", "abc\nlevel=ERROR msg=forged", false},
		{"html replaced", "<script>", false},
		{"unicode replaced", "идентификатор", false},
		{"quote replaced", `a"b`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var meta auth.RequestMeta
			h := middleware.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				meta = auth.RequestMetaFrom(r.Context())
			}))
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = "198.51.100.7:53121"
			r.Header.Set("User-Agent", strings.Repeat("u", 1000))
			if c.in != "" {
				r.Header.Set("X-Request-ID", c.in)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			got := w.Header().Get("X-Request-ID")
			if c.echoed != (got == c.in) {
				t.Fatalf("X-Request-ID = %q for input %q", got, c.in)
			}
			if !middleware.ValidRequestID(got) {
				t.Fatalf("response ID %q is not sane", got)
			}
			if meta.RequestID != got || meta.ClientIP != "198.51.100.7" || len(meta.UserAgent) != 256 {
				t.Fatalf("context meta = %+v", meta)
			}
		})
	}
}

func TestRequestIDGeneratesUniqueIDs(t *testing.T) {
	h := middleware.RequestID(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		id := w.Header().Get("X-Request-ID")
		if seen[id] {
			t.Fatalf("duplicate ID %q", id)
		}
		seen[id] = true
	}
}

func TestRequestIDKeepsResolvedClientIP(t *testing.T) {
	var meta auth.RequestMeta
	inner := middleware.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		meta = auth.RequestMetaFrom(r.Context())
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(auth.WithRequestMeta(r.Context(), auth.RequestMeta{ClientIP: "203.0.113.9"}))
	inner.ServeHTTP(httptest.NewRecorder(), r)
	if meta.ClientIP != "203.0.113.9" {
		t.Fatalf("ClientIP = %q", meta.ClientIP)
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := middleware.SecurityHeaders(middleware.SecurityHeadersConfig{HSTSMaxAge: 365 * 24 * 3600e9, HSTSIncludeSubdomains: true})(
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	want := map[string]string{
		"X-Content-Type-Options":    "nosniff",
		"X-Frame-Options":           "DENY",
		"Referrer-Policy":           "no-referrer",
		"Cache-Control":             "no-store",
		"Content-Security-Policy":   "default-src 'none'; frame-ancestors 'none'",
		"Strict-Transport-Security": "max-age=31536000; includeSubDomains",
	}
	for k, v := range want {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	h = middleware.SecurityHeaders(middleware.SecurityHeadersConfig{SkipNoStore: true})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Header().Get("Cache-Control") != "" || w.Header().Get("Strict-Transport-Security") != "" {
		t.Fatalf("defaults not honoured: %v", w.Header())
	}
}
