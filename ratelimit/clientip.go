package ratelimit

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// ForwardedHeader selects the header an [IPResolver] reads behind trusted
// proxies. Exactly one is read: a proxy that sets one header usually passes
// the other through from the client untouched, so reading both would let a
// client choose its own address.
type ForwardedHeader int

const (
	// XForwardedFor reads X-Forwarded-For, a comma-separated list of
	// addresses each proxy appends to. It is what most proxies and load
	// balancers send.
	XForwardedFor ForwardedHeader = iota
	// Forwarded reads the "for" parameters of the standard Forwarded header
	// (RFC 7239 §4, §5.2).
	Forwarded
)

// IPResolverConfig configures an [IPResolver]. The zero value trusts no
// proxy: the client IP is the socket peer, and forwarding headers are
// ignored.
type IPResolverConfig struct {
	// TrustedProxies lists the proxies allowed to report the client address,
	// as CIDR prefixes ("10.0.0.0/8", "2001:db8::/32") or single addresses
	// ("192.0.2.7"). List exactly the proxies in front of the service: any
	// host inside these ranges can claim to be any client.
	TrustedProxies []string
	// Header is the forwarding header the trusted proxies set. The zero value
	// is [XForwardedFor].
	Header ForwardedHeader
}

// IPResolver finds the IP address of the client of a request. It trusts the
// socket peer, and a forwarding header only as far as it was written by the
// configured trusted proxies: it walks the header's hops from the right (the
// one the nearest proxy appended), skipping trusted proxies, and takes the
// first address that is not one. Whatever a client writes to the left of that
// is ignored, so spoofed entries cannot move the result. A malformed hop
// stops the walk; the result is then the nearest trusted hop, never an
// address the client chose.
//
// It is safe for concurrent use.
type IPResolver struct {
	trusted []netip.Prefix
	header  ForwardedHeader
}

// NewIPResolver validates cfg and returns the resolver. It returns an error
// wrapping [ErrInvalidConfig] for an entry of TrustedProxies that is not an
// address or prefix, or an unknown Header.
func NewIPResolver(cfg IPResolverConfig) (*IPResolver, error) {
	if cfg.Header != XForwardedFor && cfg.Header != Forwarded {
		return nil, fmt.Errorf("%w: unknown forwarded header %d", ErrInvalidConfig, cfg.Header)
	}
	res := &IPResolver{header: cfg.Header}
	for _, s := range cfg.TrustedProxies {
		s = strings.TrimSpace(s)
		var p netip.Prefix
		var err error
		if strings.Contains(s, "/") {
			p, err = netip.ParsePrefix(s)
		} else {
			var a netip.Addr
			a, err = netip.ParseAddr(s)
			if err == nil && a.Zone() != "" {
				err = fmt.Errorf("zone")
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if err != nil || !p.IsValid() {
			return nil, fmt.Errorf("%w: trusted proxy %q is not an IP address or CIDR prefix", ErrInvalidConfig, s)
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				return nil, fmt.Errorf("%w: trusted proxy %q mixes IPv4-mapped and IPv6 ranges", ErrInvalidConfig, s)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		res.trusted = append(res.trusted, p.Masked())
	}
	return res, nil
}

// ClientIP returns the client address of r: the socket peer, or, when the
// peer is a trusted proxy, the rightmost hop of the forwarding header that is
// not a trusted proxy. It returns the zero Addr when r.RemoteAddr is not an
// IP address (a Unix socket, a test without one).
func (res *IPResolver) ClientIP(r *http.Request) netip.Addr {
	peer, ok := parseRemoteAddr(r.RemoteAddr)
	if !ok {
		return netip.Addr{}
	}
	if !res.isTrusted(peer) {
		return peer
	}
	var hops []string
	switch res.header {
	case XForwardedFor:
		hops = parseXForwardedFor(r.Header.Values("X-Forwarded-For"))
	case Forwarded:
		hops = parseForwarded(r.Header.Values("Forwarded"))
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseNode(hops[i])
		if !ok {
			break
		}
		client = a
		if !res.isTrusted(a) {
			break
		}
	}
	return client
}

// Middleware stores the resolved client IP in the request context's
// auth.RequestMeta (keeping its other fields), where key functions such as
// [ByClientIP] and components emitting events find it. Put it before
// middleware.RequestID, which keeps a client IP already present. A request
// whose address cannot be resolved passes with its RequestMeta unchanged.
func (res *IPResolver) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := res.ClientIP(r); a.IsValid() {
			m := auth.RequestMetaFrom(r.Context())
			m.ClientIP = a.String()
			r = r.WithContext(auth.WithRequestMeta(r.Context(), m))
		}
		next.ServeHTTP(w, r)
	})
}

