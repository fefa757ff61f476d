package session

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/secure"
)

// secretBytes is the size of a session secret: 256 bits from crypto/rand.
const secretBytes = 32

// cookieValueLen is the length of a cookie value: 32 bytes in unpadded
// base64url.
const cookieValueLen = 43

// idLen is the length of a session ID: a hex SHA-256.
const idLen = 64

// newSecret returns a fresh cookie value.
func newSecret() string { return secure.Token(secretBytes) }

// sessionID returns the ID under which the session of cookie value v is
// stored: secure.HashHex(v), computed without allocating more than the
// result when v has the length of a cookie value.
func sessionID(v string) string {
	if len(v) != cookieValueLen {
		return secure.HashHex(v)
	}
	var in [cookieValueLen]byte
	copy(in[:], v)
	sum := sha256.Sum256(in[:])
	var out [idLen]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}

// cookieValue returns the value of the first cookie called name in h's
// Cookie headers, as (*http.Request).Cookie would (RFC 6265 §5.4: pairs
// separated by ";", surrounding ASCII space trimmed, one pair of double
// quotes removed, pairs whose value holds bytes not allowed in a cookie
// skipped), without allocating. It reads attacker input.
func cookieValue(h http.Header, name string) (string, bool) {
	for _, line := range h["Cookie"] {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			n, v, _ := strings.Cut(trimSpace(part), "=")
			if trimSpace(n) != name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if validCookieBytes(v) {
				return v, true
			}
		}
	}
	return "", false
}

// trimSpace removes leading and trailing ASCII space, as textproto.TrimString.
func trimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// validCookieBytes reports whether every byte of v may appear in a cookie
// value as net/http accepts one.
func validCookieBytes(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f || c == '"' || c == ';' || c == '\\' {
			return false
		}
	}
	return true
}

// validCookieValue reports whether v is a session cookie value: exactly 43
// characters of the base64url alphabet (RFC 4648 §5) in canonical form, that
// is, the last character carries no bits beyond the 256 of the secret. It
// reads attacker input, allocates nothing and looks at every byte once.
func validCookieValue(v string) bool {
	if len(v) != cookieValueLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		if b64Value(v[i]) < 0 {
			return false
		}
	}
	// 43 characters carry 258 bits; the 2 low bits of the last one must be 0.
	return b64Value(v[cookieValueLen-1])&3 == 0
}

// b64Value returns the 6-bit value of a base64url character, or -1.
func b64Value(c byte) int {
	switch {
	case 'A' <= c && c <= 'Z':
		return int(c - 'A')
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 26
	case '0' <= c && c <= '9':
		return int(c-'0') + 52
	case c == '-':
		return 62
	case c == '_':
		return 63
	}
	return -1
}

// validID reports whether id has the form of a session ID: 64 lower-case hex
// digits.
func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9') && !('a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// CookieName returns the name of the session cookie: "__Host-" plus
// Config.CookieName, or Config.CookieName alone with InsecureCookie.
func (m *Manager) CookieName() string { return m.cookieName }

// setCookie sets the session cookie to value on w, replacing any session
// cookie set earlier in the same response. The cookie has no Expires or
// Max-Age: the browser forgets it when it closes, and the server ends the
// session at its idle or absolute deadline regardless.
func (m *Manager) setCookie(w http.ResponseWriter, value string) {
	m.writeCookie(w, &http.Cookie{
		Name:     m.cookieName,
		Value:    value,
		Path:     "/",
		Secure:   m.secure,
		HttpOnly: true,
		SameSite: m.cfg.SameSite,
	})
}

// clearCookie tells the browser to delete the session cookie.
func (m *Manager) clearCookie(w http.ResponseWriter) {
	m.writeCookie(w, &http.Cookie{
		Name:     m.cookieName,
		Value:    "",
		Path:     "/",
		Secure:   m.secure,
		HttpOnly: true,
		SameSite: m.cfg.SameSite,
		MaxAge:   -1,
		Expires:  time.Unix(0, 0),
	})
}

func (m *Manager) writeCookie(w http.ResponseWriter, c *http.Cookie) {
	h := w.Header()
	prefix := m.cookieName + "="
	if old := h["Set-Cookie"]; len(old) > 0 {
		kept := old[:0]
		for _, v := range old {
			if !strings.HasPrefix(v, prefix) {
				kept = append(kept, v)
			}
		}
		h["Set-Cookie"] = kept
	}
	h.Add("Set-Cookie", c.String())
	// A response that sets a session must never be stored by a cache and
	// replayed to someone else.
	h.Set("Cache-Control", "no-store")
}
