package oauth2provider

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// maxFlowCookie bounds the flow cookie value read from a request; a genuine
// one is under 400 bytes.
const maxFlowCookie = 1024

// flow is what a login flow remembers between the redirect to the IdP and
// the callback. It travels in the flow cookie, signed or encrypted: the
// client can neither forge nor alter it.
type flow struct {
	ID       string `json:"i"` // one-time ID checked against the ReplayStore
	State    string `json:"s"` // RFC 6749 §10.12
	Verifier string `json:"v"` // RFC 7636 code_verifier
	Nonce    string `json:"n,omitempty"`
	Expires  int64  `json:"e"` // Unix seconds
	IdP      string `json:"p"` // Config.Name: a flow of one IdP is useless at another
}

// flowCodec seals and opens flow cookies, with HMAC-SHA256 (hmacKey) or
// with the keyring's AES-GCM.
type flowCodec struct {
	idp     string
	hmacKey []byte
	keyring *auth.Keyring
}

// macInput is the HMAC input: a label bound to the IdP name, then the payload.
func (c *flowCodec) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, c.hmacKey)
	m.Write([]byte("gatehouse/oauth2provider/flow\x00" + c.idp + "\x00"))
	m.Write(payload)
	return m.Sum(nil)
}

func (c *flowCodec) ad() []byte { return []byte("gatehouse/oauth2provider/flow/" + c.idp) }

// seal returns the cookie value for f.
func (c *flowCodec) seal(f flow) (string, error) {
	payload, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	if c.keyring != nil {
		return c.keyring.Encrypt(payload, c.ad())
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(c.mac(payload)), nil
}

// open checks and decodes a cookie value. Every failure is ErrFlowMissing:
// a value this codec did not seal is the same as no value. Expiry is the
// caller's check.
func (c *flowCodec) open(value string) (flow, error) {
	var f flow
	if len(value) == 0 || len(value) > maxFlowCookie {
		return f, ErrFlowMissing
	}
	var payload []byte
	if c.keyring != nil {
		p, err := c.keyring.Decrypt(value, c.ad())
		if err != nil {
			return f, fmt.Errorf("%w: %v", ErrFlowMissing, err)
		}
		payload = p
	} else {
		b64, b64mac, ok := strings.Cut(value, ".")
		if !ok {
			return f, ErrFlowMissing
		}
		enc := base64.RawURLEncoding.Strict()
		p, err1 := enc.DecodeString(b64)
		sum, err2 := enc.DecodeString(b64mac)
		if err1 != nil || err2 != nil || len(sum) != sha256.Size || !hmac.Equal(sum, c.mac(p)) {
			return f, ErrFlowMissing
		}
		payload = p
	}
	d := json.NewDecoder(bytes.NewReader(payload))
	d.DisallowUnknownFields()
	if err := d.Decode(&f); err != nil || d.More() {
		return flow{}, ErrFlowMissing
	}
	if f.IdP != c.idp || !tokenLike(f.ID, 16, 64) || !tokenLike(f.State, 16, 128) ||
		!tokenLike(f.Verifier, 43, 128) || (f.Nonce != "" && !tokenLike(f.Nonce, 16, 128)) || f.Expires <= 0 {
		return flow{}, ErrFlowMissing
	}
	return f, nil
}

// tokenLike reports whether s is min to max characters of the base64url
// alphabet, which is what the provider generates (RFC 7636 §4.1 also allows
// "." and "~" in verifiers, but they are not generated here).
func tokenLike(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// flowCookie returns the cookie carrying value until expires.
func (p *Provider) flowCookie(value string, now, expires time.Time) *http.Cookie {
	return &http.Cookie{
		Name:     p.cookieName,
		Value:    value,
		Path:     "/",
		Expires:  expires,
		MaxAge:   int(expires.Sub(now) / time.Second),
		HttpOnly: true,
		Secure:   !p.cfg.InsecureCookie,
		SameSite: http.SameSiteLaxMode,
	}
}

// clearCookie returns the cookie that deletes the flow cookie.
func (p *Provider) clearCookie() *http.Cookie {
	return &http.Cookie{
		Name:     p.cookieName,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   !p.cfg.InsecureCookie,
		SameSite: http.SameSiteLaxMode,
	}
}
