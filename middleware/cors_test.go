package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/middleware"
)

func corsHandler(t *testing.T, cfg middleware.CORSConfig) (http.Handler, *int) {
	t.Helper()
	mw, err := middleware.CORS(cfg)
	if err != nil {
		t.Fatal(err)
	}
	reached := new(int)
	return mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { *reached++ })), reached
}

func TestCORSConfigValidation(t *testing.T) {
	bad := []middleware.CORSConfig{
		{AllowedOrigins: []string{"*"}, AllowCredentials: true},
		{AllowedOrigins: []string{"null"}},
		{AllowedOrigins: []string{"https://a.example/path"}},
		{AllowedOrigins: []string{"a.example"}},
		{AllowedOrigins: []string{"ftp://a.example"}},
		{AllowedOrigins: []string{"https://user@a.example"}},
	}
	for _, c := range bad {
		if _, err := middleware.CORS(c); err == nil {
			t.Errorf("CORS(%+v) accepted", c)
		}
	}
}

func TestCORSFetchCases(t *testing.T) {
	h, reached := corsHandler(t, middleware.CORSConfig{
		AllowedOrigins:   []string{"https://dashboard.plant.example"},
		AllowCredentials: true,
	})
	type req struct {
		method  string
		headers map[string]string
	}
	tests := []struct {
		name        string
		req         req
		status      int
		acao        string
		acac        string
		reachesNext bool
	}{
		{"same-origin request without Origin passes untouched", req{"GET", nil}, 200, "", "", true},
		{"allowed origin gets its origin echoed", req{"GET", map[string]string{"Origin": "https://dashboard.plant.example"}}, 200, "https://dashboard.plant.example", "true", true},
		{"origin compared case-insensitively in host", req{"GET", map[string]string{"Origin": "https://DASHBOARD.plant.example"}}, 200, "https://DASHBOARD.plant.example", "true", true},
		{"foreign origin gets no CORS headers", req{"GET", map[string]string{"Origin": "https://evil.example"}}, 200, "", "", true},
		{"suffix look-alike refused", req{"GET", map[string]string{"Origin": "https://dashboard.plant.example.evil.example"}}, 200, "", "", true},
		{"scheme downgrade refused", req{"GET", map[string]string{"Origin": "http://dashboard.plant.example"}}, 200, "", "", true},
		{"null origin refused", req{"GET", map[string]string{"Origin": "null"}}, 200, "", "", true},
		{"preflight allowed", req{"OPTIONS", map[string]string{"Origin": "https://dashboard.plant.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}}, 204, "https://dashboard.plant.example", "true", false},
		{"preflight with unlisted header refused", req{"OPTIONS", map[string]string{"Origin": "https://dashboard.plant.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-evil"}}, 204, "", "", false},
		{"preflight with unlisted method refused", req{"OPTIONS", map[string]string{"Origin": "https://dashboard.plant.example", "Access-Control-Request-Method": "TRACE"}}, 204, "", "", false},
		{"preflight method is case-sensitive", req{"OPTIONS", map[string]string{"Origin": "https://dashboard.plant.example", "Access-Control-Request-Method": "post"}}, 204, "", "", false},
		{"preflight from foreign origin refused", req{"OPTIONS", map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}}, 204, "", "", false},
		{"plain OPTIONS is not a preflight", req{"OPTIONS", map[string]string{"Origin": "https://dashboard.plant.example"}}, 200, "https://dashboard.plant.example", "true", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			*reached = 0
			r := httptest.NewRequest(tt.req.method, "/api/v1/predictions", nil)
			for k, v := range tt.req.headers {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != tt.acao {
				t.Fatalf("ACAO = %q, want %q", got, tt.acao)
			}
			if got := w.Header().Get("Access-Control-Allow-Credentials"); got != tt.acac {
				t.Fatalf("ACAC = %q, want %q", got, tt.acac)
			}
			if (*reached == 1) != tt.reachesNext {
				t.Fatalf("handler reached %d times", *reached)
			}
			if !strings.Contains(strings.Join(w.Header().Values("Vary"), ","), "Origin") {
				t.Fatal("Vary: Origin missing")
			}
			if tt.acao != "" && tt.req.method != "OPTIONS" {
				exp := w.Header().Get("Access-Control-Expose-Headers")
				for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After", "X-Request-ID"} {
					if !strings.Contains(exp, h) {
						t.Fatalf("Expose-Headers %q lacks %s", exp, h)
					}
				}
			}
			if tt.status == 204 && tt.acao != "" && w.Header().Get("Access-Control-Max-Age") != "600" {
				t.Fatalf("Max-Age = %q", w.Header().Get("Access-Control-Max-Age"))
			}
		})
	}
}

func TestCORSWildcardWithoutCredentials(t *testing.T) {
	h, _ := corsHandler(t, middleware.CORSConfig{AllowedOrigins: []string{"*"}})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Origin", "https://any.example")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Header().Get("Access-Control-Allow-Origin") != "*" || w.Header().Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("wildcard headers: %v", w.Header())
	}
}
