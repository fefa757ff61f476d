package ratelimit

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzForwardedHeaders feeds arbitrary X-Forwarded-For and Forwarded values
// and peers to the resolver and its parsers. Beyond never panicking, the
// result must be the peer when the peer is untrusted, and otherwise either
// the peer or a hop whose right-hand neighbours are all well-formed trusted
// addresses: no input may widen trust.
func FuzzForwardedHeaders(f *testing.F) {
	f.Add("10.1.2.3:80", "6.6.6.6, 203.0.113.5", `for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"`)
	f.Add("10.1.2.3:80", "10.9.9.9,,10.4.4.4", `for=unknown, for="_hidden"`)
	f.Add("[2001:db8::1]:443", "[2001:db8::2]:1, fe80::1%eth0", `x="a,\"b", for=10.0.0.1`)
	f.Add("203.0.113.9:1", "::ffff:10.0.0.1", `;;,,for=`)
	f.Add("10.0.0.1", "", `for="\`)
	f.Fuzz(func(t *testing.T, remote, xff, fwd string) {
		for _, h := range []ForwardedHeader{XForwardedFor, Forwarded} {
			res, err := NewIPResolver(IPResolverConfig{TrustedProxies: []string{"10.0.0.0/8", "2001:db8::/32"}, Header: h})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = remote
			r.Header.Set("X-Forwarded-For", xff)
			r.Header.Set("Forwarded", fwd)
			got := res.ClientIP(r)
			peer, ok := parseRemoteAddr(remote)
			if !ok {
				if got.IsValid() {
					t.Fatalf("unparsable peer %q resolved to %v", remote, got)
				}
				continue
			}
			if !res.isTrusted(peer) {
				if got != peer {
					t.Fatalf("untrusted peer %v resolved to %v", peer, got)
				}
				continue
			}
			if got == peer {
				continue
			}
			hops := parseXForwardedFor([]string{xff})
			if h == Forwarded {
				hops = parseForwarded([]string{fwd})
			}
			found := false
			for i := len(hops) - 1; i >= 0; i-- {
				a, ok := parseNode(hops[i])
				if !ok {
					break
				}
				if a == got {
					found = true
					break
				}
				if !res.isTrusted(a) {
					break
				}
			}
			if !found {
				t.Fatalf("result %v is not reachable through trusted hops of %q", got, hops)
			}
		}
		// The Forwarded parser never returns more hops than it read, and
		// never a hop with characters a quoted string cannot carry.
		for _, hop := range parseForwarded([]string{fwd}) {
			if strings.ContainsAny(hop, "\r\n\x00") {
				t.Fatalf("hop %q carries control characters", hop)
			}
		}
		if n := len(parseXForwardedFor([]string{xff})); n > maxHops {
			t.Fatalf("%d hops read, bound %d", n, maxHops)
		}
	})
}
