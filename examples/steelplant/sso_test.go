package main

import (
	"testing"
)

func TestSSOFlags(t *testing.T) {
	if _, err := parseFlags([]string{"-oidc-issuer", "https://idp.plant.example"}); err == nil {
		t.Fatal("-oidc-issuer without -oidc-client-id accepted")
	}
}

// With an IdP that cannot be reached the server still starts, and the login
// route answers 503 rather than redirecting anywhere.
func TestSSOUnreachableIdP(t *testing.T) {
	h := newHarness(t, func(c *config) {
		c.oidcIssuer, c.oidcClientID, c.oidcClientSecret = "http://127.0.0.1:1", "steelplant", "s3cret-s3cret-s3cret"
	})
	r := h.do("GET", "/api/v1/auth/oidc/login", nil)
	h.expect(r, 503, "unavailable")
	if loc := r.header.Get("Location"); loc != "" {
		t.Fatalf("redirected to %q", loc)
	}
}
