package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gatehouse-auth/gatehouse/oauth2provider"
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

// The link from an IdP identity to its local user is the user store
// itself: the same identity finds the same user after a restart on -db,
// gets the roles of its latest login, and stays refused once disabled.
func TestSSOAccountsLinkSurvivesRestart(t *testing.T) {
	cfg := storeConfig(t, "-db", filepath.Join(t.TempDir(), "plant.db"))
	cfg.demoPassword = demoPassword
	cfg.insecureFastHash = true
	cfg.printTo = func(string, ...any) {}
	open := func() *app {
		t.Helper()
		a, err := newApp(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	ctx := context.Background()
	id := oauth2provider.Identity{Issuer: "https://idp.plant.example", Subject: "00u1abc", Username: "j.smith", Roles: []string{"operator"}}
	other := id
	other.Subject = "00u2def"

	a := open()
	first, err := (&ssoAccounts{users: a.users}).Resolve(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	second, err := (&ssoAccounts{users: a.users}).Resolve(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if first.Subject == second.Subject {
		t.Fatalf("two IdP subjects share local user %s", first.Subject)
	}
	a.Close()

	a = open()
	defer a.Close()
	accounts := &ssoAccounts{users: a.users}
	id.Roles = []string{"engineer"}
	again, err := accounts.Resolve(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if again.Subject != first.Subject || !slices.Equal(again.Roles, []string{"engineer"}) {
		t.Fatalf("after restart: user %s roles %v, want user %s roles [engineer]", again.Subject, again.Roles, first.Subject)
	}
	if err := a.users.Disable(ctx, first.Subject); err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.Resolve(ctx, id); err == nil {
		t.Fatal("a disabled SSO user signed in")
	}
}
