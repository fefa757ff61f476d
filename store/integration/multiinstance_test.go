package integration_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestTokensSessionsAndKeysCrossInstances: whatever one instance issues,
// the other accepts.
func TestTokensSessionsAndKeysCrossInstances(t *testing.T) {
	sh := newShared(t)
	a, b := sh.newStack(t, stackConfig{}), sh.newStack(t, stackConfig{})
	a.createUser(t, "alice")

	access, _ := a.mustLogin(t, "alice")
	if r := b.me(t, access); r.status != http.StatusOK || r.str("username") != "alice" {
		t.Fatalf("access token from A on B: %d %v", r.status, r.body)
	}

	r := a.do(t, request{method: "POST", path: "/login", body: map[string]any{"username": "alice", "password": password, "session": true}})
	if r.status != http.StatusOK || len(r.cookies) == 0 {
		t.Fatalf("session login on A: %d %v (cookies %v)", r.status, r.body, r.cookies)
	}
	if got := b.do(t, request{method: "GET", path: "/me", cookies: r.cookies}); got.status != http.StatusOK || got.str("auth_method") != "session" {
		t.Fatalf("session cookie from A on B: %d %v", got.status, got.body)
	}

	k := a.do(t, request{method: "POST", path: "/api-keys", bearer: access,
		body: map[string]any{"name": "ci", "permissions": []string{"dashboard:read"}}})
	if k.status != http.StatusCreated || k.str("api_key") == "" {
		t.Fatalf("create API key on A: %d %v", k.status, k.body)
	}
	if got := b.me(t, k.str("api_key")); got.status != http.StatusOK || got.str("auth_method") != "api_key" {
		t.Fatalf("API key from A on B: %d %v", got.status, got.body)
	}
	if got := b.do(t, request{method: "DELETE", path: "/api-keys/" + k.str("id"), bearer: access}); got.status >= 300 {
		t.Fatalf("delete API key on B: %d %v", got.status, got.body)
	}
	if got := a.me(t, k.str("api_key")); got.status != http.StatusUnauthorized {
		t.Fatalf("API key deleted on B, used on A: %d %v, want 401", got.status, got.body)
	}
}

// TestRevokeAllReachesOtherInstance: a revoke-all on B is enforced on A
// within the documented bound, for both revocation mirrors.
func TestRevokeAllReachesOtherInstance(t *testing.T) {
	for _, tc := range []struct {
		name          string
		pgRevocations bool
	}{
		{"redis pub/sub mirror", false},
		{"postgres polling mirror", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sh := newShared(t)
			a := sh.newStack(t, stackConfig{pgRevocations: tc.pgRevocations})
			b := sh.newStack(t, stackConfig{pgRevocations: tc.pgRevocations})
			a.createUser(t, "alice")
			access, refresh := a.mustLogin(t, "alice")
			// Both instances have verified (and cached) the token.
			for _, s := range []*stack{a, b} {
				if r := s.me(t, access); r.status != http.StatusOK {
					t.Fatalf("before revoke-all: %d %v", r.status, r.body)
				}
			}

			sent := time.Now()
			if r := b.do(t, request{method: "POST", path: "/revoke-all", bearer: access, body: map[string]any{}}); r.status != http.StatusOK {
				t.Fatalf("revoke-all on B: %d %v", r.status, r.body)
			}
			answered := time.Now()
			var last response
			delay, ok := pollUntil(3*time.Second, 10*time.Millisecond, func() bool {
				last = a.me(t, access)
				if last.status == http.StatusOK {
					return false
				}
				if last.status != http.StatusUnauthorized || last.code() != "token_revoked" {
					t.Fatalf("revoked token on A: %d %v, want 401 token_revoked", last.status, last.body)
				}
				return true
			})
			if !ok {
				t.Fatalf("revoke-all on B still not enforced on A after %v", delay)
			}
			t.Logf("revoke-all on B enforced on A %v after B answered, %v after it was sent (bound %v)",
				delay, answered.Sub(sent)+delay, revocationMaxStaleness)
			if margin := 500 * time.Millisecond; delay > revocationMaxStaleness+margin {
				t.Errorf("revocation took %v to reach A, beyond the bound %v (+%v margin)", delay, revocationMaxStaleness, margin)
			}
			if r := b.me(t, access); r.status != http.StatusUnauthorized || r.code() != "token_revoked" {
				t.Errorf("revoked token on B: %d %v, want 401 token_revoked", r.status, r.body)
			}
			if r := a.do(t, request{method: "POST", path: "/refresh", body: map[string]any{"refresh_token": refresh}}); r.status != http.StatusUnauthorized {
				t.Errorf("refresh after revoke-all, on A: %d %v, want 401", r.status, r.body)
			}
			// A new login is not caught by the old revocation.
			fresh, _ := b.mustLogin(t, "alice")
			if r := a.me(t, fresh); r.status != http.StatusOK {
				t.Errorf("token issued after the revoke-all, on A: %d %v", r.status, r.body)
			}
		})
	}
}

