package authclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// MFAChallenge is what the server answered a login that needs a second
// factor: 401 mfa_required with an mfa_token and the methods it accepts.
//
// Token is a short-lived credential: it completes the login together with a
// code. String, GoString and LogValue leave it out, so printing or logging a
// challenge does not leak it.
type MFAChallenge struct {
	// Token is the mfa_token to send back with the code (POST /login/mfa).
	Token string
	// Methods lists the accepted factors ("totp", "backup_code", ...), as
	// the server named them; empty when it named none.
	Methods []string
}

// String describes the challenge without its token.
func (m MFAChallenge) String() string {
	return fmt.Sprintf("mfa challenge (methods %s)", strings.Join(m.Methods, ", "))
}

// GoString describes the challenge without its token.
func (m MFAChallenge) GoString() string {
	return fmt.Sprintf("authclient.MFAChallenge{Token: \"[redacted]\", Methods: %#v}", m.Methods)
}

// LogValue implements slog.LogValuer, leaving the token out.
func (m MFAChallenge) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("methods", m.Methods))
}

// tokenResponse is the body of a successful login or refresh.
type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	RefreshToken     string `json:"refresh_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
}

// maxTokenBody caps the body of a token response.
const maxTokenBody = 64 << 10

// maxLifetimeSeconds caps the lifetimes read from a token response (ten
// years), so that a hostile number cannot overflow the clock arithmetic.
const maxLifetimeSeconds = 10 * 365 * 24 * 3600

// Login logs in now with the configured password instead of waiting for the
// first request, replacing any token pair held. It returns [ErrNoCredentials]
// in API key mode.
func (c *Client) Login(ctx context.Context) error {
	c.mu.Lock()
	hasPass := c.hasPass
	c.mu.Unlock()
	if !hasPass {
		return ErrNoCredentials
	}
	c.forget()
	_, err := c.renew(ctx, c.current().gen, true)
	return err
}

// login sends POST /login and, when the server asks for a second factor,
// answers the challenge through the MFA callback (POST /login/mfa).
func (c *Client) login(ctx context.Context, user, pass string) (tokenState, error) {
	in := struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}{user, pass}
	t, err := c.tokenCall(ctx, "/login", in)
	if err == nil {
		return t, nil
	}
	var ch *challengeError
	if !errors.As(err, &ch) {
		return tokenState{}, err
	}
	if c.mfa == nil {
		return tokenState{}, fmt.Errorf("%w: %w", ErrNoMFACallback, ch.err)
	}
	code, err := c.mfa(ctx, ch.challenge)
	if err != nil {
		return tokenState{}, fmt.Errorf("authclient: MFA callback: %w", err)
	}
	mfaIn := struct {
		MFAToken string `json:"mfa_token"`
		Code     string `json:"code"`
	}{ch.challenge.Token, code}
	t, err = c.tokenCall(ctx, "/login/mfa", mfaIn)
	if errors.As(err, &ch) {
		// A second challenge in answer to a code is a refusal.
		return tokenState{}, ch.err
	}
	return t, err
}

// refresh sends POST /refresh, which rotates the pair: the old refresh token
// is spent, even when the answer is lost on the way back.
func (c *Client) refresh(ctx context.Context, refreshToken string) (tokenState, error) {
	in := struct {
		RefreshToken string `json:"refresh_token"`
	}{refreshToken}
	t, err := c.tokenCall(ctx, "/refresh", in)
	var ch *challengeError
	if errors.As(err, &ch) {
		return tokenState{}, ch.err
	}
	return t, err
}

// challengeError carries an mfa_required answer from tokenCall to login.
type challengeError struct {
	err       *Error
	challenge MFAChallenge
}

func (e *challengeError) Error() string { return e.err.Error() }
func (e *challengeError) Unwrap() error { return e.err }

// tokenCall posts in to path on the base transport (no credentials, no
// retries, no redirects) and decodes the token pair it answers with.
func (c *Client) tokenCall(ctx context.Context, path string, in any) (tokenState, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return tokenState{}, fmt.Errorf("authclient: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(path), bytes.NewReader(body))
	if err != nil {
		return tokenState{}, fmt.Errorf("authclient: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	hc := &http.Client{Transport: c.baseRT, Timeout: c.baseClient.Timeout, CheckRedirect: noRedirects}
	start := c.now()
	resp, err := hc.Do(req)
	if err != nil {
		return tokenState{}, fmt.Errorf("authclient: %w", err)
	}
	defer drainClose(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e, eb := readError(resp, c.now())
		if e.Status == http.StatusUnauthorized && e.Code == string(auth.CodeMFARequired) && eb.MFAToken != "" {
			return tokenState{}, &challengeError{err: e, challenge: MFAChallenge{
				Token:   eb.MFAToken,
				Methods: cleanList(eb.Methods),
			}}
		}
		return tokenState{}, e
	}
	var tr tokenResponse
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody+1))
	if err != nil {
		return tokenState{}, fmt.Errorf("authclient: POST %s: reading the response: %w", path, err)
	}
	if len(raw) > maxTokenBody || json.Unmarshal(raw, &tr) != nil {
		return tokenState{}, ErrBadTokenResponse
	}
	return tr.state(start)
}

// state checks a token response and turns it into a token state. Lifetimes
// count from when the request was sent, so that they end no later than the
// server's.
func (tr tokenResponse) state(sent time.Time) (tokenState, error) {
	switch {
	case !strings.EqualFold(tr.TokenType, "Bearer"):
		return tokenState{}, fmt.Errorf("%w: token_type is not Bearer", ErrBadTokenResponse)
	case !auth.IsB64Token(tr.AccessToken):
		return tokenState{}, fmt.Errorf("%w: missing or malformed access_token", ErrBadTokenResponse)
	case tr.RefreshToken != "" && !validHeaderValue(tr.RefreshToken):
		return tokenState{}, fmt.Errorf("%w: malformed refresh_token", ErrBadTokenResponse)
	case tr.ExpiresIn < 0 || tr.RefreshExpiresIn < 0:
		return tokenState{}, fmt.Errorf("%w: negative lifetime", ErrBadTokenResponse)
	}
	t := tokenState{access: tr.AccessToken, refresh: tr.RefreshToken}
	if tr.ExpiresIn > 0 {
		t.lifetime = time.Duration(min(tr.ExpiresIn, maxLifetimeSeconds)) * time.Second
		t.expires = sent.Add(t.lifetime)
	}
	if tr.RefreshExpiresIn > 0 {
		t.refreshExpires = sent.Add(time.Duration(min(tr.RefreshExpiresIn, maxLifetimeSeconds)) * time.Second)
	}
	return t, nil
}

// cleanList keeps the printable, bounded entries of a server-sent list.
func cleanList(in []string) []string {
	var out []string
	for _, s := range in {
		if s = cleanText(s, 64); s != "" && len(out) < 16 {
			out = append(out, s)
		}
	}
	return out
}

// drainClose reads a little of what is left of body, so that the
// connection can be reused, and closes it.
func drainClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 4<<10))
	_ = body.Close()
}
