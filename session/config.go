package session

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// Defaults applied by [New] to zero Config fields.
const (
	// DefaultIdleTimeout is the default Config.IdleTimeout.
	DefaultIdleTimeout = 30 * time.Minute
	// DefaultAbsoluteTimeout is the default Config.AbsoluteTimeout.
	DefaultAbsoluteTimeout = 12 * time.Hour
	// DefaultTouchInterval is the default Config.TouchInterval.
	DefaultTouchInterval = time.Minute
	// DefaultMaxSessionsPerUser is the default Config.MaxSessionsPerUser.
	DefaultMaxSessionsPerUser = 5
	// DefaultCookieName is the default Config.CookieName.
	DefaultCookieName = "session"
	// DefaultMaxDataSize is the default Config.MaxDataSize, in bytes.
	DefaultMaxDataSize = 4 << 10
)

// HostPrefix is the cookie name prefix used when cookies are Secure. Browsers
// accept a "__Host-" cookie only if it is Secure, has Path=/ and no Domain,
// so it cannot be set or shadowed by a sibling subdomain or over plain HTTP
// (RFC 6265bis §4.1.3.2).
const HostPrefix = "__Host-"

// LimitPolicy is what [Manager.Create] does when a user already holds
// MaxSessionsPerUser sessions.
type LimitPolicy int

const (
	// EvictOldest revokes the user's oldest sessions (by creation time) to
	// make room. It is the default.
	EvictOldest LimitPolicy = iota
	// RefuseNew refuses the new session: Create fails with an *auth.Error
	// (conflict, 409) wrapping [ErrLimitReached].
	RefuseNew
)

// Config configures a [Manager]. The zero value is the secure default: Secure,
// HttpOnly, SameSite=Strict "__Host-session" cookies, 30-minute idle and
// 12-hour absolute timeouts, at most 5 sessions per user, cross-origin checks
// on, sessions in process memory.
type Config struct {
	// Store keeps the sessions. Nil means a [MemoryStore] owned by the
	// manager (its sweeper uses Now and emits session_expired; stop it with
	// [Manager.Close]). Several processes need a shared store.
	Store Store

	// IdleTimeout ends a session that has not been used for this long
	// (sliding: every use moves the deadline, to within TouchInterval).
	// Zero means [DefaultIdleTimeout]. It must not exceed AbsoluteTimeout.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after it was created, however
	// active it is; [Manager.Renew] does not extend it. Zero means
	// [DefaultAbsoluteTimeout].
	AbsoluteTimeout time.Duration
	// TouchInterval is the precision of the idle deadline: a request moves
	// the deadline (one store write) only if the session's LastSeenAt is at
	// least TouchInterval old, so a busy session costs at most one write per
	// TouchInterval. A session therefore expires between IdleTimeout -
	// TouchInterval and IdleTimeout after its last request. Zero means
	// [DefaultTouchInterval], or IdleTimeout/10 when that is shorter. It
	// must not exceed IdleTimeout/2.
	TouchInterval time.Duration

	// MaxSessionsPerUser is how many live sessions a user may hold. Zero
	// means [DefaultMaxSessionsPerUser].
	MaxSessionsPerUser int
	// OnLimit says what happens when a new session would exceed
	// MaxSessionsPerUser. The zero value is [EvictOldest].
	OnLimit LimitPolicy

	// CookieName is the cookie's name without the "__Host-" prefix, which is
	// added unless InsecureCookie is set. Zero means [DefaultCookieName]. It
	// must be a valid cookie name and must not start with "__".
	CookieName string
	// SameSite is the cookie's SameSite attribute: http.SameSiteStrictMode
	// (the zero value's meaning) or http.SameSiteLaxMode, which a site needs
	// if users arrive logged in from links on other sites or from an OAuth
	// redirect. Other modes are rejected.
	SameSite http.SameSite
	// InsecureCookie drops the Secure attribute and the "__Host-" prefix, so
	// that the cookie works over plain HTTP. It is for local development
	// only: it MUST NOT be set on a server reachable over a network, where
	// the cookie would travel in clear text and could be shadowed by a
	// cookie from a sibling subdomain.
	InsecureCookie bool

	// TrustedOrigins are origins ("https://app.example.com") whose
	// cross-origin requests authenticated by the session cookie are
	// accepted, in addition to same-origin ones. See
	// http.CrossOriginProtection.AddTrustedOrigin.
	TrustedOrigins []string
	// InsecureSkipCrossOriginCheck turns off the rejection of cross-origin
	// unsafe requests (POST, PUT, DELETE, ...) that the session cookie
	// authenticates. It MUST NOT be set unless every state-changing route
	// reachable with the cookie has CSRF protection of its own.
	InsecureSkipCrossOriginCheck bool

	// MaxDataSize caps the encoded size of a session's data bag ([Data]) in
	// bytes; saving a larger bag fails with [ErrDataTooLarge]. Zero means
	// [DefaultMaxDataSize].
	MaxDataSize int

	// ErrorHandler writes the response when [Manager.LoadAndSave] cannot
	// load or save a session (store failure, oversized data). Nil means
	// middleware.WriteError (503 for store failures).
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Events receives session_created, session_renewed, session_revoked and
	// session_expired. Nil discards them.
	Events auth.Emitter
}

// withDefaults validates c and returns it with defaults filled in.
func (c Config) withDefaults() (Config, error) {
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	if c.IdleTimeout < 0 || c.AbsoluteTimeout < 0 || c.TouchInterval < 0 {
		return bad("negative timeout")
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.AbsoluteTimeout == 0 {
		c.AbsoluteTimeout = DefaultAbsoluteTimeout
	}
	if c.IdleTimeout > c.AbsoluteTimeout {
		return bad("IdleTimeout %v exceeds AbsoluteTimeout %v", c.IdleTimeout, c.AbsoluteTimeout)
	}
	if c.TouchInterval == 0 {
		c.TouchInterval = min(DefaultTouchInterval, c.IdleTimeout/10)
	}
	if c.TouchInterval <= 0 || c.TouchInterval > c.IdleTimeout/2 {
		return bad("TouchInterval %v must be positive and at most IdleTimeout/2", c.TouchInterval)
	}
	if c.MaxSessionsPerUser < 0 {
		return bad("negative MaxSessionsPerUser")
	}
	if c.MaxSessionsPerUser == 0 {
		c.MaxSessionsPerUser = DefaultMaxSessionsPerUser
	}
	if c.OnLimit != EvictOldest && c.OnLimit != RefuseNew {
		return bad("unknown OnLimit %d", c.OnLimit)
	}
	if c.CookieName == "" {
		c.CookieName = DefaultCookieName
	}
	if strings.HasPrefix(c.CookieName, "__") || !validCookieName(c.CookieName) {
		return bad("invalid CookieName %q", c.CookieName)
	}
	switch c.SameSite {
	case 0:
		c.SameSite = http.SameSiteStrictMode
	case http.SameSiteStrictMode, http.SameSiteLaxMode:
	default:
		return bad("SameSite must be Strict or Lax")
	}
	if c.MaxDataSize < 0 {
		return bad("negative MaxDataSize")
	}
	if c.MaxDataSize == 0 {
		c.MaxDataSize = DefaultMaxDataSize
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// validCookieName reports whether name is an RFC 6265 cookie-name (an RFC
// 9110 token).
func validCookieName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}
