package basic

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/middleware"
)

// maxBasicCredentials caps the decoded user-id:password of a Basic header:
// a 64-character username and a password of the longest policy length,
// with room for 4-byte characters.
const maxBasicCredentials = 4 * (MaxUsernameLength + maxMaxLength + 1)

// ParseBasic decodes the credentials of an "Authorization: Basic ..." header
// value (RFC 7617 §2): base64 of user-id ":" password, UTF-8 (the charset
// this package announces, RFC 7617 §2.1). ok is false when the scheme is not
// Basic or the credentials are malformed: bad base64, no colon, an empty
// user-id, invalid UTF-8, control characters (RFC 7617 §2 forbids them), or
// more than about 4 KiB.
func ParseBasic(header string) (username, password string, ok bool) {
	scheme, cred, ok := auth.ParseAuthorization(header)
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	if base64.StdEncoding.DecodedLen(len(cred)) > maxBasicCredentials {
		return "", "", false
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(cred)
	if err != nil || !utf8.Valid(raw) {
		return "", "", false
	}
	s := string(raw)
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return "", "", false
		}
	}
	username, password, ok = strings.Cut(s, ":")
	if !ok || username == "" {
		return "", "", false
	}
	return username, password, true
}

// AuthenticatorConfig configures an [Authenticator].
type AuthenticatorConfig struct {
	// Realm is announced in the WWW-Authenticate challenge. Empty means
	// "gatehouse". It must not contain '"' or '\\'.
	Realm string
}

// Authenticator is the HTTP Basic auth.Authenticator (RFC 7617). Every
// request goes through [Users.Authenticate]'s lockout and constant-work path;
// a successful one yields a principal with Method basic. It is safe for
// concurrent use.
//
// Basic sends the password with every request: accept it only over TLS, and
// prefer it for machine clients that cannot hold a token.
type Authenticator struct {
	users     *Users
	challenge string
}

var _ auth.MethodAuthenticator = (*Authenticator)(nil)

// NewAuthenticator returns the Basic authenticator over users. It returns an
// error wrapping [ErrInvalidConfig] for a realm with quotes, backslashes or
// control characters.
func NewAuthenticator(users *Users, cfg AuthenticatorConfig) (*Authenticator, error) {
	if users == nil {
		return nil, fmt.Errorf("%w: nil *Users", ErrInvalidConfig)
	}
	if cfg.Realm == "" {
		cfg.Realm = middleware.Realm
	}
	for i := 0; i < len(cfg.Realm); i++ {
		if c := cfg.Realm[i]; c < 0x20 || c == 0x7f || c == '"' || c == '\\' {
			return nil, fmt.Errorf("%w: realm with quotes, backslashes or control characters", ErrInvalidConfig)
		}
	}
	return &Authenticator{
		users:     users,
		challenge: `Basic realm="` + cfg.Realm + `", charset="UTF-8"`,
	}, nil
}

// Method implements auth.MethodAuthenticator.
func (a *Authenticator) Method() auth.Method { return auth.MethodBasic }

// Challenge returns the WWW-Authenticate value:
// Basic realm="<realm>", charset="UTF-8".
func (a *Authenticator) Challenge() string { return a.challenge }

// Authenticate implements auth.Authenticator. It returns auth.ErrNoCredentials
// when the request has no Authorization header with the Basic scheme, an
// invalid_credentials *auth.Error for malformed Basic credentials or several
// Authorization headers, and otherwise the result of [Users.Authenticate]
// (invalid_credentials, account_locked, rate_limited, unavailable, or a
// wrapped store error).
//
// When the request context carries no auth.RequestMeta client IP (no
// middleware.RequestID or ratelimit resolver ran), the socket peer address is
// used for per-client throttling and events.
func (a *Authenticator) Authenticate(r *http.Request) (*auth.Principal, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return nil, auth.ErrNoCredentials
	}
	scheme, _, ok := auth.ParseAuthorization(values[0])
	if !ok {
		if len(values[0]) >= 6 && strings.EqualFold(values[0][:6], "Basic ") {
			return nil, auth.NewError(auth.CodeInvalidCredentials, "malformed basic credentials")
		}
		return nil, auth.ErrNoCredentials
	}
	if !strings.EqualFold(scheme, "Basic") {
		return nil, auth.ErrNoCredentials
	}
	if len(values) > 1 {
		return nil, auth.NewError(auth.CodeInvalidCredentials, "more than one Authorization header")
	}
	username, password, ok := ParseBasic(values[0])
	if !ok {
		return nil, auth.NewError(auth.CodeInvalidCredentials, "malformed basic credentials")
	}
	ctx := r.Context()
	if meta := auth.RequestMetaFrom(ctx); meta.ClientIP == "" {
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			meta.ClientIP = host
			ctx = auth.WithRequestMeta(ctx, meta)
		}
	}
	u, err := a.users.authenticate(ctx, username, password, auth.MethodBasic)
	if err != nil {
		return nil, err
	}
	return u.Principal(auth.MethodBasic), nil
}

// ErrorHandler wraps next (nil means middleware.WriteError) so that every
// 401 response also carries this authenticator's Basic challenge, next to the
// Bearer one middleware.WriteError writes (RFC 9110 §11.6.1 allows several
// challenges). Pass it to middleware.WithErrorHandler when clients should be
// told they may use Basic. Browsers show a password prompt on a Basic
// challenge; leave it out for browser-facing routes that use other methods.
func (a *Authenticator) ErrorHandler(next middleware.ErrorHandler) middleware.ErrorHandler {
	if next == nil {
		next = middleware.WriteError
	}
	return func(w http.ResponseWriter, r *http.Request, err error) {
		next(&challengeWriter{ResponseWriter: w, challenge: a.challenge}, r, err)
	}
}

// challengeWriter adds a Basic challenge to a 401 just before its header is
// written.
type challengeWriter struct {
	http.ResponseWriter
	challenge string
	wrote     bool
}

func (w *challengeWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		if code == http.StatusUnauthorized {
			w.Header().Add("WWW-Authenticate", w.challenge)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *challengeWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap returns the wrapped ResponseWriter, for http.ResponseController.
func (w *challengeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
