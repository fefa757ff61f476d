package jwtprovider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/internal/secure"
)

// Subject is who a token is issued to, and what it carries about them. It
// is a plain value: the provider reads it while issuing and keeps nothing
// of it; do not modify its slices or map during the call.
type Subject struct {
	// ID is the "sub" claim: a user ID, or a client ID for a client acting
	// on its own behalf. Required.
	ID string
	// Username is the "preferred_username" claim.
	Username string
	// Email is the "email" claim.
	Email string
	// Roles is the "roles" claim.
	Roles []string
	// Scopes, when non-nil, becomes the "scope" claim (space-separated,
	// RFC 9068 §2.2.3) and narrows the principal's grant; each must be an
	// RFC 6749 §3.3 scope-token. Nil means no "scope" claim; a non-nil
	// empty slice an empty "scope" (grants nothing).
	Scopes []string
	// ClientID is the "client_id" claim: the OAuth client the token is
	// issued to.
	ClientID string
	// MFA becomes "amr" (Methods, plus "mfa" when Verified, RFC 8176) and,
	// when Verified, "auth_time" (VerifiedAt).
	MFA auth.MFAState
	// Custom claims are added at the top level of the claims set. Their
	// names may not be ones this package sets ([IsReservedClaim]) and their
	// values must encode with encoding/json.
	Custom map[string]any
}

// Token is an issued token.
type Token struct {
	// Value is the compact JWS to hand to the client.
	Value string
	// ID is its "jti".
	ID string
	// IssuedAt is its "iat".
	IssuedAt time.Time
	// ExpiresAt is its "exp".
	ExpiresAt time.Time
}

// Lifetime returns how long the token is valid from its issue time: the
// "expires_in" of an OAuth token response.
func (t Token) Lifetime() time.Duration { return t.ExpiresAt.Sub(t.IssuedAt) }

// Pair is an access token with the refresh token that renews it.
type Pair struct {
	// Access is the access token ("typ": "at+jwt").
	Access Token
	// Refresh is the refresh token ("typ": "refresh+jwt").
	Refresh Token
	// SessionID is the refresh family, the "sid" claim of both tokens.
	SessionID string
}

// TokenTypeBearer is the token_type of an OAuth token response for these
// tokens (RFC 6750).
const TokenTypeBearer = "Bearer"

// ErrSubject reports a Subject that cannot be issued a token.
var ErrSubject = errors.New("jwtprovider: invalid subject")

func (s *Subject) validate() error {
	if s.ID == "" {
		return fmt.Errorf("%w: empty ID", ErrSubject)
	}
	for _, sc := range s.Scopes {
		if !validScopeToken(sc) {
			return fmt.Errorf("%w: invalid scope %q", ErrSubject, sc)
		}
	}
	for name := range s.Custom {
		if name == "" || IsReservedClaim(name) {
			return fmt.Errorf("%w: custom claim name %q is reserved", ErrSubject, name)
		}
	}
	return nil
}

// subjectFromClaims rebuilds the Subject a refresh token was issued for.
func subjectFromClaims(c *Claims) Subject {
	st := c.MFA()
	if st.Verified {
		st.Methods = slices.DeleteFunc(slices.Clone(st.Methods), func(m string) bool { return m == "mfa" })
	}
	return Subject{
		ID: c.Subject, Username: c.Username, Email: c.Email,
		Roles: c.Roles, Scopes: c.Scopes, ClientID: c.ClientID,
		MFA: st, Custom: maps.Clone(c.Custom),
	}
}

// issuedAt returns the "iat" of a token issued now for subject: now in
// whole seconds, or the next second when the subject's RevokeAll cut-off
// falls in the current second. Without the bump, a token issued just after
// RevokeAll (for example the new pair after a password change) would carry
// an "iat" at the cut-off and be rejected.
func (p *Provider) issuedAt(now time.Time, subject string) time.Time {
	iat := time.Unix(now.Unix(), 0)
	if errors.Is(p.mirror.Check(TokenRef{Subject: subject, IssuedAt: iat}), ErrRevoked) {
		iat = iat.Add(time.Second)
	}
	return iat
}

