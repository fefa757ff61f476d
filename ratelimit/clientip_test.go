package ratelimit_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
)

func resolver(t *testing.T, h ratelimit.ForwardedHeader, trusted ...string) *ratelimit.IPResolver {
	t.Helper()
	res, err := ratelimit.NewIPResolver(ratelimit.IPResolverConfig{TrustedProxies: trusted, Header: h})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func request(remote string, hdr ...string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	return r
}

func TestIPResolverXForwardedFor(t *testing.T) {
	trusted := []string{"10.0.0.0/8", "2001:db8:ffff::/48", "192.0.2.7"}
	cases := []struct {
		name   string
		remote string
		hdr    []string
		want   string
	}{
		{"no proxy trusted by default: header ignored", "203.0.113.9:5555", []string{"X-Forwarded-For", "1.1.1.1"}, "203.0.113.9"},
		{"untrusted peer spoofing XFF", "198.51.100.2:443", []string{"X-Forwarded-For", "10.0.0.1, 8.8.8.8"}, "198.51.100.2"},
		{"untrusted peer spoofing Forwarded", "198.51.100.2:443", []string{"Forwarded", "for=8.8.8.8"}, "198.51.100.2"},
		{"trusted peer, no header", "10.1.2.3:80", nil, "10.1.2.3"},
		{"trusted peer, one hop", "10.1.2.3:80", []string{"X-Forwarded-For", "203.0.113.5"}, "203.0.113.5"},
		{"client-prepended spoof left of the real hop", "10.1.2.3:80", []string{"X-Forwarded-For", "6.6.6.6, 203.0.113.5"}, "203.0.113.5"},
		{"client spoofs a trusted address on the left", "10.1.2.3:80", []string{"X-Forwarded-For", "10.9.9.9, 203.0.113.5"}, "203.0.113.5"},
		{"chain of trusted proxies", "10.1.2.3:80", []string{"X-Forwarded-For", "6.6.6.6, 203.0.113.5, 192.0.2.7, 10.4.4.4"}, "203.0.113.5"},
		{"multiple header lines are one list", "10.1.2.3:80", []string{"X-Forwarded-For", "6.6.6.6", "X-Forwarded-For", "203.0.113.5, 10.4.4.4"}, "203.0.113.5"},
		{"every hop trusted: the leftmost", "10.1.2.3:80", []string{"X-Forwarded-For", "10.7.7.7, 10.4.4.4"}, "10.7.7.7"},
		{"garbage hop appended by a trusted proxy stops at the proxy", "10.1.2.3:80", []string{"X-Forwarded-For", "203.0.113.5, nonsense"}, "10.1.2.3"},
		{"garbage left of the real hop ignored", "10.1.2.3:80", []string{"X-Forwarded-For", "<script>, 203.0.113.5"}, "203.0.113.5"},
		{"empty hop stops the walk", "10.1.2.3:80", []string{"X-Forwarded-For", "203.0.113.5,,10.4.4.4"}, "10.4.4.4"},
		{"empty header", "10.1.2.3:80", []string{"X-Forwarded-For", ""}, "10.1.2.3"},
		{"hop with port", "10.1.2.3:80", []string{"X-Forwarded-For", "203.0.113.5:4711"}, "203.0.113.5"},
		{"IPv6 hop", "10.1.2.3:80", []string{"X-Forwarded-For", "2001:db8:1::17"}, "2001:db8:1::17"},
		{"bracketed IPv6 hop with port", "10.1.2.3:80", []string{"X-Forwarded-For", "[2001:db8:1::17]:4711"}, "2001:db8:1::17"},
		{"bracketed IPv6 hop without port", "10.1.2.3:80", []string{"X-Forwarded-For", "[2001:db8:1::17]"}, "2001:db8:1::17"},
		{"IPv6 hop with zone loses the zone", "10.1.2.3:80", []string{"X-Forwarded-For", "fe80::1%eth0"}, "fe80::1"},
		{"IPv4-mapped hop is unmapped and trusted as IPv4", "10.1.2.3:80", []string{"X-Forwarded-For", "203.0.113.5, ::ffff:10.4.4.4"}, "203.0.113.5"},
		{"half bracket is garbage", "10.1.2.3:80", []string{"X-Forwarded-For", "[2001:db8::1"}, "10.1.2.3"},
		{"unknown is garbage", "10.1.2.3:80", []string{"X-Forwarded-For", "unknown"}, "10.1.2.3"},
		{"CIDR in a hop is garbage", "10.1.2.3:80", []string{"X-Forwarded-For", "203.0.113.0/24"}, "10.1.2.3"},
		{"trusted IPv6 peer", "[2001:db8:ffff::1]:443", []string{"X-Forwarded-For", "203.0.113.5"}, "203.0.113.5"},
		{"IPv6 peer outside the trusted /48", "[2001:db8:fffe::1]:443", []string{"X-Forwarded-For", "203.0.113.5"}, "2001:db8:fffe::1"},
		{"peer with zone", "[fe80::1%lo]:443", []string{"X-Forwarded-For", "203.0.113.5"}, "fe80::1"},
		{"IPv4-mapped peer in a trusted IPv4 range", "[::ffff:10.1.2.3]:80", []string{"X-Forwarded-For", "203.0.113.5"}, "203.0.113.5"},
		{"peer without port", "10.1.2.3", []string{"X-Forwarded-For", "203.0.113.5"}, "203.0.113.5"},
		{"Forwarded ignored in XFF mode", "10.1.2.3:80", []string{"Forwarded", "for=6.6.6.6", "X-Forwarded-For", "203.0.113.5"}, "203.0.113.5"},
		{"lower-case header name", "10.1.2.3:80", []string{"x-forwarded-for", "203.0.113.5"}, "203.0.113.5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := resolver(t, ratelimit.XForwardedFor, trusted...)
			if tc.name == "no proxy trusted by default: header ignored" {
				res = resolver(t, ratelimit.XForwardedFor)
			}
			got := res.ClientIP(request(tc.remote, tc.hdr...))
			if got.String() != tc.want {
				t.Fatalf("ClientIP = %v, want %s", got, tc.want)
			}
		})
	}
}

