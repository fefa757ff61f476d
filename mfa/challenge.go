package mfa

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/internal/secure"
)

// maxTokenLength caps an mfa_token before it is hashed.
const maxTokenLength = 128

// Challenge is a pending login: the first step succeeded and a second factor
// is due. Token is the mfa_token the client sends back with a code to
// [Manager.Complete]; it is single use, bound to the user and to the first
// step, and expires at ExpiresAt. Only its hash is stored.
//
// String, GoString and LogValue leave the token out.
type Challenge struct {
	// Token is the mfa_token (256 random bits, base64url).
	Token string
	// IssuedAt is when the challenge was opened.
	IssuedAt time.Time
	// ExpiresAt is when the token stops working.
	ExpiresAt time.Time
	// Methods lists the factors the user can answer with.
	Methods []Method
}

// String describes c without its token.
func (c Challenge) String() string {
	ms := make([]string, len(c.Methods))
	for i, m := range c.Methods {
		ms[i] = string(m)
	}
	return "mfa challenge (methods " + strings.Join(ms, ", ") + ")"
}

// GoString describes c without its token.
func (c Challenge) GoString() string { return "mfa.Challenge{" + c.String() + "}" }

// LogValue implements slog.LogValuer, leaving the token out.
func (c Challenge) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("methods", c.Methods), slog.Time("expires_at", c.ExpiresAt))
}

// AuthError returns the answer to the first step of the login: a 401
// mfa_required error whose details carry "mfa_token", "methods" and
// "expires_in" (seconds from IssuedAt to ExpiresAt), for
// middleware.WriteError.
func (c Challenge) AuthError() *auth.Error {
	ms := make([]string, len(c.Methods))
	for i, m := range c.Methods {
		ms[i] = string(m)
	}
	return &auth.Error{
		Code:        auth.CodeMFARequired,
		Description: "a second factor is required",
		Details: map[string]any{
			"mfa_token":  c.Token,
			"methods":    ms,
			"expires_in": int64(max(c.ExpiresAt.Sub(c.IssuedAt), 0).Round(time.Second) / time.Second),
		},
	}
}

// Challenge opens a login challenge for u, whose first step (firstFactor,
// an RFC 8176 "amr" value; empty means "pwd") just succeeded and for whom
// [Manager.Decide] reported a second factor due. It stores the hash of a new
// mfa_token that lives ChallengeTTL (5 minutes) and emits mfa_challenge.
// When u has no factor available it fails with mfa_required wrapping
// [ErrNoMethod].
func (m *Manager) Challenge(ctx context.Context, u User, firstFactor string) (*Challenge, error) {
	if u.ID == "" {
		return nil, errNoUserID
	}
	if firstFactor == "" {
		firstFactor = "pwd"
	}
	methods, _, err := m.methods(ctx, u)
	if err != nil {
		return nil, err
	}
	if len(methods) == 0 {
		return nil, auth.WrapError(auth.CodeMFARequired, "no second factor is set up", ErrNoMethod)
	}
	now := m.cfg.Now()
	token := secure.Token(32)
	rec := ChallengeRecord{
		TokenHash:   secure.HashHex(token),
		User:        u,
		FirstFactor: firstFactor,
		CreatedAt:   now,
		ExpiresAt:   now.Add(m.cfg.ChallengeTTL),
	}
	if err := m.store.CreateChallenge(ctx, rec); err != nil {
		return nil, fmt.Errorf("mfa: storing challenge: %w", err)
	}
	ms := make([]string, len(methods))
	for i, meth := range methods {
		ms[i] = string(meth)
	}
	e := m.event(ctx, auth.EventMFAChallenge, u.ID, u.Name, "login")
	e.Attrs = map[string]string{"factors": strings.Join(ms, ",")}
	auth.Emit(m.cfg.Events, e)
	return &Challenge{Token: token, IssuedAt: now, ExpiresAt: rec.ExpiresAt, Methods: methods}, nil
}

// challenge returns the live challenge of token.
func (m *Manager) challenge(ctx context.Context, token string) (ChallengeRecord, error) {
	if token == "" || len(token) > maxTokenLength || !auth.IsB64Token(token) {
		return ChallengeRecord{}, errBadToken()
	}
	rec, err := m.store.GetChallenge(ctx, secure.HashHex(token), m.cfg.Now())
	if err != nil {
		if isNotFound(err) {
			return ChallengeRecord{}, errBadToken()
		}
		return ChallengeRecord{}, fmt.Errorf("mfa: reading challenge: %w", err)
	}
	return rec, nil
}

// errBadToken is the answer to an unknown, expired or spent mfa_token.
func errBadToken() error {
	return auth.WrapError(auth.CodeInvalidToken, "the mfa_token is invalid or has expired; log in again", ErrInvalidToken)
}

// Complete finishes a login challenge with a code (TOTP, backup or sent
// code, as for [Manager.Verify]). On success the mfa_token is spent and the
// Result names the user and carries the MFA state for the credential to
// issue, with the first factor in front (["pwd", "otp", "mfa"]).
//
// A wrong code leaves the token usable until it expires (the attempts
// limiter bounds the guesses); an unknown, expired or spent token fails with
// invalid_token wrapping [ErrInvalidToken]. When two requests complete one
// token at once, one wins and the other gets invalid_token.
func (m *Manager) Complete(ctx context.Context, mfaToken, code string) (Result, error) {
	rec, err := m.challenge(ctx, mfaToken)
	if err != nil {
		return Result{}, err
	}
	res, err := m.verify(ctx, rec.User.ID, rec.User.Name, code, []string{rec.FirstFactor})
	if err != nil {
		return Result{}, err
	}
	if _, err := m.store.ConsumeChallenge(ctx, rec.TokenHash, m.cfg.Now()); err != nil {
		if isNotFound(err) {
			return Result{}, errBadToken()
		}
		return Result{}, fmt.Errorf("mfa: consuming challenge: %w", err)
	}
	return res, nil
}

// SendChallengeCode sends the user of a login challenge a code over channel,
// as [Manager.SendCode] does; the mfa_token stays valid.
func (m *Manager) SendChallengeCode(ctx context.Context, mfaToken string, channel Method) (SentInfo, error) {
	rec, err := m.challenge(ctx, mfaToken)
	if err != nil {
		return SentInfo{}, err
	}
	return m.SendCode(ctx, rec.User, channel)
}