// sign builds and signs one token.
func (p *Provider) sign(ks *keySet, s *Subject, typ TokenType, jti, sid string, iat, nbf, exp time.Time) (string, error) {
	c := &Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    p.issuer,
			Subject:   s.ID,
			Audience:  p.audience,
			ExpiresAt: numDate(exp),
			NotBefore: numDate(nbf),
			IssuedAt:  numDate(iat),
			ID:        jti,
		},
		Username:  s.Username,
		Email:     s.Email,
		Roles:     s.Roles,
		Scopes:    s.Scopes,
		ClientID:  s.ClientID,
		SessionID: sid,
		Custom:    s.Custom,
	}
	if len(s.MFA.Methods) > 0 || s.MFA.Verified {
		c.AMR = slices.Clone(s.MFA.Methods)
		if s.MFA.Verified && !slices.Contains(c.AMR, "mfa") {
			c.AMR = append(c.AMR, "mfa")
		}
	}
	if s.MFA.Verified && !s.MFA.VerifiedAt.IsZero() {
		c.AuthTime = numDate(s.MFA.VerifiedAt)
	}
	headerTyp := accessTyp
	if typ == RefreshToken {
		headerTyp = refreshTyp
		c.Audience = jwt.ClaimStrings{p.issuer}
	}
	k := ks.active
	t := jwt.NewWithClaims(k.method, c)
	t.Header["kid"] = k.id
	t.Header["typ"] = headerTyp
	out, err := t.SignedString(k.sign)
	if err != nil {
		return "", fmt.Errorf("jwtprovider: sign: %w", err)
	}
	if len(out) > p.maxSize {
		return "", fmt.Errorf("%w: issued token is %d bytes, over MaxTokenSize %d (too many custom claims?)", ErrTooLarge, len(out), p.maxSize)
	}
	return out, nil
}

// Issue returns an access token for s, without a refresh token (for
// example for the OAuth client-credentials grant). It emits token_issued.
func (p *Provider) Issue(ctx context.Context, s Subject) (Token, error) {
	if err := s.validate(); err != nil {
		return Token{}, err
	}
	now := p.now()
	iat := p.issuedAt(now, s.ID)
	t := Token{ID: secure.Token(16), IssuedAt: iat, ExpiresAt: iat.Add(p.accessTTL)}
	v, err := p.sign(p.keys.Load(), &s, AccessToken, t.ID, "", iat, iat, t.ExpiresAt)
	if err != nil {
		return Token{}, err
	}
	t.Value = v
	p.emit(ctx, auth.EventTokenIssued, now, s.ID, s.Username, "",
		map[string]string{"jti": t.ID, "token_type": string(AccessToken)})
	return t, nil
}

// IssuePair starts a refresh family for s and returns its first access and
// refresh tokens. It emits token_issued.
func (p *Provider) IssuePair(ctx context.Context, s Subject) (Pair, error) {
	if err := s.validate(); err != nil {
		return Pair{}, err
	}
	now := p.now()
	iat := p.issuedAt(now, s.ID)
	fam := Family{
		ID:        secure.Token(16),
		Subject:   s.ID,
		Current:   secure.Token(16),
		CreatedAt: now,
		ExpiresAt: now.Add(p.familyLifetime),
	}
	pair, err := p.signPair(p.keys.Load(), &s, fam, iat)
	if err != nil {
		return Pair{}, err
	}
	if err := p.refreshes.Create(ctx, fam); err != nil {
		return Pair{}, fmt.Errorf("jwtprovider: create refresh family: %w", err)
	}
	p.emit(ctx, auth.EventTokenIssued, now, s.ID, s.Username, "",
		map[string]string{"jti": pair.Access.ID, "refresh_jti": pair.Refresh.ID, "sid": fam.ID})
	return pair, nil
}

// signPair signs the access token and the refresh token fam.Current of
// family fam.
func (p *Provider) signPair(ks *keySet, s *Subject, fam Family, iat time.Time) (Pair, error) {
	access := Token{ID: secure.Token(16), IssuedAt: iat, ExpiresAt: iat.Add(p.accessTTL)}
	refresh := Token{ID: fam.Current, IssuedAt: iat, ExpiresAt: iat.Add(p.refreshTTL)}
	if famEnd := time.Unix(fam.ExpiresAt.Unix(), 0); famEnd.Before(refresh.ExpiresAt) {
		refresh.ExpiresAt = famEnd
	}
	var err error
	if access.Value, err = p.sign(ks, s, AccessToken, access.ID, fam.ID, iat, iat, access.ExpiresAt); err != nil {
		return Pair{}, err
	}
	if refresh.Value, err = p.sign(ks, s, RefreshToken, refresh.ID, fam.ID, iat, iat, refresh.ExpiresAt); err != nil {
		return Pair{}, err
	}
	return Pair{Access: access, Refresh: refresh, SessionID: fam.ID}, nil
}

// numDate wraps t without the truncation jwt.NewNumericDate applies from a
// package variable of golang-jwt; MarshalJSON writes whole seconds.
func numDate(t time.Time) *jwt.NumericDate { return &jwt.NumericDate{Time: t} }
