package middleware

import (
	"errors"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// Option configures [NewChain] and [Authenticate].
type Option func(*Chain)

// Exempt exempts paths from authentication. A pattern without a trailing
// slash matches that path exactly ("/healthz"); a pattern ending in a slash
// matches every path under it ("/static/"). Matching is case-sensitive and
// applies only to canonical paths: a request path that is not already clean
// (dot segments, doubled slashes, a trailing dot, percent-encoded bytes that
// differ from the default encoding, such as %2F, or ';' parameters) is never
// exempt, so "/healthz/../admin", "//admin", "/HEALTHZ", "/healthz%2f..%2fadmin"
// and "/healthz;x" all require authentication. Patterns that do not start
// with "/" never match.
func Exempt(patterns ...string) Option {
	return func(c *Chain) { c.exempt = append(c.exempt, patterns...) }
}

// Optional lets requests without any credential through with no principal in
// their context. A request that carries a bad credential is still rejected:
// a bad credential never turns into anonymous access.
func Optional() Option {
	return func(c *Chain) { c.optional = true }
}

// WithErrorHandler replaces [WriteError] as the writer of rejections.
func WithErrorHandler(h ErrorHandler) Option {
	return func(c *Chain) {
		if h != nil {
			c.onError = h
		}
	}
}

// WithLogger logs the internal detail of rejections (store failures at
// Error, rejected credentials at Debug). Without it nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *Chain) { c.logger = l }
}

// RouteMethods restricts requests whose path is under pattern (same syntax as
// [Exempt]) to the given authentication methods, for example JWT only on an
// admin API. Unlike exemptions, restrictions are matched on the cleaned,
// decoded path case-insensitively, so a non-canonical spelling of a
// restricted path is still restricted. Authenticators that implement
// auth.MethodAuthenticator with another method are skipped for such requests,
// and a principal produced by any other method is rejected with 401.
func RouteMethods(pattern string, methods ...auth.Method) Option {
	return func(c *Chain) {
		c.routes = append(c.routes, routeMethods{pattern: pattern, methods: methods})
	}
}

type routeMethods struct {
	pattern string
	methods []auth.Method
}

// Chain authenticates requests with an ordered list of authenticators. It is
// immutable after construction and safe for concurrent use.
type Chain struct {
	auths    []auth.Authenticator
	exempt   []string
	optional bool
	onError  ErrorHandler
	logger   *slog.Logger
	routes   []routeMethods
}

// NewChain returns a chain over authenticators, tried in order.
func NewChain(authenticators []auth.Authenticator, opts ...Option) *Chain {
	c := &Chain{auths: slices.Clone(authenticators), onError: WriteError}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Authenticate returns an http middleware running [NewChain](authenticators,
// opts...). Requests that pass carry the principal in their context
// (auth.FromContext).
func Authenticate(authenticators []auth.Authenticator, opts ...Option) func(http.Handler) http.Handler {
	return NewChain(authenticators, opts...).Handler
}

// Authenticate is the bare decision of the chain, for use outside the
// middleware. It returns the first principal an authenticator produces. An
// authenticator answering auth.ErrNoCredentials passes to the next one; any
// other error stops the chain and is returned. With no credential at all it
// returns auth.ErrNoCredentials. Route method restrictions apply; exemptions
// and [Optional] do not.
func (c *Chain) Authenticate(r *http.Request) (*auth.Principal, error) {
	allowed := c.allowedMethods(r)
	for _, a := range c.auths {
		if allowed != nil {
			if ma, ok := a.(auth.MethodAuthenticator); ok && !slices.Contains(allowed, ma.Method()) {
				continue
			}
		}
		p, err := a.Authenticate(r)
		if err == nil {
			if p == nil {
				return nil, errors.New("middleware: authenticator returned neither a principal nor an error")
			}
			if allowed != nil && !slices.Contains(allowed, p.Method) {
				return nil, auth.NewError(auth.CodeInvalidCredentials, "this authentication method is not accepted here")
			}
			return p, nil
		}
		if isNoCredentials(err) {
			continue
		}
		return nil, err
	}
	return nil, auth.ErrNoCredentials
}

// isNoCredentials reports whether err means "no credential of this kind" and
// nothing more: an *auth.Error that happens to wrap ErrNoCredentials is a
// rejection, not a pass.
func isNoCredentials(err error) bool {
	if err == auth.ErrNoCredentials {
		return true
	}
	var ae *auth.Error
	return errors.Is(err, auth.ErrNoCredentials) && !errors.As(err, &ae)
}

// Handler is the middleware: exempt paths pass untouched; other requests are
// authenticated and either carry the principal into next or are rejected by
// the error handler (401 for missing or bad credentials, 503 when the
// credential could not be checked).
func (c *Chain) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.isExempt(r) {
			next.ServeHTTP(w, r)
			return
		}
		p, err := c.Authenticate(r)
		if err != nil {
			if c.optional && isNoCredentials(err) {
				next.ServeHTTP(w, r)
				return
			}
			logError(c.logger, r, err)
			c.onError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.NewContext(r.Context(), p)))
	})
}

