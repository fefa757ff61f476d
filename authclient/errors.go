package authclient

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// Sentinel errors of the client.
var (
	// ErrNoMFACallback is returned, together with the server's mfa_required
	// *Error, when a login asks for a second factor and no [WithMFA] callback
	// is configured.
	ErrNoMFACallback = errors.New("authclient: the server asks for a second factor and no MFA callback is configured")

	// ErrNoCredentials is returned by calls that need a credential the client
	// was not configured with (for example [Client.Login] in API key mode).
	ErrNoCredentials = errors.New("authclient: no credential for this operation")

	// ErrBadTokenResponse is returned when a login or refresh answers 200
	// with a body that is not a usable Bearer token pair.
	ErrBadTokenResponse = errors.New("authclient: malformed token response")
)

// maxErrorBody caps how much of an error response is read to decode it.
const maxErrorBody = 64 << 10

// maxDescription caps the error_description kept from a response.
const maxDescription = 512

// Error is an error answered by the API in its JSON shape
// {"error": "<code>", "error_description": "<text>"}, or any other non-2xx
// answer (then Code and Description are empty). Use errors.As to read it.
//
// errors.Is(err, target) holds when target is an *Error or an *auth.Error
// with the same non-empty Code, so callers can write
// errors.Is(err, auth.ErrAccountLocked).
//
// An Error never holds a credential: the mfa_token of an mfa_required answer
// is kept out of it.
type Error struct {
	// Status is the HTTP status code of the response.
	Status int
	// Code is the "error" member, for example "token_expired"; empty when the
	// body was not a JSON error.
	Code string
	// Description is the "error_description" member, with control
	// characters removed and cut to 512 bytes. It comes from the server:
	// show it, but do not treat it as trusted markup.
	Description string
	// RetryAfter is the delay the Retry-After header asked for (RFC 9110
	// §10.2.3), or zero when the header was absent or malformed.
	RetryAfter time.Duration
}

// Error returns "authclient: <status> <code>: <description>".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("authclient: ")
	b.WriteString(strconv.Itoa(e.Status))
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	} else if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" ")
		b.WriteString(t)
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	return b.String()
}

// Is reports whether target is an *Error or an *auth.Error with e's code.
func (e *Error) Is(target error) bool {
	if e.Code == "" {
		return false
	}
	switch t := target.(type) {
	case *Error:
		return t.Code == e.Code
	case *auth.Error:
		return string(t.Code) == e.Code
	}
	return false
}

// errorBody is the JSON error shape of the API, plus the members of an
// mfa_required answer.
type errorBody struct {
	Error       string   `json:"error"`
	Description string   `json:"error_description"`
	MFAToken    string   `json:"mfa_token"`
	Methods     []string `json:"methods"`
}

// readError builds the *Error of a non-2xx response and returns the decoded
// body for the members an mfa_required answer carries. It consumes at most
// maxErrorBody bytes of resp.Body and does not close it.
func readError(resp *http.Response, now time.Time) (*Error, errorBody) {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e, body := parseError(resp.StatusCode, raw)
	e.RetryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	return e, body
}

// parseError decodes an error body. Anything that is not a JSON object with
// a string "error" member yields an *Error with only the status.
func parseError(status int, raw []byte) (*Error, errorBody) {
	e := &Error{Status: status}
	var body errorBody
	if err := json.Unmarshal(raw, &body); err != nil || !validCode(body.Error) {
		return e, errorBody{}
	}
	e.Code = body.Error
	e.Description = cleanText(body.Description, maxDescription)
	return e, body
}

// validCode reports whether s looks like an error code: 1 to 64 characters
// of [a-z0-9_.-] (the codes of RFC 6749 §5.2 and of the Gatehouse API).
func validCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// cleanText drops control characters and invalid UTF-8 from s and cuts it to
// at most n bytes on a rune boundary, so that server text cannot forge log
// lines when an error is logged.
func cleanText(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if r == utf8.RuneError || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) ||
			r == '\u2028' || r == '\u2029' {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > n {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isCode reports whether err holds an *Error with the given status and one
// of codes (any code when codes is empty).
func isCode(err error, status int, codes ...string) bool {
	var e *Error
	if !errors.As(err, &e) || e.Status != status {
		return false
	}
	if len(codes) == 0 {
		return true
	}
	for _, c := range codes {
		if e.Code == c {
			return true
		}
	}
	return false
}
