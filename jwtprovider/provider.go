package jwtprovider

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// Defaults and limits of [Config].
const (
	// DefaultAccessTTL is the lifetime of access tokens.
	DefaultAccessTTL = 15 * time.Minute
	// DefaultRefreshTTL is the lifetime of each refresh token: a family
	// not used for this long expires.
	DefaultRefreshTTL = 24 * time.Hour
	// DefaultFamilyLifetime is the absolute lifetime of a refresh family
	// (a login): after it the user logs in again however often they
	// refresh.
	DefaultFamilyLifetime = 30 * 24 * time.Hour
	// DefaultLeeway is the clock skew tolerated on "exp", "nbf" and "iat".
	DefaultLeeway = 30 * time.Second
	// MaxLeeway is the largest leeway New accepts.
	MaxLeeway = 5 * time.Minute
	// DefaultMaxTokenSize is the size cap (bytes of the compact
	// serialization) of a token; longer tokens are rejected before any
	// decoding. It is also the largest cap New accepts.
	DefaultMaxTokenSize = 8 << 10
	// MinMaxTokenSize is the smallest cap New accepts.
	MinMaxTokenSize = 1 << 10
)

// Validator is a host check over verified claims, run after the signature
// and the standard claims checked out. A non-nil error rejects the token as
// invalid_token (the error is kept for logs, never shown to clients).
//
// Validators must be pure functions of the claims: a token that passed is
// kept in the verified-token cache and not validated again until it
// expires.
type Validator func(c *Claims) error

// Config configures a [Provider]. Issuer, Audience and Keys are required;
// every other zero field takes the default its doc names.
type Config struct {
	// Issuer is the "iss" of issued tokens and the only one accepted,
	// compared byte for byte. Required.
	Issuer string
	// Audience lists the audiences accepted in "aud": a token is accepted
	// when its "aud" (a string or an array) contains at least one of them.
	// Issued access tokens carry all of them. Required. Refresh tokens
	// carry the Issuer as their audience instead, so that a resource server
	// that checks "aud" but not "typ" still refuses them.
	Audience []string
	// Keys is the key set; at least one key, IDs unique. The verifier
	// accepts a token only when its "kid" names a key here and its "alg" is
	// that key's algorithm.
	Keys []Key
	// ActiveKeyID names the key that signs; "" means Keys[0]. It must hold
	// a private or secret key.
	ActiveKeyID string

	// AccessTTL is the lifetime of access tokens; zero means
	// DefaultAccessTTL (15 minutes).
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of each refresh token; zero means
	// DefaultRefreshTTL (24 hours).
	RefreshTTL time.Duration
	// FamilyLifetime is the absolute lifetime of a refresh family; zero
	// means DefaultFamilyLifetime (30 days). It may not be shorter than
	// RefreshTTL.
	FamilyLifetime time.Duration
	// Leeway is the clock skew tolerated on "exp", "nbf" and "iat"; zero
	// means DefaultLeeway (30 seconds), a negative value no leeway at all.
	// At most MaxLeeway.
	Leeway time.Duration
	// MaxTokenSize caps the length of a token in bytes; zero means
	// DefaultMaxTokenSize (8 KiB), which is also the maximum.
	MaxTokenSize int

	// RequiredClaims names claims an access token must carry besides those
	// always required ("iss", "aud", "exp", "iat", "sub", "jti"), for
	// example "client_id" (RFC 9068 §2.2) or a custom claim.
	RequiredClaims []string
	// Validators run, in order, over the claims of every access token that
	// passed the standard checks.
	Validators []Validator

	// RefreshStore keeps refresh families; nil means a new
	// MemoryRefreshStore (one process only).
	RefreshStore RefreshStore
	// RevocationStore keeps revocations; nil means a new
	// MemoryRevocationStore (one process only).
	RevocationStore RevocationStore

	// CacheSize bounds the verified-token cache; zero means
	// DefaultCacheSize.
	CacheSize int
	// DisableCache turns the verified-token cache off: every access token
	// is then fully verified on every request.
	DisableCache bool

	// ReloadSubject, if set, is called by Refresh with the subject the
	// refresh token carries, before the token is consumed. It returns the
	// subject to put in the new tokens (for example with current roles), or
	// an error that stops the refresh (an *auth.Error for a disabled
	// account, any other error for a store failure). It may not change the
	// subject ID. Nil reissues the claims the refresh token carries.
	ReloadSubject func(ctx context.Context, s Subject) (Subject, error)

	// CookieName, if set, is a cookie the authenticator reads the access
	// token from when the request has no Authorization header. A cookie is
	// sent by browsers on cross-site requests: protect such routes against
	// CSRF (the session package, http.CrossOriginProtection). Tokens are
	// never read from the URL query.
	CookieName string

	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Events receives token_issued, token_refreshed, token_revoked,
	// token_expired and refresh_reuse_detected; nil discards them.
	Events auth.Emitter
}

