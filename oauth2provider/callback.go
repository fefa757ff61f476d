package oauth2provider

import (
	"net/url"
)

// Limits on the authorization response (RFC 6749 §4.1.2). Real codes and
// states are far shorter; the limits keep junk out of logs and stores.
const (
	maxCallbackQuery = 8192
	maxCode          = 2048
	maxState         = 512
	maxErrorCode     = 64
	maxErrorDesc     = 256
)

// callbackParams is a parsed authorization response.
type callbackParams struct {
	code, state, iss string
	idpErr           *IdPError // non-nil for an error response
}

// parseCallback parses the query of a redirect back from the IdP. It refuses
// repeated parameters (RFC 6749 §3.1: parameters MUST NOT be included more
// than once), and code, state and iss values that are empty, too long or not
// visible ASCII. An error response (an "error" parameter) is returned as
// idpErr with its fields cleaned, whatever else the query holds.
func parseCallback(rawQuery string) (callbackParams, error) {
	var p callbackParams
	if len(rawQuery) > maxCallbackQuery {
		return p, ErrMalformedCallback
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return p, ErrMalformedCallback
	}
	for _, k := range []string{"code", "state", "iss", "error", "error_description", "error_uri"} {
		if len(q[k]) > 1 {
			return p, ErrMalformedCallback
		}
	}
	if _, ok := q["error"]; ok {
		p.idpErr = &IdPError{
			Code:        clean(q.Get("error"), maxErrorCode),
			Description: clean(q.Get("error_description"), maxErrorDesc),
		}
		if p.idpErr.Code == "" {
			p.idpErr.Code = "unknown"
		}
		p.state = q.Get("state")
		return p, nil
	}
	p.code, p.state, p.iss = q.Get("code"), q.Get("state"), q.Get("iss")
	if !visible(p.code, 1, maxCode) || !visible(p.state, 1, maxState) {
		return callbackParams{}, ErrMalformedCallback
	}
	if _, ok := q["iss"]; ok && !visible(p.iss, 1, maxCode) {
		return callbackParams{}, ErrMalformedCallback
	}
	return p, nil
}

// visible reports whether s is min to max characters of %x20-7E (the VSCHAR
// set of RFC 6749 Appendix A).
func visible(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
