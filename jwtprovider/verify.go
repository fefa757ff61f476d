package jwtprovider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// maxPayloadSize is the largest decoded claims set a DefaultMaxTokenSize
// token can hold.
const maxPayloadSize = DefaultMaxTokenSize * 3 / 4

// Verify verifies an access token and returns its claims, or an
// *auth.Error:
//   - token_expired when the token is genuine (signature, issuer, audience
//     and type all check out) but "exp" plus the leeway has passed;
//   - token_revoked when its "jti" or its refresh family was revoked, or
//     it was issued at or before its subject's RevokeAll cut-off;
//   - invalid_token for everything else, the cause (ErrSignature,
//     ErrAlgorithm, ...) in its Err.
//
// A failure to consult the revocation mirror is returned as a wrapped
// error, not an *auth.Error (the middleware answers 503).
//
// The claims may be shared with the verified-token cache and other callers:
// do not modify them.
func (p *Provider) Verify(ctx context.Context, token string) (*Claims, error) {
	e, err := p.verifyAccess(ctx, token)
	if err != nil {
		return nil, err
	}
	return e.claims, nil
}

// TokenInfo verifies an access token like [Provider.Verify] and returns its
// description for the /token/info endpoint.
func (p *Provider) TokenInfo(ctx context.Context, token string) (TokenInfo, error) {
	c, err := p.Verify(ctx, token)
	if err != nil {
		return TokenInfo{}, err
	}
	return c.Info(), nil
}

// verifyAccess is Verify, returning the cache entry so that the
// authenticator can reuse its principal.
func (p *Provider) verifyAccess(ctx context.Context, token string) (*cacheEntry, error) {
	if len(token) > p.maxSize {
		return nil, invalid(ErrTooLarge)
	}
	now := p.now()
	ks := p.keys.Load()
	var h uint64
	if p.cache != nil {
		h = p.cache.hash(token)
		if e := p.cache.get(h, token); e != nil {
			if e.ks == ks && now.Before(e.exp) {
				if err := p.checkRevoked(e.claims); err != nil {
					return nil, err
				}
				return e, nil
			}
			p.cache.remove(h, e)
		}
	}
	c, err := parseToken(token, ks)
	if err != nil {
		return nil, err
	}
	if err := p.validate(ctx, c, AccessToken, now, true); err != nil {
		return nil, err
	}
	if err := p.checkRevoked(c); err != nil {
		return nil, err
	}
	e := &cacheEntry{token: token, claims: c, ks: ks, exp: c.ExpiresAt.Time}
	if p.cache != nil && now.Before(e.exp) {
		p.cache.put(h, e, now)
	}
	return e, nil
}

// parseToken checks the structure, header, key binding and signature of a
// compact JWS and decodes its claims. Work is ordered from cheap to costly,
// and the claims are decoded only once the signature has verified.
func parseToken(token string, ks *keySet) (*Claims, error) {
	i := strings.IndexByte(token, '.')
	if i <= 0 {
		return nil, invalid(ErrMalformed)
	}
	j := strings.IndexByte(token[i+1:], '.')
	if j <= 0 {
		return nil, invalid(ErrMalformed)
	}
	j += i + 1
	if strings.IndexByte(token[j+1:], '.') >= 0 {
		return nil, invalid(ErrMalformed) // JWE (five segments) or junk
	}
	h64, p64, s64 := token[:i], token[i+1:j], token[j+1:]

	if decodedLen(len(h64)) > maxHeaderSize || decodedLen(len(p64)) > maxPayloadSize {
		return nil, invalid(ErrTooLarge)
	}
	var hbuf [maxHeaderSize]byte
	n, ok := decodeSegment(hbuf[:], h64)
	if !ok {
		return nil, invalid(ErrMalformed)
	}
	hdr, err := parseHeader(string(hbuf[:n]))
	if err != nil {
		return nil, invalid(err)
	}
	key := ks.byKID[hdr.kid]
	if key == nil {
		return nil, invalid(ErrUnknownKey)
	}
	if hdr.alg != key.alg {
		return nil, invalid(ErrAlgorithm)
	}

	if s64 == "" {
		return nil, invalid(ErrSignature)
	}
	sig := make([]byte, decodedLen(len(s64)))
	n, ok = decodeSegment(sig, s64)
	if !ok {
		return nil, invalid(ErrSignature)
	}
	if err := key.method.Verify(token[:j], sig[:n], key.verify); err != nil {
		return nil, invalid(fmt.Errorf("%w: %w", ErrSignature, err))
	}

	var pbuf [maxPayloadSize]byte
	n, ok = decodeSegment(pbuf[:], p64)
	if !ok {
		return nil, invalid(ErrMalformed)
	}
	c := &Claims{Type: typeFromHeader(hdr.typ), KeyID: key.id}
	if err := parseClaims(string(pbuf[:n]), c); err != nil {
		if !errors.Is(err, ErrMalformed) {
			err = fmt.Errorf("%w: claims: %w", ErrMalformed, err)
		}
		return nil, invalid(err)
	}
	return c, nil
}

