package ratelimit_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
)

func withPrincipal(r *http.Request, p *auth.Principal) *http.Request {
	return r.WithContext(auth.NewContext(r.Context(), p))
}

func withClientIP(r *http.Request, ip string) *http.Request {
	m := auth.RequestMetaFrom(r.Context())
	m.ClientIP = ip
	return r.WithContext(auth.WithRequestMeta(r.Context(), m))
}

func TestKeyFuncs(t *testing.T) {
	apiKeyUser := &auth.Principal{Subject: "u1", Method: auth.MethodAPIKey, CredentialID: "key_42"}
	jwtUser := &auth.Principal{Subject: "u1", Method: auth.MethodJWT, CredentialID: "jti-9"}
	cases := []struct {
		name string
		fn   ratelimit.KeyFunc
		req  *http.Request
		want string
		err  error
	}{
		{"socket IPv4", ratelimit.ByClientIP, request("203.0.113.5:999"), "ip:203.0.113.5", nil},
		{"resolved IP from request meta wins over socket", ratelimit.ByClientIP, withClientIP(request("10.0.0.1:1"), "203.0.113.5"), "ip:203.0.113.5", nil},
		{"IPv6 grouped by /64", ratelimit.ByClientIP, request("[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:1"), "ip:2001:db8:1:2::/64", nil},
		{"IPv6 neighbour in the same /64 shares the key", ratelimit.ByClientIP, request("[2001:db8:1:2::1]:1"), "ip:2001:db8:1:2::/64", nil},
		{"IPv4-mapped IPv6 socket is IPv4", ratelimit.ByClientIP, request("[::ffff:203.0.113.5]:1"), "ip:203.0.113.5", nil},
		{"zone dropped", ratelimit.ByClientIP, request("[fe80::1%eth0]:1"), "ip:fe80::/64", nil},
		{"garbage request meta falls back to socket", ratelimit.ByClientIP, withClientIP(request("203.0.113.5:1"), "not-an-ip"), "ip:203.0.113.5", nil},
		{"no address at all", ratelimit.ByClientIP, request("@"), "", ratelimit.ErrNoKey},
		{"IPv4 /24 grouping", ratelimit.ByClientIPPrefix(24, 48), request("203.0.113.5:1"), "ip:203.0.113.0/24", nil},
		{"IPv6 full address", ratelimit.ByClientIPPrefix(32, 128), request("[2001:db8::7]:1"), "ip:2001:db8::7", nil},
		{"out of range bits clamp", ratelimit.ByClientIPPrefix(99, -3), request("[2001:db8::7]:1"), "ip:::/0", nil},
		{"principal", ratelimit.ByPrincipal, withPrincipal(request("1.2.3.4:1"), jwtUser), "sub:u1", nil},
		{"no principal", ratelimit.ByPrincipal, request("1.2.3.4:1"), "", ratelimit.ErrNoKey},
		{"principal without subject", ratelimit.ByPrincipal, withPrincipal(request("1.2.3.4:1"), &auth.Principal{}), "", ratelimit.ErrNoKey},
		{"API key", ratelimit.ByAPIKey, withPrincipal(request("1.2.3.4:1"), apiKeyUser), "apikey:key_42", nil},
		{"JWT principal is not an API key", ratelimit.ByAPIKey, withPrincipal(request("1.2.3.4:1"), jwtUser), "", ratelimit.ErrNoKey},
		{"unverified API key header is no key", ratelimit.ByAPIKey, func() *http.Request {
			r := request("1.2.3.4:1")
			r.Header.Set("X-API-Key", "gh_made_up")
			return r
		}(), "", ratelimit.ErrNoKey},
		{"first of: principal", ratelimit.FirstOf(ratelimit.ByPrincipal, ratelimit.ByClientIP), withPrincipal(request("1.2.3.4:1"), jwtUser), "sub:u1", nil},
		{"first of: falls back to IP", ratelimit.FirstOf(ratelimit.ByPrincipal, ratelimit.ByClientIP), request("1.2.3.4:1"), "ip:1.2.3.4", nil},
		{"first of: nothing", ratelimit.FirstOf(ratelimit.ByPrincipal, ratelimit.ByAPIKey), request("1.2.3.4:1"), "", ratelimit.ErrNoKey},
		{"composite", ratelimit.Composite(ratelimit.Static("login"), ratelimit.ByClientIP), request("1.2.3.4:1"), "12:static:login10:ip:1.2.3.4", nil},
		{"composite fails when a part fails", ratelimit.Composite(ratelimit.Static("x"), ratelimit.ByPrincipal), request("1.2.3.4:1"), "", ratelimit.ErrNoKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.fn(tc.req)
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if got != tc.want {
				t.Fatalf("key = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCompositeNoAmbiguity(t *testing.T) {
	// Parts chosen so that plain concatenation would collide.
	a, _ := ratelimit.Composite(ratelimit.Static("a|b"), ratelimit.Static("c"))(request("1.2.3.4:1"))
	b, _ := ratelimit.Composite(ratelimit.Static("a"), ratelimit.Static("b|c"))(request("1.2.3.4:1"))
	if a == b {
		t.Fatalf("distinct parts produced one key %q", a)
	}
}

// errKey is a key function whose source is broken.
func errKey(*http.Request) (string, error) { return "", errors.New("session store down") }

func TestFirstOfStopsAtRealErrors(t *testing.T) {
	_, err := ratelimit.FirstOf(errKey, ratelimit.ByClientIP)(request("1.2.3.4:1"))
	if err == nil || errors.Is(err, ratelimit.ErrNoKey) {
		t.Fatalf("err = %v, want the key function's failure", err)
	}
}
