package server

import (
	"encoding/json"
	"errors"
	"html"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/internal/secure"
)

// Limits of the authorization request.
const (
	maxQueryLen = 8 << 10
	maxStateLen = 1024
	maxNonceLen = 512
	maxScopes   = 64
)

// PKCE methods (RFC 7636 §4.2).
const (
	pkceS256  = "S256"
	pkcePlain = "plain"
)

// AuthorizeRequest is a validated authorization request, as the login and
// consent hook sees it. It is a plain value the hook may keep.
type AuthorizeRequest struct {
	// Client is the registered client (without its secret hash): show
	// Client.Name and Client.ID on the consent page.
	Client Client
	// RedirectURI is where the user will be sent back.
	RedirectURI string
	// Scopes are the requested scopes, all allowed for the client.
	Scopes []string
	// State is the client's opaque value, passed back unchanged.
	State string
	// Nonce is the OpenID Connect nonce, put into the ID token.
	Nonce string
	// CodeChallengeMethod is "S256", "plain" or "" (no PKCE).
	CodeChallengeMethod string
}

// authorizeParams are the parsed parameters of an authorization request.
type authorizeParams struct {
	clientID, redirectURI      string
	responseType               string
	scopes                     []string
	scopeGiven                 bool
	state, nonce               string
	challenge, challengeMethod string
	// err is the first problem that is reported to the client by
	// redirection, once the client and redirect URI are known good.
	err *oauthError
}

// parseAuthorizeQuery parses the query of an authorization request. The
// returned error is one that must not be sent to the redirect URI (the
// client or the redirect URI itself is in doubt): it is shown to the user.
// Other problems are in params.err.
func parseAuthorizeQuery(raw string) (authorizeParams, *oauthError) {
	var p authorizeParams
	if len(raw) > maxQueryLen {
		return p, newErr(CodeInvalidRequest, "the authorization request is too large")
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return p, newErr(CodeInvalidRequest, "the authorization request is malformed").wrap(err)
	}
	// RFC 6749 §3.1: parameters without a value count as omitted, and no
	// parameter may appear more than once.
	get := func(name string) string {
		vs := vals[name]
		if len(vs) == 0 {
			return ""
		}
		return vs[0]
	}
	for _, name := range []string{"client_id", "redirect_uri", "state"} {
		if len(vals[name]) > 1 {
			return p, newErr(CodeInvalidRequest, "the parameter "+name+" is repeated")
		}
	}
	p.clientID, p.redirectURI, p.state = get("client_id"), get("redirect_uri"), get("state")
	switch {
	case p.clientID == "":
		return p, newErr(CodeInvalidRequest, "the client_id parameter is missing")
	case !validClientID(p.clientID):
		return p, newErr(CodeInvalidRequest, "the client_id is not valid")
	case p.redirectURI == "":
		return p, newErr(CodeInvalidRequest, "the redirect_uri parameter is missing")
	case len(p.state) > maxStateLen:
		return p, newErr(CodeInvalidRequest, "the state parameter is too long")
	}

	fail := func(e *oauthError) {
		if p.err == nil {
			p.err = e
		}
	}
	names := make([]string, 0, len(vals))
	for name := range vals {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if len(vals[name]) > 1 {
			fail(newErr(CodeInvalidRequest, "the parameter "+name+" is repeated"))
		}
	}
	if get("request") != "" {
		fail(newErr(CodeRequestNotSupported, "request objects are not supported"))
	}
	if get("request_uri") != "" {
		fail(newErr(CodeRequestURINotSupported, "request_uri is not supported"))
	}
	switch p.responseType = get("response_type"); p.responseType {
	case "code":
	case "":
		fail(newErr(CodeInvalidRequest, "the response_type parameter is missing"))
	default:
		fail(newErr(CodeUnsupportedResponseType, "only response_type=code is supported"))
	}
	if m := get("response_mode"); m != "" && m != "query" {
		fail(newErr(CodeInvalidRequest, "only response_mode=query is supported"))
	}
	if sc := get("scope"); sc != "" {
		p.scopeGiven = true
		var ok bool
		if p.scopes, ok = parseScope(sc); !ok {
			fail(newErr(CodeInvalidScope, "the scope parameter is malformed"))
		}
	}
	if p.nonce = get("nonce"); len(p.nonce) > maxNonceLen {
		fail(newErr(CodeInvalidRequest, "the nonce parameter is too long"))
	}
	p.challenge, p.challengeMethod = get("code_challenge"), get("code_challenge_method")
	switch {
	case p.challenge == "" && p.challengeMethod != "":
		fail(newErr(CodeInvalidRequest, "code_challenge_method without code_challenge"))
	case p.challenge == "":
	case p.challengeMethod == "":
		// RFC 7636 §4.3: the method defaults to plain.
		p.challengeMethod = pkcePlain
		fallthrough
	default:
		switch p.challengeMethod {
		case pkceS256:
			if len(p.challenge) != 43 || !pkceChars(p.challenge) {
				fail(newErr(CodeInvalidRequest, "code_challenge must be 43 base64url characters for S256"))
			}
		case pkcePlain:
			if !validVerifier(p.challenge) {
				fail(newErr(CodeInvalidRequest, "code_challenge is malformed"))
			}
		default:
			fail(newErr(CodeInvalidRequest, "code_challenge_method must be S256"))
		}
	}
	return p, nil
}

