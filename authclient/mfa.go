package authclient

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
)

// MFAService manages the caller's second factor (the /mfa routes). Get it
// from [Client.MFA]; it is safe for concurrent use.
type MFAService struct{ c *Client }

// MFASetup is the answer of POST /mfa/setup: the TOTP secret (RFC 6238) in
// the forms an authenticator app reads, and the backup codes. The factor is
// not on until [MFAService.Verify] succeeds.
//
// String, GoString and LogValue leave the secrets out.
type MFASetup struct {
	// Secret is the base32 TOTP secret.
	Secret string `json:"secret"`
	// OTPAuthURL is the otpauth:// URL holding the secret.
	OTPAuthURL string `json:"otpauth_url"`
	// QRCode is a data: URL of a PNG image of OTPAuthURL.
	QRCode string `json:"qr_code"`
	// BackupCodes are single-use codes, shown once.
	BackupCodes []string `json:"backup_codes"`
}

// String describes the setup without its secrets.
func (m MFASetup) String() string {
	return fmt.Sprintf("mfa setup ([redacted] secret, %d backup codes)", len(m.BackupCodes))
}

// GoString describes the setup without its secrets.
func (m MFASetup) GoString() string { return "authclient.MFASetup{" + m.String() + "}" }

// LogValue implements slog.LogValuer, leaving the secrets out.
func (m MFASetup) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("backup_codes", len(m.BackupCodes)))
}

// Setup starts enrolling a second factor (POST /mfa/setup). method is the
// factor; empty means "totp", the one the API offers.
func (s *MFAService) Setup(ctx context.Context, method string) (*MFASetup, error) {
	if method == "" {
		method = "totp"
	}
	in := struct {
		Method string `json:"method"`
	}{method}
	var m MFASetup
	if err := s.c.call(ctx, http.MethodPost, "/mfa/setup", in, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// Verify turns the factor started by Setup on, proving it with a current
// code (POST /mfa/verify).
func (s *MFAService) Verify(ctx context.Context, code string) error {
	in := struct {
		Code string `json:"code"`
	}{code}
	return s.c.call(ctx, http.MethodPost, "/mfa/verify", in, nil)
}

// MFADisableRequest is the body of POST /mfa/disable. Empty fields are not
// sent; which proof the server asks for is its choice.
type MFADisableRequest struct {
	// Code is a current TOTP or backup code.
	Code string `json:"code,omitempty"`
	// Password is the caller's password.
	Password string `json:"password,omitempty"`
}

// Disable turns the second factor off (POST /mfa/disable).
func (s *MFAService) Disable(ctx context.Context, req MFADisableRequest) error {
	return s.c.call(ctx, http.MethodPost, "/mfa/disable", req, nil)
}
