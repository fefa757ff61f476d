package apikey

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// Verifier turns a presented key into the principal it acts as. [*Manager]
// (local store) and [*Remote] (a validation service) implement it.
type Verifier interface {
	// Format is the key syntax the verifier accepts; its prefix decides
	// which bearer tokens are API keys.
	Format() Format
	// Verify returns the principal key acts as. It returns an *auth.Error
	// for a rejected key and a plain error when the key could not be
	// checked.
	Verify(ctx context.Context, key string) (*auth.Principal, error)
}

var (
	_ Verifier = (*Manager)(nil)
	_ Verifier = (*Remote)(nil)
)

// AuthenticatorConfig configures an [Authenticator]. The zero value accepts
// keys in the X-API-Key header and as bearer tokens carrying the key prefix.
type AuthenticatorConfig struct {
	// Header is the request header that carries a key. Empty means
	// "X-API-Key".
	Header string
	// InsecureAllowQueryParam also accepts a key in the query parameter
	// QueryParam. Keys in URLs end up in access logs, proxy logs, browser
	// history and Referer headers, where they outlive their revocation
	// and are read by people who should not have them: enable it only
	// for clients that cannot set a header, and prefer keys with few
	// permissions and a short expiry for them.
	InsecureAllowQueryParam bool
	// QueryParam is the name of the query parameter read when
	// InsecureAllowQueryParam is set. Empty means "api_key".
	QueryParam string
}

// Authenticator is the auth.Authenticator of API keys. It is immutable and
// safe for concurrent use.
//
// It reads the key from, in this order of precedence, the configured header,
// an "Authorization: Bearer" token that starts with the key prefix (RFC 6750
// §2.1), and, only if enabled, a query parameter. A bearer token without the
// prefix is not an API key: Authenticate returns auth.ErrNoCredentials, so
// the chain can hand it to the JWT authenticator, which must therefore come
// after this one. A request that carries a key in more than one place, or
// the header or parameter more than once, is rejected with invalid_token.
type Authenticator struct {
	v          Verifier
	format     Format
	header     string
	query      string
	allowQuery bool
}

var _ auth.MethodAuthenticator = (*Authenticator)(nil)

// NewAuthenticator returns an Authenticator that verifies keys with v.
func NewAuthenticator(v Verifier, cfg AuthenticatorConfig) (*Authenticator, error) {
	if v == nil {
		return nil, errors.New("apikey: NewAuthenticator needs a Verifier")
	}
	f := v.Format()
	if err := f.Validate(); err != nil {
		return nil, err
	}
	a := &Authenticator{v: v, format: f.withDefaults(), header: cfg.Header, query: cfg.QueryParam,
		allowQuery: cfg.InsecureAllowQueryParam}
	if a.header == "" {
		a.header = "X-API-Key"
	}
	if !isHeaderName(a.header) || strings.EqualFold(a.header, "Authorization") {
		return nil, fmt.Errorf("apikey: invalid header name %q", a.header)
	}
	a.header = textproto.CanonicalMIMEHeaderKey(a.header)
	if a.query == "" {
		a.query = "api_key"
	}
	return a, nil
}

// Method returns auth.MethodAPIKey.
func (a *Authenticator) Method() auth.Method { return auth.MethodAPIKey }

// Authenticate implements auth.Authenticator.
func (a *Authenticator) Authenticate(r *http.Request) (*auth.Principal, error) {
	key, err := a.Key(r)
	if err != nil {
		return nil, err
	}
	return a.v.Verify(r.Context(), key)
}

// Key returns the API key r carries, without verifying it. It returns
// auth.ErrNoCredentials when r carries none, and an *auth.Error
// invalid_token when it carries one ambiguously.
func (a *Authenticator) Key(r *http.Request) (string, error) {
	var key string
	found := 0
	if vals := r.Header.Values(a.header); len(vals) > 0 {
		if len(vals) > 1 {
			return "", ambiguous()
		}
		if vals[0] != "" {
			key = vals[0]
			found++
		}
	}
	tok, err := a.bearer(r)
	if err != nil {
		return "", err
	}
	if tok != "" {
		key = tok
		found++
	}
	if a.allowQuery && r.URL != nil && r.URL.RawQuery != "" {
		if vals := r.URL.Query()[a.query]; len(vals) > 0 {
			if len(vals) > 1 {
				return "", ambiguous()
			}
			if vals[0] != "" {
				key = vals[0]
				found++
			}
		}
	}
	switch found {
	case 0:
		return "", auth.ErrNoCredentials
	case 1:
		return key, nil
	}
	return "", ambiguous()
}

// bearer returns the bearer token of r if it is an API key, "" if r has no
// bearer token or one that is not ours.
func (a *Authenticator) bearer(r *http.Request) (string, error) {
	tok, err := auth.BearerToken(r)
	if err == nil {
		if a.format.HasPrefix(tok) {
			return tok, nil
		}
		return "", nil
	}
	var ae *auth.Error
	if !errors.As(err, &ae) {
		return "", nil // no bearer token
	}
	// A malformed or repeated bearer header: ours to reject only if one of
	// the values carries our prefix; otherwise let the next authenticator
	// judge it.
	for _, v := range r.Header.Values("Authorization") {
		scheme, cred, ok := auth.ParseAuthorization(v)
		if ok && strings.EqualFold(scheme, "Bearer") && a.format.HasPrefix(cred) {
			return "", invalidKey(err)
		}
	}
	return "", nil
}

func ambiguous() error {
	return auth.NewError(auth.CodeInvalidToken, "the request carries more than one API key")
}

// isHeaderName reports whether s is an RFC 9110 §5.1 field name.
func isHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isBase62(c) && !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}