func (c *Chain) isExempt(r *http.Request) bool {
	if len(c.exempt) == 0 {
		return false
	}
	p, ok := CanonicalPath(r)
	if !ok {
		return false
	}
	for _, pat := range c.exempt {
		if MatchPath(pat, p) {
			return true
		}
	}
	return false
}

func (c *Chain) allowedMethods(r *http.Request) []auth.Method {
	if len(c.routes) == 0 {
		return nil
	}
	p := r.URL.Path
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	clean := path.Clean(p)
	for _, rm := range c.routes {
		if matchFold(rm.pattern, clean) {
			return rm.methods
		}
	}
	return nil
}

// CanonicalPath returns r's path when it is already in the canonical form a
// net/http ServeMux routes without redirecting or re-decoding: it starts with
// "/", path.Clean leaves it unchanged (a trailing slash aside), its escaped
// form is the default encoding of its decoded form (so no %2F or other
// re-encoded bytes), and it holds no ';', '\\', '%' or control characters.
// ok is false otherwise; callers must then treat the path as matching
// nothing that grants access.
func CanonicalPath(r *http.Request) (p string, ok bool) {
	u := r.URL
	if u == nil || u.Opaque != "" || u.RawPath != "" {
		return "", false
	}
	p = u.Path
	if p == "" || p[0] != '/' {
		return "", false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c < 0x20 || c == 0x7f || c == ';' || c == '\\' || c == '%' {
			return "", false
		}
	}
	if !isClean(p) {
		return "", false
	}
	return p, true
}

// isClean reports whether p (starting with "/") has no empty, "." or ".."
// segment; a single trailing slash is allowed. It is path.Clean(p) == p
// (modulo that trailing slash) without the allocation.
func isClean(p string) bool {
	start := 1
	for i := 1; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		seg := p[start:i]
		switch {
		case seg == "" && i != len(p):
			return false // "//"
		case seg == "." || seg == "..":
			return false
		}
		start = i + 1
	}
	return true
}

// MatchPath reports whether the canonical path p matches pattern: exactly, or
// by prefix when pattern ends in "/". It is case-sensitive.
func MatchPath(pattern, p string) bool {
	if pattern == "" || pattern[0] != '/' {
		return false
	}
	if pattern[len(pattern)-1] == '/' {
		return strings.HasPrefix(p, pattern)
	}
	return p == pattern
}

func matchFold(pattern, p string) bool {
	if pattern == "" || pattern[0] != '/' {
		return false
	}
	if pattern[len(pattern)-1] == '/' {
		base := pattern[:len(pattern)-1]
		return strings.EqualFold(p, base) ||
			(len(p) >= len(pattern) && strings.EqualFold(p[:len(pattern)], pattern))
	}
	return strings.EqualFold(p, pattern) || strings.EqualFold(p, pattern+"/")
}
