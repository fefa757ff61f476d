package oauth2provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/internal/secure"
	"github.com/gatehouse-auth/gatehouse/middleware"
)

// Provider logs users in through one external IdP. Build it with [New],
// mount [Provider.LoginHandler] and [Provider.CallbackHandler], and link to
// the login handler from the host's login page.
//
// A Provider is safe for concurrent use.
type Provider struct {
	cfg        Config
	now        func() time.Time
	client     *http.Client
	codec      flowCodec
	cookieName string
	ttl        time.Duration
	scopes     []string
	oidc       bool
	replay     ReplayStore
	onError    func(http.ResponseWriter, *http.Request, error)
	// plainIssuer is Identity.Issuer for plain OAuth 2.0.
	plainIssuer string

	discoverMu sync.Mutex // serialises discovery so that one request fetches the document
	ep         atomic.Pointer[endpoints]
}

// endpoints are the IdP's endpoints and the ID-token verifier, fixed at New
// or after discovery.
type endpoints struct {
	oauth       *oauth2.Config
	verifier    *oidc.IDTokenVerifier // nil for plain OAuth 2.0
	issuer      string
	userInfoURL string
}

var (
	nameRE       = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	cookieNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)
	reserved     = []string{"state", "nonce", "code_challenge", "code_challenge_method", "client_id",
		"redirect_uri", "scope", "response_type", "response_mode", "client_secret"}
)

