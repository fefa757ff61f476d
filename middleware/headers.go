package middleware

import (
	"net/http"
	"strconv"
	"time"
)

// SecurityHeadersConfig configures [SecurityHeaders]. The zero value sets the
// safe defaults and no HSTS.
type SecurityHeadersConfig struct {
	// HSTSMaxAge, when positive, sends Strict-Transport-Security with this
	// max-age. Enable it only when the service is served over HTTPS only.
	HSTSMaxAge time.Duration
	// HSTSIncludeSubdomains adds includeSubDomains to HSTS.
	HSTSIncludeSubdomains bool
	// SkipNoStore stops sending "Cache-Control: no-store". Leave it false on
	// routes that return credentials or personal data.
	SkipNoStore bool
	// ContentSecurityPolicy replaces the default
	// "default-src 'none'; frame-ancestors 'none'", which suits JSON APIs.
	ContentSecurityPolicy string
}

// SecurityHeaders sets on every response: X-Content-Type-Options: nosniff,
// X-Frame-Options: DENY, a Content-Security-Policy denying framing,
// Referrer-Policy: no-referrer, Cache-Control: no-store (unless skipped) and,
// when configured, Strict-Transport-Security. Handlers may override any of
// them after the middleware has run.
func SecurityHeaders(cfg SecurityHeadersConfig) func(http.Handler) http.Handler {
	csp := cfg.ContentSecurityPolicy
	if csp == "" {
		csp = "default-src 'none'; frame-ancestors 'none'"
	}
	hsts := ""
	if cfg.HSTSMaxAge > 0 {
		hsts = "max-age=" + strconv.FormatInt(int64(cfg.HSTSMaxAge/time.Second), 10)
		if cfg.HSTSIncludeSubdomains {
			hsts += "; includeSubDomains"
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Content-Security-Policy", csp)
			h.Set("Referrer-Policy", "no-referrer")
			if !cfg.SkipNoStore {
				h.Set("Cache-Control", "no-store")
			}
			if hsts != "" {
				h.Set("Strict-Transport-Security", hsts)
			}
			next.ServeHTTP(w, r)
		})
	}
}
