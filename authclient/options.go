package authclient

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Option configures a [Client] built by [New]. The With... functions of
// this package are the only implementations.
type Option interface {
	apply(*settings) error
}

// optionFunc adapts a function to Option.
type optionFunc func(*settings) error

func (f optionFunc) apply(s *settings) error { return f(s) }

// MFAFunc answers a second-factor challenge during login with a code (a TOTP
// code, a backup code or a code the server sent). It is called without any
// lock of the client held, at most once per login, and may block (for
// example to prompt a person) until ctx is done.
type MFAFunc func(ctx context.Context, challenge MFAChallenge) (code string, err error)

// settings is what the options fill in; New validates it.
type settings struct {
	username, password string
	hasPassword        bool
	apiKey             string
	hasAPIKey          bool
	base               *http.Client
	mfa                MFAFunc
	retry              RetryPolicy
	now                func() time.Time
	origins            []string
	insecureHTTP       bool
	authTimeout        time.Duration
}

// WithPassword makes the client log in as user with pass (POST /login), keep
// the token pair it gets, refresh it (POST /refresh) and log in again when
// the refresh token is refused. Exactly one of WithPassword and [WithAPIKey]
// must be given.
func WithPassword(user, pass string) Option {
	return optionFunc(func(s *settings) error {
		if user == "" || pass == "" {
			return fmt.Errorf("authclient: WithPassword: empty username or password")
		}
		s.username, s.password, s.hasPassword = user, pass, true
		return nil
	})
}

// WithAPIKey makes the client send key in the X-API-Key header of every
// request to a trusted origin. It never logs in and never refreshes.
func WithAPIKey(key string) Option {
	return optionFunc(func(s *settings) error {
		if key == "" || !validHeaderValue(key) {
			return fmt.Errorf("authclient: WithAPIKey: the key is empty or not a valid header value")
		}
		s.apiKey, s.hasAPIKey = key, true
		return nil
	})
}

// WithHTTPClient sets the client whose Transport sends every request (nil
// Transport: http.DefaultTransport) and whose Timeout, Jar and CheckRedirect
// the client returned by [Client.HTTPClient] copies. The default is a client
// with http.DefaultTransport and no timeout.
func WithHTTPClient(hc *http.Client) Option {
	return optionFunc(func(s *settings) error {
		if hc == nil {
			return fmt.Errorf("authclient: WithHTTPClient: nil client")
		}
		s.base = hc
		return nil
	})
}

// WithMFA sets the callback that answers an mfa_required login. Without it
// such a login fails with an error matching both [ErrNoMFACallback] and
// auth.ErrMFARequired.
func WithMFA(f MFAFunc) Option {
	return optionFunc(func(s *settings) error {
		s.mfa = f
		return nil
	})
}

// WithRetry sets the retry policy for idempotent requests answered with 429
// or 503. The default is the zero [RetryPolicy] (3 attempts, 500ms base,
// 30s cap).
func WithRetry(p RetryPolicy) Option {
	return optionFunc(func(s *settings) error {
		if p.MaxAttempts < 0 || p.BaseDelay < 0 || p.MaxDelay < 0 {
			return fmt.Errorf("authclient: WithRetry: negative value")
		}
		s.retry = p
		return nil
	})
}

// WithNow sets the clock used to track token lifetimes and to read
// Retry-After dates. nil means time.Now. Waits use the runtime's timers, so
// tests that must not sleep run the client inside a testing/synctest bubble.
func WithNow(now func() time.Time) Option {
	return optionFunc(func(s *settings) error {
		s.now = now
		return nil
	})
}

// WithTrustedOrigins adds origins ("https://api.example.com", scheme and
// host with an optional port, nothing else) to which the transport attaches
// credentials, besides the origin of the base URL. Requests to any other
// origin, including redirects, are sent without credentials.
func WithTrustedOrigins(origins ...string) Option {
	return optionFunc(func(s *settings) error {
		s.origins = append(s.origins, origins...)
		return nil
	})
}

// WithAuthTimeout bounds one login or refresh, MFA callback included. Zero
// means 1 minute. A login or refresh runs on behalf of every request waiting
// for it, so it is not cut short when the request that started it is
// cancelled; this bound is what stops it.
func WithAuthTimeout(d time.Duration) Option {
	return optionFunc(func(s *settings) error {
		if d < 0 {
			return fmt.Errorf("authclient: WithAuthTimeout: negative duration")
		}
		s.authTimeout = d
		return nil
	})
}

// WithInsecureHTTP allows plain http:// base URLs and trusted origins on
// hosts other than loopback. Passwords, tokens and keys then cross the
// network in clear text: use it only on a network you trust end to end.
func WithInsecureHTTP() Option {
	return optionFunc(func(s *settings) error {
		s.insecureHTTP = true
		return nil
	})
}

// validHeaderValue reports whether v can be sent as a header value without
// being altered or splitting the header: visible ASCII only.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] <= 0x20 || v[i] >= 0x7f {
			return false
		}
	}
	return !strings.ContainsAny(v, ",;\"\\")
}