// New validates cfg, fills its defaults and returns the provider. It makes
// no network request: discovery, when configured, happens on the first
// login or on [Provider.Discover].
func New(cfg Config) (*Provider, error) {
	if !nameRE.MatchString(cfg.Name) {
		return nil, errors.New("oauth2provider: Name must be 1-64 characters of [A-Za-z0-9_.-]")
	}
	if cfg.ClientID == "" {
		return nil, errors.New("oauth2provider: ClientID is required")
	}
	if cfg.Accounts == nil || cfg.OnLogin == nil {
		return nil, errors.New("oauth2provider: Accounts and OnLogin are required")
	}
	ru, err := url.Parse(cfg.RedirectURL)
	if err != nil || !ru.IsAbs() || ru.Host == "" || ru.Fragment != "" || (ru.Scheme != "https" && ru.Scheme != "http") {
		return nil, errors.New("oauth2provider: RedirectURL must be an absolute http(s) URL without fragment")
	}
	if ru.Scheme == "http" && !cfg.InsecureCookie {
		return nil, errors.New("oauth2provider: RedirectURL is http: the Secure flow cookie would never reach it (use https, or InsecureCookie in development)")
	}
	for _, u := range []struct{ name, v string }{
		{"Issuer", cfg.Issuer}, {"AuthURL", cfg.AuthURL}, {"TokenURL", cfg.TokenURL},
		{"UserInfoURL", cfg.UserInfoURL}, {"JWKSURL", cfg.JWKSURL},
	} {
		if u.v != "" {
			if err := checkEndpoint(u.v); err != nil {
				return nil, fmt.Errorf("oauth2provider: %s: %w", u.name, err)
			}
		}
	}
	if (cfg.AuthURL == "") != (cfg.TokenURL == "") {
		return nil, errors.New("oauth2provider: set both AuthURL and TokenURL, or neither (discovery)")
	}
	isOIDC := cfg.Issuer != ""
	switch {
	case isOIDC && cfg.AuthURL != "" && cfg.JWKSURL == "":
		return nil, errors.New("oauth2provider: JWKSURL is required with Issuer and explicit endpoints")
	case !isOIDC && cfg.AuthURL == "":
		return nil, errors.New("oauth2provider: set Issuer (OpenID Connect) or AuthURL and TokenURL")
	case !isOIDC && cfg.UserInfoURL == "" && cfg.UserInfoFunc == nil:
		return nil, errors.New("oauth2provider: plain OAuth 2.0 needs UserInfoURL or UserInfoFunc to learn who logged in")
	}
	for _, a := range cfg.SigningAlgs {
		if strings.EqualFold(a, "none") {
			return nil, errors.New(`oauth2provider: SigningAlgs must not contain "none"`)
		}
	}
	if cfg.GroupsFunc != nil && cfg.GroupsClaim != "" {
		return nil, errors.New("oauth2provider: set GroupsClaim or GroupsFunc, not both")
	}
	if cfg.GroupsFromUserInfo && cfg.GroupsClaim == "" {
		return nil, errors.New("oauth2provider: GroupsFromUserInfo needs GroupsClaim")
	}
	if len(cfg.GroupRoleMapping) == 0 && cfg.DefaultRole == "" {
		return nil, errors.New("oauth2provider: set GroupRoleMapping or DefaultRole (nobody could log in)")
	}
	for g, r := range cfg.GroupRoleMapping {
		if g == "" || r == "" {
			return nil, errors.New("oauth2provider: GroupRoleMapping has an empty group or role")
		}
	}
	for k := range cfg.AuthParams {
		if slices.Contains(reserved, strings.ToLower(k)) || strings.HasPrefix(strings.ToLower(k), "code_") {
			return nil, fmt.Errorf("oauth2provider: AuthParams cannot set %q", k)
		}
	}
	if cfg.CookieKey != nil && len(cfg.CookieKey) < 32 {
		return nil, errors.New("oauth2provider: CookieKey must be at least 32 bytes")
	}
	if cfg.TokenStore != nil && cfg.Keyring == nil {
		return nil, errors.New("oauth2provider: TokenStore needs Keyring to seal the tokens")
	}
	if cfg.FlowTTL < 0 || cfg.FlowTTL > MaxFlowTTL {
		return nil, fmt.Errorf("oauth2provider: FlowTTL must be between 0 and %v", MaxFlowTTL)
	}

	p := &Provider{cfg: cfg, now: cfg.Now, client: cfg.HTTPClient, ttl: cfg.FlowTTL, oidc: isOIDC, replay: cfg.ReplayStore, onError: cfg.ErrorHandler}
	p.cfg.GroupRoleMapping = cloneMap(cfg.GroupRoleMapping)
	p.cfg.AuthParams = cloneMap(cfg.AuthParams)
	if p.now == nil {
		p.now = time.Now
	}
	if p.client == nil {
		p.client = &http.Client{Timeout: defaultTimeout}
	}
	if p.ttl == 0 {
		p.ttl = DefaultFlowTTL
	}
	if p.replay == nil {
		p.replay = NewMemoryReplayStore()
	}
	if p.onError == nil {
		p.onError = middleware.WriteError
	}
	p.codec = flowCodec{idp: cfg.Name, keyring: cfg.Keyring}
	if cfg.Keyring == nil {
		if cfg.CookieKey != nil {
			p.codec.hmacKey = slices.Clone(cfg.CookieKey)
		} else {
			p.codec.hmacKey = secure.RandomBytes(32)
		}
	}
	p.cookieName = cfg.CookieName
	if p.cookieName == "" {
		p.cookieName = "gatehouse-oauth2-" + cfg.Name
		if !cfg.InsecureCookie {
			p.cookieName = "__Host-" + p.cookieName
		}
	}
	if !cookieNameRE.MatchString(p.cookieName) {
		return nil, errors.New("oauth2provider: CookieName must be 1-128 characters of [A-Za-z0-9_.-]")
	}
	if cfg.InsecureCookie && (strings.HasPrefix(p.cookieName, "__Host-") || strings.HasPrefix(p.cookieName, "__Secure-")) {
		return nil, errors.New("oauth2provider: a __Host- or __Secure- cookie name needs a Secure cookie")
	}
	p.scopes = slices.Clone(cfg.Scopes)
	if isOIDC {
		if p.scopes == nil {
			p.scopes = []string{oidc.ScopeOpenID, "email", "profile"}
		} else if !slices.Contains(p.scopes, oidc.ScopeOpenID) {
			p.scopes = append([]string{oidc.ScopeOpenID}, p.scopes...)
		}
	}
	if !isOIDC {
		au, _ := url.Parse(cfg.AuthURL)
		p.plainIssuer = au.Scheme + "://" + au.Host
		p.ep.Store(&endpoints{oauth: p.oauthConfig(cfg.AuthURL, cfg.TokenURL), userInfoURL: cfg.UserInfoURL})
	} else if cfg.AuthURL != "" {
		keys := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), p.client), cfg.JWKSURL)
		p.ep.Store(&endpoints{
			oauth:       p.oauthConfig(cfg.AuthURL, cfg.TokenURL),
			verifier:    oidc.NewVerifier(cfg.Issuer, keys, p.verifierConfig()),
			issuer:      cfg.Issuer,
			userInfoURL: cfg.UserInfoURL,
		})
	}
	return p, nil
}

