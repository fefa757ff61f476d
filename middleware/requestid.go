package middleware

import (
	"crypto/rand"
	"net"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// RequestIDHeader is the header that carries request IDs.
const RequestIDHeader = "X-Request-ID"

// maxUserAgent caps the User-Agent copied into events.
const maxUserAgent = 256

// ValidRequestID reports whether id may be echoed: 1 to 128 characters of
// [A-Za-z0-9._-].
func ValidRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') ||
			c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// RequestID gives every request an ID: a sane incoming X-Request-ID
// ([ValidRequestID]) is kept, anything else is replaced by a fresh random ID.
// The ID is set on the response header and, with the socket peer address and
// the (truncated) User-Agent, in the request context as auth.RequestMeta, from
// which components copy it into events. A client IP already present in the
// context (set by a trusted-proxy resolver that runs earlier) is kept.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !ValidRequestID(id) {
			id = rand.Text()
		}
		w.Header().Set(RequestIDHeader, id)
		m := auth.RequestMetaFrom(r.Context())
		m.RequestID = id
		if m.ClientIP == "" {
			m.ClientIP = PeerIP(r)
		}
		ua := r.UserAgent()
		if len(ua) > maxUserAgent {
			ua = ua[:maxUserAgent]
		}
		m.UserAgent = ua
		next.ServeHTTP(w, r.WithContext(auth.WithRequestMeta(r.Context(), m)))
	})
}

// PeerIP returns the IP of the socket peer from r.RemoteAddr, without port.
func PeerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