func (res *IPResolver) isTrusted(a netip.Addr) bool {
	for _, p := range res.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseRemoteAddr parses http.Request.RemoteAddr ("ip:port", "[ip6]:port",
// possibly a bare IP) into an unmapped address without zone.
func parseRemoteAddr(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return clean(ap.Addr())
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return clean(a)
}

// clean drops the zone and unmaps IPv4-mapped IPv6 addresses, so that one
// client has one spelling.
func clean(a netip.Addr) (netip.Addr, bool) {
	return a.WithZone("").Unmap(), a.IsValid()
}

// maxHops bounds the hops read from forwarding headers. More hops than this
// means the header is mostly client-written padding; the walk from the right
// reads only the last maxHops.
const maxHops = 32

// parseXForwardedFor splits X-Forwarded-For header lines into hops, in order.
// Multiple lines count as one comma-separated list (RFC 9110 §5.3).
func parseXForwardedFor(values []string) []string {
	var hops []string
	for _, v := range values {
		for h := range strings.SplitSeq(v, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	return lastHops(hops)
}

func lastHops(hops []string) []string {
	if len(hops) > maxHops {
		return hops[len(hops)-maxHops:]
	}
	return hops
}

// parseNode parses one hop: an IPv4 or IPv6 address, optionally bracketed
// and with a port ("192.0.2.1:8080", "[2001:db8::1]:443"). Anything else
// ("unknown", obfuscated identifiers, empty) is not an address.
func parseNode(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return clean(ap.Addr())
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	} else if strings.Contains(s, "[") || strings.Contains(s, "]") {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return clean(a)
}

// parseForwarded returns the "for" value of each forwarded-element of the
// Forwarded header lines (RFC 7239 §4), in order, unquoted. An element
// without a "for" parameter, or one that does not parse, yields an empty
// hop, which stops the resolver's walk at that point.
//
//	Forwarded   = 1#forwarded-element
//	forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )
//	forwarded-pair = token "=" value
//	value       = token / quoted-string
func parseForwarded(values []string) []string {
	var hops []string
	for _, v := range values {
		for len(v) > 0 {
			var hop string
			var ok bool
			hop, v, ok = parseForwardedElement(v)
			if !ok {
				// The rest of this line cannot be split reliably.
				hops = append(hops, "")
				break
			}
			hops = append(hops, hop)
		}
	}
	return lastHops(hops)
}

// parseForwardedElement parses one element from the start of s and returns
// its "for" value, the rest of s after the element's comma, and whether the
// element was well formed.
func parseForwardedElement(s string) (forValue, rest string, ok bool) {
	seenFor := false
	for {
		s = trimOWS(s)
		if s == "" {
			return forValue, "", true
		}
		switch s[0] {
		case ',':
			return forValue, s[1:], true
		case ';':
			s = s[1:]
			continue
		}
		name, after, found := cutToken(s)
		if !found || after == "" || after[0] != '=' {
			return "", "", false
		}
		val, after2, okv := parseValue(after[1:])
		if !okv {
			return "", "", false
		}
		if strings.EqualFold(name, "for") {
			if seenFor {
				return "", "", false // RFC 7239 §4: each parameter at most once
			}
			seenFor, forValue = true, val
		}
		s = after2
	}
}

// cutToken returns the RFC 9110 token at the start of s and the rest.
func cutToken(s string) (tok, rest string, ok bool) {
	i := 0
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	return s[:i], s[i:], i > 0
}

// parseValue parses a token or quoted-string at the start of s.
func parseValue(s string) (val, rest string, ok bool) {
	if s == "" {
		return "", "", false
	}
	if s[0] != '"' {
		return cutToken(s)
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return b.String(), s[i+1:], true
		case c == '\\':
			if i+1 == len(s) {
				return "", "", false
			}
			i++
			b.WriteByte(s[i])
		case c == '\t' || (c >= 0x20 && c != 0x7f):
			b.WriteByte(c)
		default:
			return "", "", false
		}
	}
	return "", "", false
}

func trimOWS(s string) string { return strings.TrimLeft(s, " \t") }

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
