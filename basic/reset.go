package basic

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/internal/secure"
)

// resetTokenBytes is the entropy of a reset token (256 bits); its text is
// 43 base64url characters.
const (
	resetTokenBytes = 32
	resetTokenLen   = 43
)

// ResetTicket is what [Users.InitiatePasswordReset] hands the host to deliver.
type ResetTicket struct {
	// Token is the secret to send to Email (in a link). It is empty when no
	// enabled user has the address: the host then sends nothing (or a
	// "no account here" note), and must answer the client exactly as
	// otherwise.
	Token string
	// UserID, Username and Email identify the user; empty with Token.
	UserID   string
	Username string
	Email    string
	// ExpiresAt is when the token stops working. It is set in both cases.
	ExpiresAt time.Time
}

// errResetToken is the one answer for a reset token that is unknown,
// expired, used, or stale.
func errResetToken() *auth.Error {
	return auth.NewError(auth.CodeInvalidToken, "the password reset token is invalid or has expired")
}

// InitiatePasswordReset starts a password reset for the user with that
// email address and returns the token to deliver.
//
// The observable result does not depend on whether the address belongs to an
// enabled user: the same store lookup, token generation, token hashing and
// store write happen either way (for an unknown address the write is a decoy
// record that no token matches and that expires like a real one), the error
// is nil either way, and only the returned ticket tells the host whether to
// send the token. The host must answer its client identically (HTTP 202) and
// should send mail off the request path, so that the time to answer does not
// reveal it either.
//
// The token carries 256 bits from crypto/rand, is stored as its SHA-256, is
// single use, expires after Config.ResetTokenTTL, and stops working when the
// user's password or email changes. Emits password_reset_requested (with
// Reason "unknown_email" or "disabled" when no token was issued).
func (m *Users) InitiatePasswordReset(ctx context.Context, email string) (ResetTicket, error) {
	now := m.now()
	token := secure.Token(resetTokenBytes)
	rec := ResetToken{Hash: secure.HashHex(token), CreatedAt: now, ExpiresAt: now.Add(m.resetTTL)}

	var u *User
	if len(email) <= MaxEmailLength {
		found, err := m.store.GetUser(ctx, ByEmail, email)
		switch {
		case err == nil:
			u = found
		case !errors.Is(err, ErrNotFound):
			return ResetTicket{}, fmt.Errorf("basic: loading user: %w", err)
		}
	}
	reason := ""
	switch {
	case u == nil:
		reason = "unknown_email"
	case u.Disabled:
		reason = "disabled"
	default:
		rec.UserID, rec.Stamp = u.ID, resetStamp(u)
	}
	if err := m.tokens.SaveResetToken(ctx, rec); err != nil {
		return ResetTicket{}, fmt.Errorf("basic: saving reset token: %w", err)
	}
	if reason != "" {
		e := auth.NewEvent(ctx, auth.EventPasswordResetRequest, m.now())
		e.Reason = reason
		if u != nil {
			e.Subject, e.Username = u.ID, u.Username
		}
		auth.Emit(m.events, e)
		return ResetTicket{ExpiresAt: rec.ExpiresAt}, nil
	}
	m.emit(ctx, auth.EventPasswordResetRequest, u, "", nil)
	return ResetTicket{
		Token:     token,
		UserID:    u.ID,
		Username:  u.Username,
		Email:     u.Email,
		ExpiresAt: rec.ExpiresAt,
	}, nil
}

// CompletePasswordReset sets a new password with a token from
// [Users.InitiatePasswordReset].
//
// A token that is malformed, unknown, expired, already used, issued before
// the user's password or email last changed, or for a disabled user gets
// invalid_token. The new password is checked (policy, and history when on)
// before the token is consumed, so a refused password leaves the token
// usable; the token is then consumed atomically, so of concurrent uses
// exactly one succeeds. On success the username's lockout is cleared, other
// reset tokens are invalidated, Config.OnCredentialsChanged is called (an
// error wrapping [ErrRevocationIncomplete] when it fails; the new password
// stays), and password_reset is emitted.
func (m *Users) CompletePasswordReset(ctx context.Context, token, newPassword string) error {
	if !wellFormedToken(token) {
		return errResetToken()
	}
	hash := secure.HashHex(token)
	t, err := m.tokens.GetResetToken(ctx, hash, m.now())
	if errors.Is(err, ErrNotFound) {
		return errResetToken()
	}
	if err != nil {
		return fmt.Errorf("basic: loading reset token: %w", err)
	}
	if t.UserID == "" {
		return errResetToken()
	}
	u, err := m.store.GetUser(ctx, ByID, t.UserID)
	if errors.Is(err, ErrNotFound) {
		return errResetToken()
	}
	if err != nil {
		return fmt.Errorf("basic: loading user: %w", err)
	}
	if u.Disabled || !secure.Equal(resetStamp(u), t.Stamp) {
		return errResetToken()
	}
	newPassword = m.normalize(newPassword)
	if err := m.checkNewPassword(ctx, u, newPassword, nil); err != nil {
		return err
	}
	fresh, err := m.hasher.Hash(ctx, newPassword)
	if err != nil {
		return err
	}
	consumed, err := m.tokens.ConsumeResetToken(ctx, hash, m.now())
	if errors.Is(err, ErrNotFound) {
		return errResetToken()
	}
	if err != nil {
		return fmt.Errorf("basic: consuming reset token: %w", err)
	}
	err = m.storePassword(ctx, u, fresh, func(x *User) error {
		if x.Disabled || x.ID != consumed.UserID || !secure.Equal(resetStamp(x), consumed.Stamp) {
			return errResetToken()
		}
		return nil
	})
	if errors.Is(err, auth.ErrConflict) {
		// The password changed between the check and the write: the token
		// is stale.
		return errResetToken()
	}
	if err != nil {
		return err
	}
	// Proving control of the mailbox also lifts a lock on the account.
	_ = m.lockout.Reset(ctx, lockKey(u.Username))
	m.emit(ctx, auth.EventPasswordReset, u, "", nil)
	return m.revoke(ctx, u.ID)
}

// wellFormedToken reports whether s looks like a token this package issues:
// 43 base64url characters.
func wellFormedToken(s string) bool {
	if len(s) != resetTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