// parseScope splits a scope parameter (RFC 6749 §3.3): scope-tokens
// separated by spaces. Repeated tokens are dropped; empty tokens from
// repeated spaces are ignored.
func parseScope(s string) ([]string, bool) {
	out := []string{}
	for tok := range strings.SplitSeq(s, " ") {
		if tok == "" {
			continue
		}
		if !validScopeToken(tok) || len(out) == maxScopes {
			return nil, false
		}
		if !slices.Contains(out, tok) {
			out = append(out, tok)
		}
	}
	return out, true
}

func isOIDCScope(s string) bool {
	return s == ScopeOpenID || s == ScopeProfile || s == ScopeEmail
}

// handleAuthorize is the authorization endpoint (RFC 6749 §3.1, §4.1.1).
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Clickjacking protection for the host's login and consent pages too
	// (RFC 6749 §10.13, RFC 9700 §4.16).
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		if err := s.cop.Check(r); err != nil {
			s.errorPage(w, r, http.StatusForbidden, newErr(CodeInvalidRequest, "cross-origin request refused").wrap(err))
			return
		}
	default:
		h.Set("Allow", "GET, POST")
		s.errorPage(w, r, http.StatusMethodNotAllowed, newErr(CodeInvalidRequest, "method not allowed"))
		return
	}
	ctx := r.Context()
	p, fatal := parseAuthorizeQuery(r.URL.RawQuery)
	if fatal != nil {
		s.errorPage(w, r, http.StatusBadRequest, fatal)
		return
	}
	client, err := s.clients.GetClient(ctx, p.clientID)
	if errors.Is(err, ErrNotFound) {
		s.errorPage(w, r, http.StatusBadRequest, newErr(CodeInvalidRequest, "unknown client"))
		return
	}
	if err != nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, unavailable(err))
		return
	}
	if !matchRedirectURI(client.RedirectURIs, p.redirectURI) {
		s.errorPage(w, r, http.StatusBadRequest, newErr(CodeInvalidRequest, "the redirect_uri is not registered for this client"))
		return
	}
	// From here on, errors go back to the client (RFC 6749 §4.1.2.1).
	fail := func(e *oauthError) { s.redirectError(w, r, p, e) }
	if p.err != nil {
		fail(p.err)
		return
	}
	if !client.allows(GrantAuthorizationCode) {
		fail(newErr(CodeUnauthorizedClient, "the client may not use the authorization code grant"))
		return
	}
	scopes := client.Scopes
	if p.scopeGiven {
		for _, sc := range p.scopes {
			if !slices.Contains(client.Scopes, sc) {
				fail(newErr(CodeInvalidScope, "the scope "+sc+" is not allowed for this client"))
				return
			}
		}
		scopes = p.scopes
	}
	scopes = slices.Clone(scopes)
	if scopes == nil {
		scopes = []string{}
	}
	if s.idKey == nil && slices.Contains(scopes, ScopeOpenID) {
		fail(newErr(CodeInvalidScope, "OpenID Connect is not enabled"))
		return
	}
	switch {
	case p.challengeMethod == pkcePlain && !s.cfg.InsecureAllowPlainPKCE:
		fail(newErr(CodeInvalidRequest, "code_challenge_method must be S256"))
		return
	case p.challenge == "" && (client.Public() || client.RequirePKCE):
		fail(newErr(CodeInvalidRequest, "PKCE is required: send code_challenge with code_challenge_method=S256"))
		return
	}

	req := AuthorizeRequest{
		Client:              client.clone(),
		RedirectURI:         p.redirectURI,
		Scopes:              slices.Clone(scopes),
		State:               p.state,
		Nonce:               p.nonce,
		CodeChallengeMethod: p.challengeMethod,
	}
	req.Client.SecretHash = ""
	principal, done := s.cfg.Authorize(w, r, req)
	if !done {
		return
	}
	if principal == nil {
		fail(newErr(CodeAccessDenied, "the user denied the request"))
		return
	}
	if principal.Subject == "" {
		fail(newErr(CodeServerError, "the server could not identify the user"))
		return
	}
	now := s.now()
	code := secure.Token(32)
	g := Grant{
		ID:                  secure.Token(16),
		ClientID:            client.ID,
		Subject:             principal.Subject,
		Username:            principal.Username,
		Email:               principal.Email,
		Roles:               slices.Clone(principal.Roles),
		MFA:                 principal.MFA,
		AuthTime:            authTime(principal, now),
		Scopes:              narrowScopes(scopes, principal.Scopes),
		RedirectURI:         p.redirectURI,
		CodeChallenge:       p.challenge,
		CodeChallengeMethod: p.challengeMethod,
		Nonce:               p.nonce,
		CodeHash:            secure.HashHex(code),
		CodeExpiresAt:       now.Add(s.cfg.CodeTTL),
		CreatedAt:           now,
		ExpiresAt:           now.Add(s.cfg.GrantLifetime),
	}
	g.MFA.Methods = slices.Clone(g.MFA.Methods)
	if err := s.grants.CreateGrant(ctx, g); err != nil {
		fail(unavailable(err))
		return
	}
	q := url.Values{"code": {code}, "iss": {s.issuer}}
	if p.state != "" {
		q.Set("state", p.state)
	}
	s.redirect(w, r, p.redirectURI, q)
}

