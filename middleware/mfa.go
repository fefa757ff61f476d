package middleware

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// MFAFutureTolerance is how far in the future a principal's MFA VerifiedAt
// may lie (clock differences between the instance that verified it and the
// one checking it) before [CheckRecentMFA] distrusts it.
const MFAFutureTolerance = time.Minute

// MFAOption configures [RequireRecentMFA].
type MFAOption func(*recentMFA)

// MFANow sets the clock. Without it the middleware uses time.Now.
func MFANow(now func() time.Time) MFAOption {
	return func(m *recentMFA) {
		if now != nil {
			m.now = now
		}
	}
}

// MFAErrorHandler replaces [WriteError] as the writer of rejections. The
// handler receives auth.ErrNoCredentials when the request has no principal
// and an *auth.Error with code mfa_required otherwise.
func MFAErrorHandler(h ErrorHandler) MFAOption {
	return func(m *recentMFA) {
		if h != nil {
			m.onError = h
		}
	}
}

// MFAEvents sends a permission_denied event with reason "mfa_required" for
// every request rejected for lack of a recent second factor.
func MFAEvents(em auth.Emitter) MFAOption {
	return func(m *recentMFA) { m.events = em }
}

type recentMFA struct {
	maxAge  time.Duration
	now     func() time.Time
	onError ErrorHandler // nil: WriteError with the RFC 9470 challenge
	events  auth.Emitter
}

// CheckRecentMFA is the decision of [RequireRecentMFA] for use outside HTTP.
// It returns nil when p's second factor was verified at most maxAge before
// now. It returns auth.ErrNoCredentials when p is nil, and an *auth.Error
// with code mfa_required, whose Details hold "max_age" in seconds, when
// p.MFA is not verified, has no VerifiedAt, is older than maxAge, or lies
// more than [MFAFutureTolerance] after now. A maxAge of zero or less
// accepts nothing (fail closed).
func CheckRecentMFA(p *auth.Principal, maxAge time.Duration, now time.Time) error {
	if p == nil {
		return auth.ErrNoCredentials
	}
	desc := "a recent second-factor verification is required"
	switch {
	case maxAge <= 0:
	case !p.MFA.Verified || p.MFA.VerifiedAt.IsZero():
		desc = "a second factor is required"
	case p.MFA.VerifiedAt.After(now.Add(MFAFutureTolerance)):
	case now.Sub(p.MFA.VerifiedAt) <= maxAge:
		return nil
	}
	return &auth.Error{
		Code:        auth.CodeMFARequired,
		Description: desc,
		Details:     map[string]any{"max_age": maxAgeSeconds(maxAge)},
	}
}

func maxAgeSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64(d / time.Second)
}

// RequireRecentMFA returns middleware for sensitive operations (step-up):
// it lets a request through only if its principal (put in the context by
// [Authenticate]) verified a second factor at most maxAge ago, as recorded
// in auth.Principal.MFA (the "amr"/"auth_time" of the credential).
//
// A request without a principal is answered 401 invalid_credentials. A
// principal whose second factor is absent or too old is answered 401
// mfa_required, with "max_age" (seconds) in the JSON body and, unless an
// [MFAErrorHandler] is set, the RFC 9470 §3 challenge
// `Bearer realm="gatehouse", error="insufficient_user_authentication",
// max_age=N`, telling the client to verify a factor again and retry. A maxAge
// of zero or less rejects every request (fail closed).
//
// The middleware is immutable and safe for concurrent use.
func RequireRecentMFA(maxAge time.Duration, opts ...MFAOption) func(http.Handler) http.Handler {
	m := &recentMFA{maxAge: maxAge, now: time.Now}
	for _, o := range opts {
		o(m)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, _ := auth.FromContext(r.Context())
			err := CheckRecentMFA(p, m.maxAge, m.now())
			if err == nil {
				next.ServeHTTP(w, r)
				return
			}
			if p != nil && m.events != nil {
				e := auth.NewEvent(r.Context(), auth.EventPermissionDenied, m.now())
				e.Subject, e.Username, e.Method, e.Reason = p.Subject, p.Username, p.Method, "mfa_required"
				e.Attrs = map[string]string{"path": r.URL.Path, "max_age": strconv.FormatInt(maxAgeSeconds(m.maxAge), 10)}
				auth.Emit(m.events, e)
			}
			switch {
			case m.onError != nil:
				m.onError(w, r, err)
			case p != nil:
				WriteError(&stepUpWriter{ResponseWriter: w, maxAge: maxAgeSeconds(m.maxAge)}, r, err)
			default:
				WriteError(w, r, err)
			}
		})
	}
}

// stepUpWriter replaces the WWW-Authenticate challenge of a 401 with the
// RFC 9470 §3 one.
type stepUpWriter struct {
	http.ResponseWriter
	maxAge int64
}

// WriteHeader sets the step-up challenge on a 401, then writes the header.
func (w *stepUpWriter) WriteHeader(code int) {
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+Realm+
			`", error="insufficient_user_authentication", error_description="a recent second-factor verification is required", max_age=`+
			strconv.FormatInt(w.maxAge, 10))
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap returns the wrapped ResponseWriter.
func (w *stepUpWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