// Provider issues, verifies, refreshes and revokes JWTs, serves the JWK
// Set, and authenticates requests (it is an auth.MethodAuthenticator). It is
// safe for concurrent use.
type Provider struct {
	issuer         string
	audience       []string
	accessTTL      time.Duration
	refreshTTL     time.Duration
	familyLifetime time.Duration
	leeway         time.Duration
	maxSize        int
	required       []string
	validators     []Validator
	refreshes      RefreshStore
	revocations    RevocationStore
	mirror         RevocationMirror
	reload         func(ctx context.Context, s Subject) (Subject, error)
	cookie         string
	now            func() time.Time
	events         auth.Emitter

	keyMu sync.Mutex // serialises key-set changes; readers use keys without it
	keys  atomic.Pointer[keySet]

	cache *tokenCache // nil when disabled
}

var _ auth.MethodAuthenticator = (*Provider)(nil)

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("jwtprovider: invalid config")

// New validates cfg, fills its defaults and returns a Provider.
func New(cfg Config) (*Provider, error) {
	bad := func(format string, a ...any) (*Provider, error) {
		return nil, fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, a...))
	}
	if cfg.Issuer == "" {
		return bad("Issuer is required")
	}
	if len(cfg.Audience) == 0 {
		return bad("Audience is required")
	}
	for _, a := range cfg.Audience {
		if a == "" {
			return bad("empty audience")
		}
	}
	ks, err := newKeySet(cfg.Keys, cfg.ActiveKeyID)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	p := &Provider{
		issuer:         cfg.Issuer,
		audience:       append([]string(nil), cfg.Audience...),
		accessTTL:      cmpOr(cfg.AccessTTL, DefaultAccessTTL),
		refreshTTL:     cmpOr(cfg.RefreshTTL, DefaultRefreshTTL),
		familyLifetime: cmpOr(cfg.FamilyLifetime, DefaultFamilyLifetime),
		leeway:         cmpOr(cfg.Leeway, DefaultLeeway),
		maxSize:        cmpOr(cfg.MaxTokenSize, DefaultMaxTokenSize),
		required:       append([]string(nil), cfg.RequiredClaims...),
		validators:     append([]Validator(nil), cfg.Validators...),
		refreshes:      cfg.RefreshStore,
		revocations:    cfg.RevocationStore,
		reload:         cfg.ReloadSubject,
		cookie:         cfg.CookieName,
		now:            cfg.Now,
		events:         cfg.Events,
	}
	switch {
	case cfg.AccessTTL < 0 || cfg.RefreshTTL < 0 || cfg.FamilyLifetime < 0:
		return bad("negative lifetime")
	case p.familyLifetime < p.refreshTTL:
		return bad("FamilyLifetime %v is shorter than RefreshTTL %v", p.familyLifetime, p.refreshTTL)
	case p.leeway > MaxLeeway:
		return bad("Leeway %v is over %v", p.leeway, MaxLeeway)
	case p.maxSize < MinMaxTokenSize || p.maxSize > DefaultMaxTokenSize:
		return bad("MaxTokenSize must be between %d and %d", MinMaxTokenSize, DefaultMaxTokenSize)
	case cfg.CacheSize < 0:
		return bad("negative CacheSize")
	}
	if p.leeway < 0 {
		p.leeway = 0
	}
	for _, name := range p.required {
		if name == "" {
			return bad("empty name in RequiredClaims")
		}
	}
	for _, v := range p.validators {
		if v == nil {
			return bad("nil Validator")
		}
	}
	if p.cookie != "" && !validCookieName(p.cookie) {
		return bad("CookieName %q is not a valid cookie name", p.cookie)
	}
	if p.refreshes == nil {
		p.refreshes = NewMemoryRefreshStore()
	}
	if p.revocations == nil {
		p.revocations = NewMemoryRevocationStore()
	}
	if p.mirror = p.revocations.Mirror(); p.mirror == nil {
		return bad("RevocationStore.Mirror returned nil")
	}
	if p.now == nil {
		p.now = time.Now
	}
	if !cfg.DisableCache {
		p.cache = newTokenCache(cmpOr(cfg.CacheSize, DefaultCacheSize))
	}
	p.keys.Store(ks)
	return p, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// validCookieName reports whether s is an RFC 6265 cookie-name (an RFC 9110
// token).
func validCookieName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c < 0x7f && c > 0x20 && !isSeparator(c):
		default:
			return false
		}
	}
	return s != ""
}

func isSeparator(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '@', ',', ';', ':', '\\', '"', '/', '[', ']', '?', '=', '{', '}':
		return true
	}
	return false
}

// emit sends an event of type t about claims-derived fields.
func (p *Provider) emit(ctx context.Context, t auth.EventType, now time.Time, subject, username, reason string, attrs map[string]string) {
	if p.events == nil {
		return
	}
	e := auth.NewEvent(ctx, t, now)
	e.Subject = subject
	e.Username = username
	e.Method = auth.MethodJWT
	e.Reason = reason
	e.Attrs = attrs
	auth.Emit(p.events, e)
}
