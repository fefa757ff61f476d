package ratelimit

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// KeyFunc returns the key a request is limited under. It returns an error
// wrapping [ErrNoKey] when the request has nothing to key on (no principal,
// no API key), so that [FirstOf] can try another function; [Middleware]
// answers any error as a failure to decide.
//
// A KeyFunc must be safe for concurrent use; those in this package are.
// Keys of the functions in this package carry a prefix naming their kind
// ("ip:", "sub:", "apikey:"), so keys of different kinds never collide in one
// limiter.
type KeyFunc func(r *http.Request) (string, error)

// ErrNoKey is returned by a [KeyFunc] that finds nothing to key the request
// on.
var ErrNoKey = errors.New("ratelimit: no key for request")

// ByClientIP keys requests by client IP: the one in the request context's
// auth.RequestMeta (set by [IPResolver.Middleware] or middleware.RequestID),
// else the socket peer. IPv6 clients are keyed by their /64 network, since a
// single host usually controls a whole /64 and could otherwise rotate
// through addresses; use [ByClientIPPrefix] for other groupings.
func ByClientIP(r *http.Request) (string, error) {
	return clientIPKey(r, 32, 64)
}

// ByClientIPPrefix returns a [KeyFunc] that keys requests by the network of
// their client IP (found as by [ByClientIP]): the first v4Bits bits of IPv4
// addresses and v6Bits bits of IPv6 ones. Bits out of range are clamped to
// [0, 32] and [0, 128].
func ByClientIPPrefix(v4Bits, v6Bits int) KeyFunc {
	v4Bits, v6Bits = min(max(v4Bits, 0), 32), min(max(v6Bits, 0), 128)
	return func(r *http.Request) (string, error) { return clientIPKey(r, v4Bits, v6Bits) }
}

func clientIPKey(r *http.Request, v4Bits, v6Bits int) (string, error) {
	s := auth.RequestMetaFrom(r.Context()).ClientIP
	a, ok := parseRemoteAddr(s)
	if s == "" || !ok {
		a, ok = parseRemoteAddr(r.RemoteAddr)
	}
	if !ok {
		return "", ErrNoKey
	}
	bits := v6Bits
	if a.Is4() {
		bits = v4Bits
	}
	p, _ := a.Prefix(bits) // bits are in range
	if bits == a.BitLen() {
		return "ip:" + p.Addr().String(), nil
	}
	return "ip:" + p.String(), nil
}

// ByPrincipal keys requests by the authenticated principal's subject
// (auth.FromContext). Put the limiter after the authentication middleware.
// Without a principal it returns [ErrNoKey].
func ByPrincipal(r *http.Request) (string, error) {
	p, ok := auth.FromContext(r.Context())
	if !ok || p.Subject == "" {
		return "", ErrNoKey
	}
	return "sub:" + p.Subject, nil
}

// ByAPIKey keys requests by the API key that authenticated them (the
// principal's CredentialID when its method is auth.MethodAPIKey). It keys on
// verified keys only: keying on the raw header before verification would let
// a client mint a fresh limit with every made-up key. Without an API-key
// principal it returns [ErrNoKey].
func ByAPIKey(r *http.Request) (string, error) {
	p, ok := auth.FromContext(r.Context())
	if !ok || p.Method != auth.MethodAPIKey || p.CredentialID == "" {
		return "", ErrNoKey
	}
	return "apikey:" + p.CredentialID, nil
}

// Composite returns a [KeyFunc] whose key combines the keys of all fns (for
// example a route name and the client IP): every function must succeed. Each
// part is length-prefixed, so no choice of parts can produce another
// combination's key.
func Composite(fns ...KeyFunc) KeyFunc {
	return func(r *http.Request) (string, error) {
		var b strings.Builder
		for _, fn := range fns {
			k, err := fn(r)
			if err != nil {
				return "", err
			}
			b.WriteString(strconv.Itoa(len(k)))
			b.WriteByte(':')
			b.WriteString(k)
		}
		return b.String(), nil
	}
}

// FirstOf returns a [KeyFunc] that uses the first of fns that finds a key:
// FirstOf(ByPrincipal, ByClientIP) limits signed-in users by account and
// everyone else by IP. Errors other than [ErrNoKey] stop the search.
func FirstOf(fns ...KeyFunc) KeyFunc {
	return func(r *http.Request) (string, error) {
		for _, fn := range fns {
			k, err := fn(r)
			if !errors.Is(err, ErrNoKey) {
				return k, err
			}
		}
		return "", ErrNoKey
	}
}

// Static returns a [KeyFunc] that gives every request the key s: one limit
// shared by all callers, or, inside [Composite], a name that keeps one
// route's limits apart from another's on a shared limiter.
func Static(s string) KeyFunc {
	k := "static:" + s
	return func(*http.Request) (string, error) { return k, nil }
}
