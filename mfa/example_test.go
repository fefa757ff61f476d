package mfa_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/mfa"
	"github.com/gatehouse-auth/gatehouse/middleware"
)

// A supervisor enrols TOTP, then logs in: the password step is answered
// mfa_required with an mfa_token, the code completes the login, and the same
// code replayed on a second login is refused.
func Example() {
	ctx := context.Background()
	var clock atomic.Int64 // Unix seconds; the test server reads it
	clock.Store(time.Date(2030, 1, 7, 8, 0, 10, 0, time.UTC).Unix())
	now := func() time.Time { return time.Unix(clock.Load(), 0).UTC() }
	key, _ := auth.GenerateKey()
	keyring, _ := auth.NewKeyring("k1", key)
	m, err := mfa.New(mfa.Config{
		Keyring: keyring,
		Issuer:  "Steel Plant",
		Policy:  mfa.Policy{RequiredForRoles: []string{"admin", "supervisor"}},
		Now:     now,
	})
	if err != nil {
		panic(err)
	}
	mira := mfa.User{ID: "u-42", Name: "mira", Roles: []string{"supervisor"}, CreatedAt: now().AddDate(0, -1, 0)}

	// Enrolment: show the QR code, then confirm with a code from the app.
	en, _ := m.Setup(ctx, mira)
	img, _ := png.Decode(bytes.NewReader(en.QRCodePNG))
	label, _, _ := strings.Cut(en.URL, "?")
	fmt.Printf("enrolment: %s, QR code %dx%d, %d backup codes\n", label, img.Bounds().Dx(), img.Bounds().Dy(), len(en.BackupCodes))
	app := func() string { c, _ := totp.GenerateCode(en.Secret, now()); return c }
	if err := m.Confirm(ctx, mira, app()); err != nil {
		panic(err)
	}
	clock.Add(30) // the app shows the next code

	// The login endpoints; the password check is stubbed.
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if d, _ := m.Decide(r.Context(), mira); d.Challenge {
			ch, err := m.Challenge(r.Context(), mira, "pwd")
			if err != nil {
				middleware.WriteError(w, r, err)
				return
			}
			middleware.WriteError(w, r, ch.AuthError())
		}
	})
	mux.HandleFunc("POST /login/mfa", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			MFAToken string `json:"mfa_token"`
			Code     string `json:"code"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		res, err := m.Complete(r.Context(), in.MFAToken, in.Code)
		if err != nil {
			middleware.WriteError(w, r, err)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"sub": res.UserID, "amr": res.MFA.Methods})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	call := func(path string, in any) map[string]any {
		b, _ := json.Marshal(in)
		resp, err := http.Post(srv.URL+path, "application/json", bytes.NewReader(b))
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		out["status"] = resp.StatusCode
		return out
	}

	first := call("/login", map[string]string{"username": "mira", "password": "..."})
	fmt.Println("login:", first["status"], first["error"], first["methods"])
	code := app()
	done := call("/login/mfa", map[string]any{"mfa_token": first["mfa_token"], "code": code})
	fmt.Println("login/mfa:", done["status"], done["sub"], done["amr"])

	clock.Add(2)
	second := call("/login", map[string]string{"username": "mira", "password": "..."})
	replay := call("/login/mfa", map[string]any{"mfa_token": second["mfa_token"], "code": code})
	fmt.Println("replayed code:", replay["status"], replay["error"])
	// Output:
	// enrolment: otpauth://totp/Steel%20Plant:mira, QR code 256x256, 10 backup codes
	// login: 401 mfa_required [totp backup_code]
	// login/mfa: 200 u-42 [pwd otp mfa]
	// replayed code: 401 invalid_credentials
}