// checkEndpoint accepts absolute https URLs, and http URLs on loopback
// hosts (a provider on the same machine, in development and tests).
func checkEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return errors.New("not an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); (ip != nil && ip.IsLoopback()) || h == "localhost" {
			return nil
		}
		return errors.New("http is allowed only on loopback hosts")
	}
	return errors.New("scheme must be https")
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func (p *Provider) oauthConfig(authURL, tokenURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     p.cfg.ClientID,
		ClientSecret: p.cfg.ClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: authURL, TokenURL: tokenURL},
		RedirectURL:  p.cfg.RedirectURL,
		Scopes:       p.scopes,
	}
}

func (p *Provider) verifierConfig() *oidc.Config {
	return &oidc.Config{ClientID: p.cfg.ClientID, SupportedSigningAlgs: slices.Clone(p.cfg.SigningAlgs), Now: p.now}
}

// Name returns Config.Name.
func (p *Provider) Name() string { return p.cfg.Name }

// Discover fetches the issuer's discovery document now, if the provider
// uses discovery and has not fetched it yet, so that a host can fail at
// start-up rather than on the first login. Without it, discovery happens on
// the first login; a failed discovery is retried on the next one.
func (p *Provider) Discover(ctx context.Context) error {
	_, err := p.endpoints(ctx)
	return err
}

// endpoints returns the IdP's endpoints, discovering them on first use.
func (p *Provider) endpoints(ctx context.Context) (*endpoints, error) {
	if ep := p.ep.Load(); ep != nil {
		return ep, nil
	}
	p.discoverMu.Lock()
	defer p.discoverMu.Unlock()
	if ep := p.ep.Load(); ep != nil {
		return ep, nil
	}
	d, err := oidc.NewProvider(oidc.ClientContext(ctx, p.client), p.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oauth2provider: discovery of %s: %w", p.cfg.Issuer, err)
	}
	var meta struct {
		JWKSURL string `json:"jwks_uri"`
	}
	if err := d.Claims(&meta); err != nil {
		return nil, fmt.Errorf("oauth2provider: discovery of %s: %w", p.cfg.Issuer, err)
	}
	e := d.Endpoint()
	userInfo := p.cfg.UserInfoURL
	if userInfo == "" {
		userInfo = d.UserInfoEndpoint()
	}
	for _, u := range []string{e.AuthURL, e.TokenURL, meta.JWKSURL} {
		if err := checkEndpoint(u); err != nil {
			return nil, fmt.Errorf("oauth2provider: discovery of %s: endpoint %q: %w", p.cfg.Issuer, u, err)
		}
	}
	if userInfo != "" {
		if err := checkEndpoint(userInfo); err != nil {
			return nil, fmt.Errorf("oauth2provider: discovery of %s: endpoint %q: %w", p.cfg.Issuer, userInfo, err)
		}
	}
	ep := &endpoints{
		oauth:       p.oauthConfig(e.AuthURL, e.TokenURL),
		verifier:    d.VerifierContext(oidc.ClientContext(context.Background(), p.client), p.verifierConfig()),
		issuer:      p.cfg.Issuer,
		userInfoURL: userInfo,
	}
	p.ep.Store(ep)
	return ep, nil
}

// clientContext returns ctx carrying the provider's HTTP client the way
// x/oauth2 and go-oidc look it up.
func (p *Provider) clientContext(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, p.client)
}

// LoginHandler returns the handler that starts a login: it creates a flow
// (state, PKCE S256 verifier, and for OpenID Connect a nonce, all from
// crypto/rand), stores it in the flow cookie (HttpOnly, Secure,
// SameSite=Lax, expiring after FlowTTL) and redirects to the IdP's
// authorization endpoint (RFC 6749 §4.1.1, RFC 7636 §4.3). It answers GET
// and POST. Starting a new login replaces an unfinished one in the same
// browser.
func (p *Provider) LoginHandler() http.Handler { return http.HandlerFunc(p.login) }

func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	ep, err := p.endpoints(r.Context())
	if err != nil {
		p.onError(w, r, err)
		return
	}
	now := p.now()
	f := flow{
		ID:       secure.Token(16),
		State:    secure.Token(32),
		Verifier: oauth2.GenerateVerifier(),
		Expires:  now.Add(p.ttl).Unix(),
		IdP:      p.cfg.Name,
	}
	if p.oidc {
		f.Nonce = secure.Token(32)
	}
	value, err := p.codec.seal(f)
	if err != nil {
		p.onError(w, r, fmt.Errorf("oauth2provider: sealing the flow cookie: %w", err))
		return
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.Verifier)}
	if f.Nonce != "" {
		opts = append(opts, oidc.Nonce(f.Nonce))
	}
	for k, v := range p.cfg.AuthParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	http.SetCookie(w, p.flowCookie(value, now, time.Unix(f.Expires, 0)))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, ep.oauth.AuthCodeURL(f.State, opts...), http.StatusFound)
}

