package authapi

import "time"

// Request bodies. Every field is validated by its handler; unknown fields
// are rejected by decodeJSON.

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	MFACode  string `json:"mfa_code,omitempty"`
	Session  bool   `json:"session,omitempty"`
}

type loginMFARequest struct {
	MFAToken string `json:"mfa_token"`
	Code     string `json:"code"`
	Session  bool   `json:"session,omitempty"`
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

type revokeRequest struct {
	Token string `json:"token"`
	// TokenTypeHint is accepted for RFC 7009 compatibility and ignored.
	TokenTypeHint string `json:"token_type_hint,omitempty"`
}

type createAPIKeyRequest struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Permissions []string          `json:"permissions"`
	ExpiresAt   *time.Time        `json:"expires_at,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

type rotateAPIKeyRequest struct {
	GraceSeconds *int64 `json:"grace_seconds,omitempty"`
}

type mfaSetupRequest struct {
	Method string `json:"method"`
}

type mfaCodeRequest struct {
	Code string `json:"code"`
}

type mfaDisableRequest struct {
	Code     string `json:"code,omitempty"`
	Password string `json:"password,omitempty"`
}

type passwordChangeRequest struct {
	OldPassword string `json:"old_password"`
	NewPassword string `json:"new_password"`
}

type passwordForgotRequest struct {
	Email string `json:"email"`
}

type passwordResetRequest struct {
	Token       string `json:"token"`
	NewPassword string `json:"new_password"`
}

type createUserRequest struct {
	Username string   `json:"username"`
	Email    string   `json:"email,omitempty"`
	Password string   `json:"password"`
	Roles    []string `json:"roles"`
}

type updateUserRequest struct {
	Email    *string  `json:"email,omitempty"`
	Roles    []string `json:"roles,omitempty"`
	Disabled *bool    `json:"disabled,omitempty"`
}

type emptyRequest struct{}

// requestTypes returns a fresh value of every request type, for the fuzz
// target over the decoders.
func requestTypes() []any {
	return []any{
		&loginRequest{}, &loginMFARequest{}, &refreshRequest{}, &revokeRequest{},
		&createAPIKeyRequest{}, &rotateAPIKeyRequest{}, &mfaSetupRequest{}, &mfaCodeRequest{},
		&mfaDisableRequest{}, &passwordChangeRequest{}, &passwordForgotRequest{},
		&passwordResetRequest{}, &createUserRequest{}, &updateUserRequest{}, &emptyRequest{},
	}
}
