package jwtprovider

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/internal/secure"
)

// Refresh exchanges a refresh token for a new pair in the same family. The
// presented token is consumed in one atomic store operation
// ([RefreshStore.Rotate]): of concurrent refreshes with one token exactly
// one succeeds.
//
// A refresh token that was already used is treated as stolen (RFC 9700
// §4.14.2): the family is revoked in the same store operation, every access
// token of the family is revoked, refresh_reuse_detected is emitted, and
// token_revoked is returned. Since the legitimate client and the thief
// cannot be told apart, the loser of a concurrent refresh also revokes the
// family; clients must serialise their refreshes.
//
// Errors are *auth.Error (invalid_token, token_expired, token_revoked), an
// error returned by Config.ReloadSubject, or a wrapped store error.
func (p *Provider) Refresh(ctx context.Context, refreshToken string) (Pair, error) {
	if len(refreshToken) > p.maxSize {
		return Pair{}, invalid(ErrTooLarge)
	}
	now := p.now()
	ks := p.keys.Load()
	c, err := parseToken(refreshToken, ks)
	if err != nil {
		return Pair{}, err
	}
	if err := p.validate(ctx, c, RefreshToken, now, true); err != nil {
		return Pair{}, err
	}
	if err := p.checkRevoked(c); err != nil {
		return Pair{}, err
	}
	s := subjectFromClaims(c)
	if p.reload != nil {
		if s, err = p.reload(ctx, s); err != nil {
			return Pair{}, err
		}
		if s.ID != c.Subject {
			return Pair{}, fmt.Errorf("jwtprovider: ReloadSubject changed the subject ID")
		}
		if err := s.validate(); err != nil {
			return Pair{}, err
		}
	}
	fam, err := p.refreshes.Rotate(ctx, c.SessionID, c.ID, secure.Token(16), now)
	switch {
	case errors.Is(err, ErrReused):
		attrs := map[string]string{"sid": c.SessionID, "jti": c.ID}
		// Cut off the access tokens of the family too.
		rerr := p.revocations.Revoke(ctx, Revocation{ID: c.SessionID, At: now, Until: now.Add(p.accessTTL + p.leeway)})
		p.emit(ctx, auth.EventRefreshReuseDetected, now, c.Subject, c.Username, "reuse_detected", attrs)
		if rerr != nil {
			return Pair{}, fmt.Errorf("jwtprovider: revoke reused family: %w", rerr)
		}
		return Pair{}, auth.WrapError(auth.CodeTokenRevoked, "", err)
	case errors.Is(err, ErrRevoked):
		return Pair{}, auth.WrapError(auth.CodeTokenRevoked, "", err)
	case errors.Is(err, ErrNotFound):
		return Pair{}, invalid(fmt.Errorf("refresh family: %w", err))
	case err != nil:
		return Pair{}, fmt.Errorf("jwtprovider: rotate refresh token: %w", err)
	}
	pair, err := p.signPair(ks, &s, fam, p.issuedAt(now, s.ID))
	if err != nil {
		return Pair{}, err
	}
	p.emit(ctx, auth.EventTokenRefreshed, now, s.ID, s.Username, "",
		map[string]string{"jti": pair.Access.ID, "refresh_jti": pair.Refresh.ID, "sid": fam.ID})
	return pair, nil
}
