package middleware

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// ErrorHandler writes the response for a failed authentication or
// authorization. err is typically an *auth.Error; anything else is treated as
// a failure to check credentials (503 unavailable).
type ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

// Realm is the realm sent in WWW-Authenticate challenges.
const Realm = "gatehouse"

// WriteError writes err in the one JSON shape of the Gatehouse API:
//
//	{"error": "<code>", "error_description": "<client-safe text>"}
//
// with the code's HTTP status. Errors that are not *auth.Error become
// 503 unavailable (see [auth.AsError]); their text is never written. 401
// responses carry a WWW-Authenticate challenge per RFC 6750 §3: a bare
// `Bearer realm="gatehouse"` when no credentials were sent, and an
// error="invalid_token" challenge for rejected tokens. Errors with a positive
// RetryAfter carry Retry-After in whole seconds, rounded up.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	ae := auth.AsError(err)
	if ae == nil {
		ae = &auth.Error{Code: auth.CodeUnavailable}
	}
	h := w.Header()
	status := ae.Status()
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", challenge(ae, err))
	}
	if ae.RetryAfter > 0 {
		secs := int64((ae.RetryAfter + 999_999_999) / 1_000_000_000)
		h.Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	body := make(map[string]any, 2+len(ae.Details))
	for k, v := range ae.Details {
		body[k] = v
	}
	body["error"] = string(ae.Code)
	body["error_description"] = ae.ClientDescription()
	_ = json.NewEncoder(w).Encode(body)
}

// challenge returns the WWW-Authenticate value for a 401.
func challenge(ae *auth.Error, err error) string {
	if errors.Is(err, auth.ErrNoCredentials) {
		return `Bearer realm="` + Realm + `"`
	}
	switch ae.Code {
	case auth.CodeInvalidToken, auth.CodeTokenExpired, auth.CodeTokenRevoked:
		return `Bearer realm="` + Realm + `", error="invalid_token", error_description="` +
			quoteSafe(ae.ClientDescription()) + `"`
	}
	return `Bearer realm="` + Realm + `"`
}

// quoteSafe keeps only the characters RFC 6750 §3 allows in
// error_description (%x20-21 / %x23-5B / %x5D-7E).
func quoteSafe(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// logError logs the internal detail of err, if any, at a level fitting its
// class: store failures at Error, rejected credentials at Debug.
func logError(l *slog.Logger, r *http.Request, err error) {
	if l == nil || err == nil {
		return
	}
	ae := auth.AsError(err)
	level := slog.LevelDebug
	if ae.Code == auth.CodeUnavailable {
		level = slog.LevelError
	}
	l.LogAttrs(r.Context(), level, "gatehouse: request rejected",
		slog.String("code", string(ae.Code)),
		slog.String("path", r.URL.Path),
		slog.String("request_id", auth.RequestMetaFrom(r.Context()).RequestID),
		slog.String("error", err.Error()))
}