// CallbackHandler returns the handler at Config.RedirectURL. It always
// deletes the flow cookie, then refuses, in this order: an IdP error
// response; a malformed query; a missing, forged or expired flow cookie; a
// state that differs from the cookie's (constant-time comparison); an "iss"
// parameter naming another issuer (RFC 9207); a flow already used (the
// ReplayStore); a code the token endpoint refuses (the exchange sends the
// PKCE verifier); a missing or invalid ID token (signature, allowed
// algorithm, issuer, audience, azp, expiry, at_hash) or a nonce other than
// the flow's; a userinfo response whose subject differs; a user whose groups
// map to no role without DefaultRole. It then calls Accounts.Resolve, saves
// the upstream token when a TokenStore is set, and calls OnLogin, which
// writes the response. Failures go to the ErrorHandler. It answers GET only.
func (p *Provider) CallbackHandler() http.Handler { return http.HandlerFunc(p.callback) }

func (p *Provider) callback(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	ctx := r.Context()
	now := p.now()
	http.SetCookie(w, p.clearCookie())
	w.Header().Set("Cache-Control", "no-store")

	q, err := parseCallback(r.URL.RawQuery)
	if err != nil {
		p.fail(w, r, now, "malformed_callback", auth.WrapError(auth.CodeInvalidRequest, "the login callback is malformed", err), nil)
		return
	}
	if q.idpErr != nil {
		p.fail(w, r, now, "idp_error", auth.WrapError(auth.CodeInvalidCredentials, "the identity provider did not complete the login", q.idpErr),
			map[string]string{"idp_error": q.idpErr.Code})
		return
	}
	var f flow
	c, err := r.Cookie(p.cookieName)
	if err == nil {
		f, err = p.codec.open(c.Value)
	}
	if err != nil {
		p.fail(w, r, now, "flow_missing", auth.WrapError(auth.CodeInvalidRequest, "the login flow is missing or has expired; start again", ErrFlowMissing), nil)
		return
	}
	expires := time.Unix(f.Expires, 0)
	if !now.Before(expires) {
		p.fail(w, r, now, "flow_expired", auth.WrapError(auth.CodeInvalidRequest, "the login flow is missing or has expired; start again", ErrFlowExpired), nil)
		return
	}
	if !secure.Equal(q.state, f.State) {
		p.fail(w, r, now, "state_mismatch", auth.WrapError(auth.CodeInvalidRequest, "the login callback does not belong to this login; start again", ErrStateMismatch), nil)
		return
	}
	ep, err := p.endpoints(ctx)
	if err != nil {
		p.fail(w, r, now, "unavailable", err, nil)
		return
	}
	if q.iss != "" && ep.issuer != "" && q.iss != ep.issuer {
		p.fail(w, r, now, "issuer_mismatch", auth.WrapError(auth.CodeInvalidRequest, "the login callback does not belong to this login; start again", ErrIssuerMismatch), nil)
		return
	}
	if err := p.replay.MarkUsed(ctx, secure.HashHex("gatehouse/oauth2provider/flow/"+p.cfg.Name+"/"+f.ID), now, expires); err != nil {
		if errors.Is(err, ErrReplayed) {
			p.fail(w, r, now, "replayed", auth.WrapError(auth.CodeInvalidRequest, "the login flow was already used; start again", ErrReplayed), nil)
		} else {
			p.fail(w, r, now, "unavailable", fmt.Errorf("oauth2provider: replay store: %w", err), nil)
		}
		return
	}

	tok, err := ep.oauth.Exchange(p.clientContext(ctx), q.code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && (re.ErrorCode != "" || re.Response == nil || re.Response.StatusCode < 500) {
			p.fail(w, r, now, "exchange_refused", auth.WrapError(auth.CodeInvalidCredentials, "the identity provider refused the login", fmt.Errorf("%w: %w", ErrExchange, err)),
				map[string]string{"idp_error": clean(re.ErrorCode, maxErrorCode)})
		} else {
			p.fail(w, r, now, "unavailable", fmt.Errorf("oauth2provider: token endpoint: %w", err), nil)
		}
		return
	}

	id, reason, err := p.identify(ctx, ep, tok, f)
	if err != nil {
		var attrs map[string]string
		if id.Subject != "" {
			attrs = map[string]string{"idp_subject": id.Subject}
		}
		p.fail(w, r, now, reason, err, attrs)
		return
	}
	sub := map[string]string{"idp_subject": id.Subject}
	pr, err := p.cfg.Accounts.Resolve(ctx, id)
	switch {
	case err != nil && auth.AsError(err).Code != auth.CodeUnavailable:
		p.fail(w, r, now, "account_refused", err, sub)
		return
	case err != nil:
		p.fail(w, r, now, "unavailable", fmt.Errorf("oauth2provider: resolving the account: %w", err), sub)
		return
	case pr == nil:
		p.fail(w, r, now, "unavailable", errors.New("oauth2provider: Accounts.Resolve returned no principal and no error"), sub)
		return
	}
	pr.Method = auth.MethodOAuth2
	if p.cfg.TokenStore != nil {
		if err := p.saveToken(ctx, pr.Subject, tok); err != nil {
			p.fail(w, r, now, "unavailable", err, sub)
			return
		}
	}
	if err := p.cfg.OnLogin(w, r, pr); err != nil {
		reason := "login_rejected"
		if auth.AsError(err).Code == auth.CodeUnavailable {
			reason = "unavailable"
		}
		p.fail(w, r, now, reason, err, sub)
		return
	}
	e := auth.NewEvent(ctx, auth.EventLoginSucceeded, now)
	e.Subject, e.Username, e.Method = pr.Subject, pr.Username, auth.MethodOAuth2
	e.Attrs = map[string]string{"idp": p.cfg.Name, "idp_subject": id.Subject}
	auth.Emit(p.cfg.Events, e)
}

