package mfa

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/internal/secure"
)

// Sender delivers one-time codes by email or SMS. The host implements it
// with its mail or SMS provider. Send is called without any lock held; it
// should honour ctx, and must keep the code out of its logs.
type Sender interface {
	// Send delivers code to u over channel ([MethodEmail] to u.Email,
	// [MethodSMS] to u.Phone). An error means the code was not delivered.
	Send(ctx context.Context, u User, channel Method, code string) error
}

// SenderFunc adapts a function to [Sender].
type SenderFunc func(ctx context.Context, u User, channel Method, code string) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, u User, channel Method, code string) error {
	return f(ctx, u, channel, code)
}

// SentInfo describes a code just sent.
type SentInfo struct {
	// Channel is where it went.
	Channel Method
	// ExpiresAt is when it stops working.
	ExpiresAt time.Time
	// ResendAt is the earliest time another code can be sent.
	ResendAt time.Time
}

// newSentCode returns SentCodeDigits uniformly random decimal digits.
func newSentCode() string {
	const limit = 4_294_000_000 // largest multiple of 10^6 below 2^32
	for {
		v := binary.BigEndian.Uint32(secure.RandomBytes(4))
		if v < limit {
			s := strconv.FormatUint(uint64(v%1_000_000), 10)
			for len(s) < SentCodeDigits {
				s = "0" + s
			}
			return s
		}
	}
}

// SendCode sends u a new one-time code over channel (email or SMS), for a
// step-up check or a login; [Manager.Verify] and [Manager.Complete] accept
// it. The code has 6 digits, lives SentCodeTTL (5 minutes), is voided by
// SentCodeAttempts wrong guesses, and replaces the previous code. A new
// code can be sent only ResendInterval after the previous one: sooner
// fails with rate_limited and RetryAfter. A user whose second factor is
// locked gets account_locked and no code. A channel the policy does not
// allow, or without an address or Sender, fails with invalid_request
// wrapping [ErrMethodNotAllowed]. A Sender error is returned wrapped (503);
// the code stays stored, and the throttle applies, so that a failing
// provider is not retried in a tight loop.
func (m *Manager) SendCode(ctx context.Context, u User, channel Method) (SentInfo, error) {
	if u.ID == "" {
		return SentInfo{}, errNoUserID
	}
	if !m.canSend(u, channel) {
		return SentInfo{}, auth.WrapError(auth.CodeInvalidRequest, "this method is not available", ErrMethodNotAllowed)
	}
	d, err := m.attempts.Status(ctx, limiterKey(u.ID))
	if err != nil {
		return SentInfo{}, fmt.Errorf("mfa: %w", err)
	}
	if d.Locked {
		return SentInfo{}, &auth.Error{
			Code:        auth.CodeAccountLocked,
			Description: "too many failed second-factor attempts; try again later",
			RetryAfter:  d.RetryAfter,
			Err:         ErrLocked,
		}
	}
	code := newSentCode()
	now := m.cfg.Now()
	rec := SentCode{
		UserID:       u.ID,
		Hash:         sentCodeHash(u.ID, code),
		Channel:      channel,
		SentAt:       now,
		ExpiresAt:    now.Add(m.cfg.SentCodeTTL),
		ResendAt:     now.Add(m.cfg.ResendInterval),
		AttemptsLeft: m.cfg.SentCodeAttempts,
	}
	resendAt, err := m.store.PutSentCode(ctx, rec)
	if err != nil {
		if errors.Is(err, ErrThrottled) {
			return SentInfo{}, &auth.Error{
				Code:        auth.CodeRateLimited,
				Description: "a code was sent recently; wait before asking for another",
				RetryAfter:  max(resendAt.Sub(now), time.Second),
				Err:         ErrThrottled,
			}
		}
		return SentInfo{}, fmt.Errorf("mfa: storing sent code: %w", err)
	}
	if err := m.cfg.Sender.Send(ctx, u, channel, code); err != nil {
		return SentInfo{}, fmt.Errorf("mfa: sending code by %s: %w", channel, err)
	}
	e := m.event(ctx, auth.EventMFAChallenge, u.ID, u.Name, "code_sent")
	e.Attrs = map[string]string{"factor": string(channel)}
	auth.Emit(m.cfg.Events, e)
	return SentInfo{Channel: channel, ExpiresAt: rec.ExpiresAt, ResendAt: rec.ResendAt}, nil
}

// canSend reports whether a code can go to u over channel.
func (m *Manager) canSend(u User, channel Method) bool {
	if m.cfg.Sender == nil || !m.cfg.Policy.allowed(channel) {
		return false
	}
	switch channel {
	case MethodEmail:
		return u.Email != ""
	case MethodSMS:
		return u.Phone != ""
	}
	return false
}