// narrowScopes returns the requested scopes the principal's own scope
// restriction allows (all when it has none). The OpenID Connect scopes
// select claims, not permissions, and are kept.
func narrowScopes(requested, allowed []string) []string {
	out := make([]string, 0, len(requested))
	for _, sc := range requested {
		if allowed == nil || isOIDCScope(sc) || slices.Contains(allowed, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// authTime returns when the principal authenticated: its "auth_time"
// claim if the hook set one, else now.
func authTime(p *auth.Principal, now time.Time) time.Time {
	var secs float64
	switch v := p.Claims["auth_time"].(type) {
	case time.Time:
		if !v.IsZero() && !v.After(now) {
			return v
		}
		return now
	case int64:
		secs = float64(v)
	case int:
		secs = float64(v)
	case float64:
		secs = v
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return now
		}
		secs = f
	default:
		return now
	}
	if secs <= 0 || math.IsNaN(secs) || secs > float64(now.Unix()) {
		return now
	}
	return time.Unix(int64(secs), 0)
}

// redirect sends the user agent to the client's redirect URI with q added
// to its query (RFC 6749 §3.1.2 keeps a registered query). After a POST
// (a login or consent form) the status is 303, so that the browser does not
// repeat the POST with its credentials at the client (RFC 9700 §4.12).
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, redirectURI string, q url.Values) {
	sep := "?"
	if strings.Contains(redirectURI, "?") {
		sep = "&"
	}
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	w.Header().Set("Location", redirectURI+sep+q.Encode())
	w.WriteHeader(status)
}

// redirectError sends an error to the client (RFC 6749 §4.1.2.1), with
// state and iss (RFC 9207).
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, p authorizeParams, e *oauthError) {
	q := url.Values{"error": {e.code}, "iss": {s.issuer}}
	if e.description != "" {
		q.Set("error_description", e.description)
	}
	if p.state != "" {
		q.Set("state", p.state)
	}
	s.redirect(w, r, p.redirectURI, q)
}

// errorPage shows an error to the user, never redirecting (RFC 6749
// §4.1.2.1: an invalid client or redirect URI must not be redirected to).
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, e *oauthError) {
	h := w.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if s.cfg.ErrorPage != nil {
		s.cfg.ErrorPage(w, r, status, e.code, e.description)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte("<!doctype html><html><head><meta charset=\"utf-8\"><title>Authorization error</title></head><body><h1>Authorization error</h1><p>" +
		html.EscapeString(e.code) + ": " + html.EscapeString(e.description) + "</p></body></html>\n"))
}