// validate checks a signed token's claims for an operation that expects
// type want. Everything that makes a token invalid is checked before
// expiry, so that token_expired is only reported for a token that is
// otherwise acceptable. checkExp false skips the expiry check (revocation
// accepts expired tokens).
func (p *Provider) validate(ctx context.Context, c *Claims, want TokenType, now time.Time, checkExp bool) error {
	if c.Type != want {
		return invalid(ErrTokenType)
	}
	if c.Issuer != p.issuer {
		return invalid(ErrIssuer)
	}
	if want == AccessToken {
		if !slices.ContainsFunc(c.Audience, func(a string) bool { return slices.Contains(p.audience, a) }) {
			return invalid(ErrAudience)
		}
	} else if !slices.Contains(c.Audience, p.issuer) {
		return invalid(ErrAudience)
	}
	if c.ExpiresAt == nil || c.IssuedAt == nil || c.Subject == "" || c.ID == "" {
		return invalid(ErrMissingClaim)
	}
	if want == RefreshToken && c.SessionID == "" {
		return invalid(ErrMissingClaim)
	}
	if want == AccessToken {
		for _, name := range p.required {
			if !c.has(name) {
				return invalid(fmt.Errorf("%w: %q", ErrMissingClaim, name))
			}
		}
		for _, v := range p.validators {
			if err := v(c); err != nil {
				return invalid(fmt.Errorf("%w: %w", ErrClaimRejected, err))
			}
		}
	}
	return p.checkTimes(ctx, c, want, now, checkExp)
}

// checkTimes checks "nbf", "iat" and, if checkExp, "exp" (which must then
// be present) against now, within the leeway.
func (p *Provider) checkTimes(ctx context.Context, c *Claims, typ TokenType, now time.Time, checkExp bool) error {
	// RFC 7519 §4.1.5: not before "nbf"; §4.1.6: an "iat" in the future is
	// not one this provider issued.
	if c.NotBefore != nil && now.Add(p.leeway).Before(c.NotBefore.Time) {
		return invalid(ErrNotYetValid)
	}
	if c.IssuedAt != nil && now.Add(p.leeway).Before(c.IssuedAt.Time) {
		return invalid(ErrIssuedInFuture)
	}
	if !checkExp {
		return nil
	}
	if c.ExpiresAt == nil {
		return invalid(ErrMissingClaim)
	}
	// RFC 7519 §4.1.4: now must be before "exp" (plus the leeway).
	if !now.Before(c.ExpiresAt.Add(p.leeway)) {
		p.emit(ctx, auth.EventTokenExpired, now, c.Subject, c.Username, "expired",
			map[string]string{"jti": c.ID, "token_type": string(typ)})
		return auth.WrapError(auth.CodeTokenExpired, "", ErrExpired)
	}
	return nil
}

// checkRevoked consults the revocation mirror.
func (p *Provider) checkRevoked(c *Claims) error {
	ref := TokenRef{ID: c.ID, FamilyID: c.SessionID, Subject: c.Subject}
	if c.IssuedAt != nil {
		ref.IssuedAt = c.IssuedAt.Time
	}
	err := p.mirror.Check(ref)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrRevoked):
		return auth.WrapError(auth.CodeTokenRevoked, "", err)
	}
	return fmt.Errorf("jwtprovider: revocation check: %w", err)
}