// TestRateLimitIsShared: requests spread over A and B draw on one limit.
func TestRateLimitIsShared(t *testing.T) {
	sh := newShared(t)
	const limit = 6
	a := sh.newStack(t, stackConfig{authLimit: limit})
	b := sh.newStack(t, stackConfig{authLimit: limit})
	for i := range limit {
		s := []*stack{a, b}[i%2]
		// A different unknown user each time, so that no lockout interferes:
		// the answers are 401s, each one counted by the limit.
		if r := s.login(t, fmt.Sprintf("nobody%d", i), "wrong password"); r.status != http.StatusUnauthorized {
			t.Fatalf("request %d within the shared limit: %d %v, want 401", i+1, r.status, r.body)
		}
	}
	for _, s := range []*stack{a, b} {
		if r := s.login(t, "somebody-else", "wrong password"); r.status != http.StatusTooManyRequests || r.code() != "rate_limited" {
			t.Fatalf("request past the shared limit: %d %v, want 429 rate_limited", r.status, r.body)
		}
	}
}

// TestLockoutIsShared: failed logins on A and B add up to one lock, which
// both enforce even for the right password.
func TestLockoutIsShared(t *testing.T) {
	sh := newShared(t)
	const maxFailures = 4
	a := sh.newStack(t, stackConfig{maxFailures: maxFailures})
	b := sh.newStack(t, stackConfig{maxFailures: maxFailures})
	a.createUser(t, "bob")
	for i := range maxFailures - 1 {
		s := []*stack{a, b}[i%2]
		if r := s.login(t, "bob", "wrong password"); r.status != http.StatusUnauthorized || r.code() != "invalid_credentials" {
			t.Fatalf("failure %d: %d %v, want 401 invalid_credentials", i+1, r.status, r.body)
		}
	}
	if r := b.login(t, "bob", "wrong password"); r.status != http.StatusTooManyRequests || r.code() != "account_locked" {
		t.Fatalf("failure %d (the locking one): %d %v, want 429 account_locked", maxFailures, r.status, r.body)
	}
	for _, s := range []*stack{a, b} {
		if r := s.login(t, "bob", password); r.status != http.StatusTooManyRequests || r.code() != "account_locked" {
			t.Fatalf("right password while locked: %d %v, want 429 account_locked", r.status, r.body)
		}
	}
}

// TestRefreshReuseAcrossInstances: a refresh token rotated on A and replayed
// on B revokes the whole family.
func TestRefreshReuseAcrossInstances(t *testing.T) {
	sh := newShared(t)
	a, b := sh.newStack(t, stackConfig{}), sh.newStack(t, stackConfig{})
	a.createUser(t, "carol")
	_, first := a.mustLogin(t, "carol")

	r := a.do(t, request{method: "POST", path: "/refresh", body: map[string]any{"refresh_token": first}})
	if r.status != http.StatusOK || r.str("refresh_token") == "" {
		t.Fatalf("refresh on A: %d %v", r.status, r.body)
	}
	second := r.str("refresh_token")

	if r := b.do(t, request{method: "POST", path: "/refresh", body: map[string]any{"refresh_token": first}}); r.status != http.StatusUnauthorized {
		t.Fatalf("reused refresh token on B: %d %v, want 401", r.status, r.body)
	}
	// The reuse revoked the family: the legitimate successor is dead too,
	// on both instances.
	for name, s := range map[string]*stack{"A": a, "B": b} {
		if r := s.do(t, request{method: "POST", path: "/refresh", body: map[string]any{"refresh_token": second}}); r.status != http.StatusUnauthorized {
			t.Fatalf("successor after reuse, on %s: %d %v, want 401", name, r.status, r.body)
		}
	}
}
