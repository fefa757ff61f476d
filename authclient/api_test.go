package authclient_test

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/authclient"
)

func TestTypedCalls(t *testing.T) {
	f := newFakeAPI()
	srv := f.server(t)
	c := newClient(t, srv.URL+authPrefix, authclient.WithPassword(opUser, opPass))
	ctx := t.Context()

	me, err := c.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if me.ID != "u1" || me.Username != opUser || !slices.Equal(me.Roles, []string{"operator"}) ||
		!slices.Contains(me.Permissions, "predictions:read") || me.AuthMethod != "jwt" {
		t.Errorf("Me = %+v", me)
	}
	ti, err := c.TokenInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ti.JTI != "j-1" || ti.Subject != opUser || !ti.ExpiresAt.Equal(time.Date(2026, 11, 22, 8, 15, 0, 0, time.UTC)) {
		t.Errorf("TokenInfo = %+v", ti)
	}

	t.Run("API keys", func(t *testing.T) {
		k, err := c.APIKeys.Create(ctx, authclient.CreateAPIKeyRequest{
			Name: "line-3 sensor gateway", Permissions: []string{"predictions:read", "sensors:read"}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(k.Key, "gk_") || k.ID == "" || !slices.Equal(k.Permissions, []string{"predictions:read", "sensors:read"}) {
			t.Errorf("Create = %#v", k)
		}
		if body := f.body("POST " + authPrefix + "/api-keys"); strings.Contains(body, "expires_at") || strings.Contains(body, "description") {
			t.Errorf("zero optional fields were sent: %s", body)
		}
		// The new key works on the host's API through a client of its own.
		kc := newClient(t, srv.URL+authPrefix, authclient.WithAPIKey(k.Key))
		if st, body := get(t, kc.HTTPClient(), srv.URL+"/api/v1/data"); st != 200 || body["user"] != opUser {
			t.Errorf("using the new key: status %d body %v", st, body)
		}
		list, err := c.APIKeys.List(ctx)
		if err != nil || len(list) != 1 || list[0].ID != k.ID {
			t.Errorf("List = %+v, %v", list, err)
		}
		got, err := c.APIKeys.Get(ctx, k.ID)
		if err != nil || got.Name != "line-3 sensor gateway" {
			t.Errorf("Get = %+v, %v", got, err)
		}
		rot, err := c.APIKeys.Rotate(ctx, k.ID)
		if err != nil || rot.Key == k.Key || rot.Key == "" {
			t.Errorf("Rotate = %v, %v", rot, err)
		}
		if err := c.APIKeys.Revoke(ctx, rot.ID); err != nil {
			t.Errorf("Revoke: %v", err)
		}
		if _, err := c.APIKeys.Get(ctx, "k-missing"); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("Get of a missing key: %v, want not_found", err)
		}
		for _, id := range []string{"", "..", "k1/rotate", `k1\x`, "k1\n"} {
			if _, err := c.APIKeys.Get(ctx, id); err == nil || errors.As(err, new(*authclient.Error)) {
				t.Errorf("Get(%q) = %v, want a local refusal", id, err)
			}
		}
	})

	t.Run("MFA", func(t *testing.T) {
		setup, err := c.MFA.Setup(ctx, "")
		if err != nil || setup.Secret == "" || len(setup.BackupCodes) != 2 || !strings.HasPrefix(setup.QRCode, "data:image/png") {
			t.Fatalf("Setup = %#v, %v", setup, err)
		}
		if body := f.body("POST " + authPrefix + "/mfa/setup"); body != `{"method":"totp"}` {
			t.Errorf("setup body %s", body)
		}
		if err := c.MFA.Verify(ctx, "111111"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Errorf("Verify with a wrong code: %v", err)
		}
		if err := c.MFA.Verify(ctx, "654321"); err != nil {
			t.Errorf("Verify: %v", err)
		}
		if err := c.MFA.Disable(ctx, authclient.MFADisableRequest{Code: "654321"}); err != nil {
			t.Errorf("Disable: %v", err)
		}
		if body := f.body("POST " + authPrefix + "/mfa/disable"); body != `{"code":"654321"}` {
			t.Errorf("disable body %s", body)
		}
	})

	t.Run("sessions", func(t *testing.T) {
		list, err := c.Sessions.List(ctx)
		if err != nil || len(list) != 1 || list[0].ID != "s1" || !list[0].Current || list[0].ClientIP != "192.0.2.7" {
			t.Fatalf("List = %+v, %v", list, err)
		}
		if err := c.Sessions.Revoke(ctx, "s1"); err != nil {
			t.Errorf("Revoke: %v", err)
		}
	})

	t.Run("password change logs in with the new password", func(t *testing.T) {
		before := f.logins.Load()
		if err := c.Password.Change(ctx, "wrong old password", "new passphrase 1"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Errorf("Change with a wrong old password: %v", err)
		}
		if err := c.Password.Change(ctx, opPass, "rolling mill at dawn"); err != nil {
			t.Fatal(err)
		}
		if me, err := c.Me(ctx); err != nil || me.Username != opUser {
			t.Fatalf("Me after change: %+v, %v", me, err)
		}
		if f.logins.Load() != before+1 {
			t.Errorf("logins %d, want %d", f.logins.Load(), before+1)
		}
	})

	t.Run("logout revokes the refresh token then the access token", func(t *testing.T) {
		if _, err := c.Me(ctx); err != nil {
			t.Fatal(err)
		}
		before := len(f.revokedTokens())
		if err := c.Logout(ctx); err != nil {
			t.Fatal(err)
		}
		revoked := f.revokedTokens()[before:]
		if len(revoked) != 2 || !strings.HasPrefix(revoked[0], "rt-") || !strings.HasPrefix(revoked[1], "at-") {
			t.Errorf("revoked %v, want the refresh then the access token", revoked)
		}
		logins := f.logins.Load()
		if _, err := c.Me(ctx); err != nil || f.logins.Load() != logins+1 {
			t.Errorf("after logout: %v, logins %d (want a new login)", err, f.logins.Load())
		}
		if err := c.Revoke(ctx, ""); err == nil {
			t.Error("Revoke of an empty token was sent")
		}
	})

	t.Run("revoke-all", func(t *testing.T) {
		logins := f.logins.Load()
		if err := c.RevokeAll(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Me(ctx); err != nil || f.logins.Load() != logins+1 {
			t.Errorf("after revoke-all: %v, logins %d (want a new login)", err, f.logins.Load())
		}
	})
}

func TestSecretsStayOutOfPrintsAndLogs(t *testing.T) {
	values := []struct {
		name, secret string
		v            any
	}{
		{"MFA challenge", "mfa-tok-9f8e7d", authclient.MFAChallenge{Token: "mfa-tok-9f8e7d", Methods: []string{"totp"}}},
		{"issued API key", "gk_live_Zq81sEcReT", authclient.IssuedAPIKey{Key: "gk_live_Zq81sEcReT",
			APIKey: authclient.APIKey{ID: "k1", Prefix: "gk_live_Zq"}}},
		{"MFA setup secret", "JBSWY3DPEHPK3PXP", authclient.MFASetup{Secret: "JBSWY3DPEHPK3PXP",
			OTPAuthURL: "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP", BackupCodes: []string{"bk-1"}}},
		{"MFA setup backup code", "bk-77aa", authclient.MFASetup{BackupCodes: []string{"bk-77aa"}}},
	}
	for _, tt := range values {
		t.Run(tt.name, func(t *testing.T) {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
				if out := fmt.Sprintf(verb, tt.v); strings.Contains(out, tt.secret) {
					t.Errorf("fmt %s prints the secret: %s", verb, out)
				}
				if out := fmt.Sprintf(verb, &tt.v); strings.Contains(out, tt.secret) {
					t.Errorf("fmt %s of a pointer prints the secret: %s", verb, out)
				}
			}
			var b strings.Builder
			slog.New(slog.NewJSONHandler(&b, nil)).Info("x", "value", tt.v)
			slog.New(slog.NewTextHandler(&b, nil)).Info("x", "value", tt.v)
			if strings.Contains(b.String(), tt.secret) {
				t.Errorf("slog writes the secret: %s", b.String())
			}
		})
	}
}
