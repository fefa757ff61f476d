package authclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultAuthTimeout bounds one login or refresh when [WithAuthTimeout] is
// not given.
const DefaultAuthTimeout = time.Minute

// Client is a client of the Gatehouse JSON auth API. It holds one identity
// (a password login or an API key), authenticates the requests of
// [Client.HTTPClient] with it, and offers typed calls for the API's routes.
//
// A Client is safe for concurrent use by multiple goroutines. Its exported
// service fields are set by [New] and must not be reassigned.
type Client struct {
	// APIKeys manages the caller's API keys.
	APIKeys *APIKeyService
	// MFA sets up, verifies and disables the caller's second factor.
	MFA *MFAService
	// Password changes the caller's password.
	Password *PasswordService
	// Sessions lists and revokes the caller's sessions.
	Sessions *SessionService

	base        *url.URL // the auth API root, without a trailing slash
	baseClient  *http.Client
	baseRT      http.RoundTripper
	rt          *transport
	api         *http.Client // rt, no redirects: used by the typed calls
	origins     map[string]bool
	apiKey      string
	username    string
	mfa         MFAFunc
	retry       RetryPolicy
	now         func() time.Time
	authTimeout time.Duration

	// mu guards password, tok and flight.
	mu       sync.Mutex
	password string
	hasPass  bool
	tok      tokenState
	flight   *flight
}

// tokenState is the token pair the client holds. A zero access token means
// "not logged in". gen grows on every change, so a request can tell whether
// the token it was refused with is still the current one.
type tokenState struct {
	access, refresh string
	expires         time.Time // of access; zero when the server gave no lifetime
	lifetime        time.Duration
	refreshExpires  time.Time // zero when unknown
	gen             uint64
}

// flight is one login or refresh in progress; every request that needs a
// new token waits for the same flight.
type flight struct {
	done chan struct{}
	tok  tokenState // set before done is closed
	err  error      // set before done is closed
}

// New returns a client of the auth API rooted at baseURL (for example
// "https://auth.example.com/api/v1/auth"). Exactly one of [WithPassword] and
// [WithAPIKey] must be given.
//
// baseURL must be an absolute https URL without user info, query or
// fragment; http is accepted only for loopback hosts unless
// [WithInsecureHTTP] is given. Credentials are attached only to requests to
// the origin of baseURL and to those added with [WithTrustedOrigins].
func New(baseURL string, opts ...Option) (*Client, error) {
	var s settings
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.apply(&s); err != nil {
			return nil, err
		}
	}
	if s.hasPassword == s.hasAPIKey {
		return nil, errors.New("authclient: exactly one of WithPassword and WithAPIKey is required")
	}
	base, err := parseOrigin(baseURL, true, s.insecureHTTP)
	if err != nil {
		return nil, err
	}
	origins := map[string]bool{originOf(base): true}
	for _, o := range s.origins {
		u, err := parseOrigin(o, false, s.insecureHTTP)
		if err != nil {
			return nil, fmt.Errorf("authclient: WithTrustedOrigins: %w", err)
		}
		origins[originOf(u)] = true
	}
	if s.base == nil {
		s.base = &http.Client{}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.authTimeout == 0 {
		s.authTimeout = DefaultAuthTimeout
	}
	baseRT := s.base.Transport
	if baseRT == nil {
		baseRT = http.DefaultTransport
	}
	c := &Client{
		base:        base,
		baseClient:  s.base,
		baseRT:      baseRT,
		origins:     origins,
		apiKey:      s.apiKey,
		username:    s.username,
		password:    s.password,
		hasPass:     s.hasPassword,
		mfa:         s.mfa,
		retry:       s.retry.withDefaults(),
		now:         s.now,
		authTimeout: s.authTimeout,
	}
	c.rt = &transport{c: c}
	c.api = &http.Client{
		Transport:     c.rt,
		Timeout:       s.base.Timeout,
		CheckRedirect: noRedirects,
	}
	c.APIKeys = &APIKeyService{c: c}
	c.MFA = &MFAService{c: c}
	c.Password = &PasswordService{c: c}
	c.Sessions = &SessionService{c: c}
	return c, nil
}

// HTTPClient returns an *http.Client whose requests are authenticated by c
// (see [Client.Transport]). It copies Timeout, Jar and CheckRedirect from the
// client given to [WithHTTPClient]. Each call returns a new *http.Client
// sharing c's state.
func (c *Client) HTTPClient() *http.Client {
	return &http.Client{
		Transport:     c.rt,
		Timeout:       c.baseClient.Timeout,
		Jar:           c.baseClient.Jar,
		CheckRedirect: c.baseClient.CheckRedirect,
	}
}

// Transport returns the http.RoundTripper that authenticates requests with
// c's identity, for use in a host's own *http.Client. See the package
// documentation for what it does with each request.
func (c *Client) Transport() http.RoundTripper { return c.rt }

