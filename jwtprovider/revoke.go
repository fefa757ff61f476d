package jwtprovider

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// Revoke revokes a token this provider issued:
//   - an access token by its "jti", until it would have expired;
//   - a refresh token with its whole family: the family can no longer be
//     refreshed, and the family's access tokens (which carry its ID in
//     "sid") are rejected too.
//
// The token's signature, issuer, audience and type are checked, but not
// its expiry or revocation: revoking an expired or already revoked token
// succeeds and does nothing more. A token that is not genuine gives
// invalid_token; an endpoint following RFC 7009 §2.2 answers 200 anyway.
// It emits token_revoked.
func (p *Provider) Revoke(ctx context.Context, token string) error {
	if len(token) > p.maxSize {
		return invalid(ErrTooLarge)
	}
	now := p.now()
	c, err := parseToken(token, p.keys.Load())
	if err != nil {
		return err
	}
	if c.Type != AccessToken && c.Type != RefreshToken {
		return invalid(ErrTokenType)
	}
	if err := p.validate(ctx, c, c.Type, now, false); err != nil {
		return err
	}
	until := c.ExpiresAt.Add(p.leeway)
	if !now.Before(until) {
		return nil // expired: nothing left to revoke
	}
	attrs := map[string]string{"jti": c.ID, "token_type": string(c.Type)}
	if c.Type == AccessToken {
		if err := p.revocations.Revoke(ctx, Revocation{ID: c.ID, At: now, Until: until}); err != nil {
			return fmt.Errorf("jwtprovider: revoke token: %w", err)
		}
	} else {
		attrs["sid"] = c.SessionID
		if err := p.refreshes.Revoke(ctx, c.SessionID); err != nil {
			return fmt.Errorf("jwtprovider: revoke refresh family: %w", err)
		}
		r := Revocation{ID: c.SessionID, At: now, Until: now.Add(p.accessTTL + p.leeway)}
		if err := p.revocations.Revoke(ctx, r); err != nil {
			return fmt.Errorf("jwtprovider: revoke family: %w", err)
		}
	}
	p.emit(ctx, auth.EventTokenRevoked, now, c.Subject, c.Username, "revoked", attrs)
	return nil
}

// RevokeAll revokes every token of subject issued up to now: access and
// refresh tokens whose "iat" is at or before the cut-off are rejected
// (token_revoked). Use it for logout-everywhere and after a password
// change. It emits token_revoked with reason "revoke_all".
//
// "iat" has one-second granularity, so tokens issued earlier in the same
// second as the cut-off are rejected as they must be. Tokens this provider
// issues later in that second get the next second as their "iat" (and
// "nbf"), so that a pair issued right after RevokeAll works; with a zero
// leeway it becomes valid up to one second later. An instance whose
// revocation mirror has not yet seen the cut-off issues tokens without that
// bump, which are then rejected until the next second.
func (p *Provider) RevokeAll(ctx context.Context, subject string) error {
	if subject == "" {
		return fmt.Errorf("%w: empty subject", ErrSubject)
	}
	now := p.now()
	r := Revocation{Subject: subject, At: now, Until: now.Add(max(p.accessTTL, p.refreshTTL) + p.leeway + time.Second)}
	if err := p.revocations.Revoke(ctx, r); err != nil {
		return fmt.Errorf("jwtprovider: revoke all: %w", err)
	}
	p.emit(ctx, auth.EventTokenRevoked, now, subject, "", "revoke_all", nil)
	return nil
}