func TestIPResolverForwarded(t *testing.T) {
	cases := []struct {
		name string
		hdr  []string
		want string
	}{
		{"RFC 7239 example", []string{"Forwarded", `for="_gazonk"`}, "10.1.2.3"},
		{"plain IPv4", []string{"Forwarded", "for=192.0.2.60;proto=http;by=203.0.113.43"}, "192.0.2.60"},
		{"case-insensitive parameter name", []string{"Forwarded", "For=192.0.2.60"}, "192.0.2.60"},
		{"quoted IPv6 with port", []string{"Forwarded", `for="[2001:db8:cafe::17]:4711"`}, "2001:db8:cafe::17"},
		{"unquoted IPv6 is malformed", []string{"Forwarded", `for=[2001:db8:cafe::17]`}, "10.1.2.3"},
		{"spoofed element left of the real one", []string{"Forwarded", "for=6.6.6.6, for=192.0.2.60"}, "192.0.2.60"},
		{"trusted proxy element skipped", []string{"Forwarded", "for=192.0.2.60, for=10.4.4.4;by=10.1.2.3"}, "192.0.2.60"},
		{"several lines", []string{"Forwarded", "for=6.6.6.6", "Forwarded", "for=192.0.2.60"}, "192.0.2.60"},
		{"unknown node", []string{"Forwarded", "for=unknown"}, "10.1.2.3"},
		{"element without for", []string{"Forwarded", "for=6.6.6.6, proto=https"}, "10.1.2.3"},
		{"duplicate for in one element", []string{"Forwarded", "for=192.0.2.60;for=6.6.6.6"}, "10.1.2.3"},
		{"comma inside a quoted string", []string{"Forwarded", `for=6.6.6.6;x="a,for=7.7.7.7", for=192.0.2.60`}, "192.0.2.60"},
		{"escaped quote", []string{"Forwarded", `x="\"", for=192.0.2.60`}, "192.0.2.60"},
		{"unterminated quote", []string{"Forwarded", `for="192.0.2.60`}, "10.1.2.3"},
		{"garbage after the real element", []string{"Forwarded", "for=192.0.2.60, ;;=="}, "10.1.2.3"},
		{"whitespace around separators", []string{"Forwarded", "for=6.6.6.6 ,  for=192.0.2.60 ; proto=https"}, "192.0.2.60"},
		{"X-Forwarded-For ignored in Forwarded mode", []string{"X-Forwarded-For", "6.6.6.6", "Forwarded", "for=192.0.2.60"}, "192.0.2.60"},
		{"no header", nil, "10.1.2.3"},
	}
	res := resolver(t, ratelimit.Forwarded, "10.0.0.0/8")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := res.ClientIP(request("10.1.2.3:80", tc.hdr...))
			if got.String() != tc.want {
				t.Fatalf("ClientIP = %v, want %s", got, tc.want)
			}
		})
	}
}