// noRedirects stops the client at the first redirect, so that a request
// body (a password, a refresh token) is never replayed to another URL.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// parseOrigin parses and checks the base URL (path allowed) or a trusted
// origin (no path).
func parseOrigin(raw string, allowPath, insecure bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("authclient: invalid URL: %w", err)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, fmt.Errorf("authclient: URL %q: scheme must be https or http", u.Redacted())
	case u.Host == "" || u.Opaque != "":
		return nil, fmt.Errorf("authclient: URL %q: not an absolute URL with a host", u.Redacted())
	case u.User != nil:
		return nil, errors.New("authclient: URL must not hold user info")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("authclient: URL %q: must not have a query or fragment", u.Redacted())
	case !allowPath && u.Path != "" && u.Path != "/":
		return nil, fmt.Errorf("authclient: origin %q: must not have a path", u.Redacted())
	case u.Scheme == "http" && !insecure && !isLoopback(u.Hostname()):
		return nil, fmt.Errorf("authclient: URL %q: plain http is allowed only for loopback hosts (see WithInsecureHTTP)", u.Redacted())
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// isLoopback reports whether host is localhost or a loopback IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// originOf returns u's origin as compared by the transport: lower-case
// scheme and host, with the default port made explicit.
func originOf(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		port = "443"
		if scheme == "http" {
			port = "80"
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// trusted reports whether credentials may be attached to a request for u.
func (c *Client) trusted(u *url.URL) bool {
	return u != nil && c.origins[originOf(u)]
}

// endpoint returns the URL of path (starting with "/") under the base URL.
func (c *Client) endpoint(path string) string {
	u := *c.base
	u.Path += path
	return u.String()
}

// current returns the token state under the lock.
func (c *Client) current() tokenState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tok
}

// forget drops the token pair; the next request logs in again.
func (c *Client) forget() {
	c.mu.Lock()
	c.tok = tokenState{gen: c.tok.gen + 1}
	c.mu.Unlock()
}

// accessToken returns a usable access token, logging in first when there is
// none and refreshing when the one held is about to expire. If that early
// refresh fails while the token is still valid, the token is used anyway.
func (c *Client) accessToken(ctx context.Context) (tokenState, error) {
	t := c.current()
	if t.access != "" && !c.expiringSoon(t) {
		return t, nil
	}
	nt, err := c.renew(ctx, t.gen, false)
	if err != nil && t.access != "" && (t.expires.IsZero() || c.now().Before(t.expires)) &&
		ctx.Err() == nil {
		return t, nil
	}
	return nt, err
}

// maxEarlyRefresh caps how long before expiry an access token is refreshed.
const maxEarlyRefresh = time.Minute

// expiringSoon reports whether t's access token is in the last tenth of its
// lifetime (at most the last minute), so it is better refreshed now than
// refused in flight.
func (c *Client) expiringSoon(t tokenState) bool {
	if t.expires.IsZero() {
		return false
	}
	early := min(t.lifetime/10, maxEarlyRefresh)
	return !c.now().Before(t.expires.Add(-early))
}

// renew replaces the token pair whose generation is stale, by a refresh or a
// login (only a login when relogin is set: the server refused the access
// token as invalid or revoked, so its refresh token is no better).
// Concurrent callers share one flight: however many requests find their
// token expired at once, one refresh is sent. A caller whose stale token was
// already replaced gets the current one without any request.
//
// The flight runs on its own goroutine with a context detached from ctx's
// cancellation (and bounded by the auth timeout), so that one caller giving
// up does not fail the others; ctx only bounds this caller's wait.
func (c *Client) renew(ctx context.Context, stale uint64, relogin bool) (tokenState, error) {
	c.mu.Lock()
	if c.tok.gen != stale && c.tok.access != "" {
		t := c.tok
		c.mu.Unlock()
		return t, nil
	}
	f := c.flight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		c.flight = f
		go c.fly(context.WithoutCancel(ctx), f, relogin)
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return tokenState{}, ctx.Err()
	}
}

// fly runs flight f to its end and publishes its outcome.
func (c *Client) fly(ctx context.Context, f *flight, relogin bool) {
	ctx, cancel := context.WithTimeout(ctx, c.authTimeout)
	defer cancel()
	c.mu.Lock()
	cur := c.tok
	if relogin {
		cur.refresh = ""
	}
	user, pass, hasPass := c.username, c.password, c.hasPass
	c.mu.Unlock()

	t, err := c.obtain(ctx, cur, user, pass, hasPass)

	c.mu.Lock()
	if err == nil {
		t.gen = c.tok.gen + 1
		c.tok = t
	}
	f.tok, f.err = c.tok, err
	c.flight = nil
	c.mu.Unlock()
	close(f.done)
}

// obtain gets a new token pair: by refreshing cur when it has a refresh
// token that has not expired, and by logging in when there is none or the
// server refuses it (expired, revoked, or reused so that its family was
// revoked).
func (c *Client) obtain(ctx context.Context, cur tokenState, user, pass string, hasPass bool) (tokenState, error) {
	if cur.refresh != "" && (cur.refreshExpires.IsZero() || c.now().Before(cur.refreshExpires)) {
		t, err := c.refresh(ctx, cur.refresh)
		if err == nil || !hasPass || !isCode(err, http.StatusUnauthorized) {
			return t, err
		}
	}
	if !hasPass {
		return tokenState{}, ErrNoCredentials
	}
	return c.login(ctx, user, pass)
}