// fail emits login_failure with reason and writes err through the error
// handler.
func (p *Provider) fail(w http.ResponseWriter, r *http.Request, now time.Time, reason string, err error, attrs map[string]string) {
	e := auth.NewEvent(r.Context(), auth.EventLoginFailed, now)
	e.Method, e.Reason = auth.MethodOAuth2, reason
	e.Attrs = map[string]string{"idp": p.cfg.Name}
	for k, v := range attrs {
		if v != "" {
			e.Attrs[k] = v
		}
	}
	auth.Emit(p.cfg.Events, e)
	p.onError(w, r, err)
}

// storedToken is the sealed form of an upstream token.
type storedToken struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
}

func (p *Provider) tokenAD(subject string) []byte {
	return []byte("gatehouse/oauth2provider/token/" + p.cfg.Name + "\x00" + subject)
}

func (p *Provider) saveToken(ctx context.Context, subject string, tok *oauth2.Token) error {
	b, err := json.Marshal(storedToken{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry})
	if err != nil {
		return fmt.Errorf("oauth2provider: encoding the upstream token: %w", err)
	}
	sealed, err := p.cfg.Keyring.Encrypt(b, p.tokenAD(subject))
	if err != nil {
		return fmt.Errorf("oauth2provider: sealing the upstream token: %w", err)
	}
	if err := p.cfg.TokenStore.SaveToken(ctx, p.cfg.Name, subject, sealed); err != nil {
		return fmt.Errorf("oauth2provider: saving the upstream token: %w", err)
	}
	return nil
}

// UpstreamToken returns the IdP token saved at the last login of the local
// user subject (the Subject of the principal Accounts returned). It returns
// ErrNotFound when none is saved, and an error wrapping
// errors.ErrUnsupported when no TokenStore is configured. The token may have
// expired; refreshing it is the caller's business.
func (p *Provider) UpstreamToken(ctx context.Context, subject string) (*oauth2.Token, error) {
	if p.cfg.TokenStore == nil {
		return nil, fmt.Errorf("oauth2provider: no TokenStore configured: %w", errors.ErrUnsupported)
	}
	sealed, err := p.cfg.TokenStore.LoadToken(ctx, p.cfg.Name, subject)
	if err != nil {
		return nil, err
	}
	b, err := p.cfg.Keyring.Decrypt(sealed, p.tokenAD(subject))
	if err != nil {
		return nil, fmt.Errorf("oauth2provider: opening the upstream token: %w", err)
	}
	var st storedToken
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("oauth2provider: decoding the upstream token: %w", err)
	}
	return &oauth2.Token{AccessToken: st.AccessToken, TokenType: st.TokenType, RefreshToken: st.RefreshToken, Expiry: st.Expiry}, nil
}