func TestIPResolverUnparsableRemoteAddr(t *testing.T) {
	res := resolver(t, ratelimit.XForwardedFor, "0.0.0.0/0")
	for _, remote := range []string{"", "@", "pipe", "1.2.3.4:80:90", "[::1"} {
		if got := res.ClientIP(request(remote, "X-Forwarded-For", "203.0.113.5")); got.IsValid() {
			t.Errorf("RemoteAddr %q: ClientIP = %v, want invalid", remote, got)
		}
	}
}

func TestIPResolverLongSpoofedHeaderCannotWin(t *testing.T) {
	res := resolver(t, ratelimit.XForwardedFor, "10.0.0.0/8")
	hdr := ""
	for range 1000 {
		hdr += "10.9.9.9, "
	}
	hdr += "10.8.8.8"
	// Every hop is a trusted address: the answer is a trusted hop, never an
	// address from beyond the bounded read.
	got := res.ClientIP(request("10.1.2.3:80", "X-Forwarded-For", "6.6.6.6, "+hdr))
	if got.String() != "10.9.9.9" {
		t.Fatalf("ClientIP = %v", got)
	}
}

func TestNewIPResolverInvalid(t *testing.T) {
	for name, cfg := range map[string]ratelimit.IPResolverConfig{
		"hostname":               {TrustedProxies: []string{"proxy.internal"}},
		"bad prefix length":      {TrustedProxies: []string{"10.0.0.0/33"}},
		"empty entry":            {TrustedProxies: []string{""}},
		"zone":                   {TrustedProxies: []string{"fe80::1%eth0"}},
		"mapped prefix too wide": {TrustedProxies: []string{"::ffff:0:0/80"}},
		"unknown header":         {Header: 7},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ratelimit.NewIPResolver(cfg); !errors.Is(err, ratelimit.ErrInvalidConfig) {
				t.Fatalf("err = %v, want ErrInvalidConfig", err)
			}
		})
	}
	res, err := ratelimit.NewIPResolver(ratelimit.IPResolverConfig{TrustedProxies: []string{"::ffff:10.0.0.0/104"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.ClientIP(request("10.1.1.1:1", "X-Forwarded-For", "203.0.113.5")); got != netip.MustParseAddr("203.0.113.5") {
		t.Fatalf("IPv4-mapped trusted prefix not applied to IPv4 peers: %v", got)
	}
}

func TestIPResolverMiddlewareKeepsRequestMeta(t *testing.T) {
	res := resolver(t, ratelimit.XForwardedFor, "10.0.0.0/8")
	var got auth.RequestMeta
	h := res.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = auth.RequestMetaFrom(r.Context())
	}))
	r := request("10.1.2.3:80", "X-Forwarded-For", "203.0.113.5")
	r = r.WithContext(auth.WithRequestMeta(r.Context(), auth.RequestMeta{RequestID: "req-1", UserAgent: "ua", ClientIP: "10.1.2.3"}))
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got != (auth.RequestMeta{RequestID: "req-1", UserAgent: "ua", ClientIP: "203.0.113.5"}) {
		t.Fatalf("RequestMeta = %+v", got)
	}
	// An unresolvable address leaves the meta alone.
	r = request("@")
	r = r.WithContext(auth.WithRequestMeta(r.Context(), auth.RequestMeta{RequestID: "req-2"}))
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got != (auth.RequestMeta{RequestID: "req-2"}) {
		t.Fatalf("RequestMeta for unix socket = %+v", got)
	}
}
