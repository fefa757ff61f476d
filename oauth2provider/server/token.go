package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/internal/secure"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

// maxBodyBytes caps the body of token, revocation and introspection
// requests.
const maxBodyBytes = 16 << 10

// tokenRequest holds the parameters of a request to the token, revocation
// or introspection endpoint.
type tokenRequest struct {
	grantType    string
	code         string
	redirectURI  string
	codeVerifier string
	refreshToken string
	scopes       []string
	scopeGiven   bool
	clientID     string
	clientSecret string
	// token and tokenTypeHint are the parameters of RFC 7009 and RFC 7662.
	token         string
	tokenTypeHint string
}

// parseTokenRequest parses the form body of a token, revocation or
// introspection request (RFC 6749 §3.2: application/x-www-form-urlencoded,
// no parameter repeated).
func parseTokenRequest(contentType string, body []byte) (tokenRequest, *oauthError) {
	var req tokenRequest
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return req, newErr(CodeInvalidRequest, "the body must be application/x-www-form-urlencoded")
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return req, newErr(CodeInvalidRequest, "the body is malformed").wrap(err)
	}
	names := make([]string, 0, len(vals))
	for name, vs := range vals {
		if len(vs) > 1 {
			names = append(names, name)
		}
	}
	if len(names) > 0 {
		slices.Sort(names)
		return req, newErr(CodeInvalidRequest, "the parameter "+names[0]+" is repeated")
	}
	get := vals.Get
	req.grantType = get("grant_type")
	req.code = get("code")
	req.redirectURI = get("redirect_uri")
	req.codeVerifier = get("code_verifier")
	req.refreshToken = get("refresh_token")
	req.clientID = get("client_id")
	req.clientSecret = get("client_secret")
	req.token = get("token")
	req.tokenTypeHint = get("token_type_hint")
	if sc := get("scope"); sc != "" {
		req.scopeGiven = true
		var ok bool
		if req.scopes, ok = parseScope(sc); !ok {
			return req, newErr(CodeInvalidScope, "the scope parameter is malformed")
		}
	}
	if req.codeVerifier != "" && !validVerifier(req.codeVerifier) {
		return req, newErr(CodeInvalidRequest, "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~")
	}
	return req, nil
}

// readTokenRequest reads and parses the body of a POST to the token,
// revocation or introspection endpoint.
func readTokenRequest(w http.ResponseWriter, r *http.Request) (tokenRequest, *oauthError) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		return tokenRequest{}, &oauthError{code: CodeInvalidRequest, description: "method not allowed", status: http.StatusMethodNotAllowed}
	}
	if r.URL.RawQuery != "" {
		return tokenRequest{}, newErr(CodeInvalidRequest, "parameters must be sent in the request body, not the URL")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return tokenRequest{}, newErr(CodeInvalidRequest, "the request body is too large or unreadable").wrap(err)
	}
	return parseTokenRequest(r.Header.Get("Content-Type"), body)
}

// dummySecretHash is compared against when the client is unknown, so that
// an unknown client_id costs what a wrong secret costs.
var dummySecretHash = strings.Repeat("0", 64)

// authenticateClient authenticates the client of a token, revocation or
// introspection request (RFC 6749 §2.3, §3.2.1) with the one method it is
// registered for. Public clients are accepted only when allowPublic.
func (s *Server) authenticateClient(ctx context.Context, r *http.Request, req *tokenRequest, allowPublic bool) (Client, *oauthError) {
	var (
		id, secret string
		method     AuthMethod
	)
	authz := r.Header.Values("Authorization")
	switch {
	case len(authz) > 1:
		return Client{}, newErr(CodeInvalidRequest, "more than one Authorization header")
	case len(authz) == 1:
		scheme, cred, ok := auth.ParseAuthorization(authz[0])
		if !ok || !strings.EqualFold(scheme, "Basic") {
			return Client{}, newErr(CodeInvalidClient, "client authentication failed: use HTTP Basic")
		}
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return Client{}, newErr(CodeInvalidClient, "client authentication failed")
		}
		rawID, rawSecret, ok := strings.Cut(string(raw), ":")
		if !ok {
			return Client{}, newErr(CodeInvalidClient, "client authentication failed")
		}
		// RFC 6749 §2.3.1: both are form-urlencoded before Basic encoding.
		var err1, err2 error
		id, err1 = url.QueryUnescape(rawID)
		secret, err2 = url.QueryUnescape(rawSecret)
		if err1 != nil || err2 != nil || id == "" {
			return Client{}, newErr(CodeInvalidClient, "client authentication failed")
		}
		if req.clientSecret != "" {
			return Client{}, newErr(CodeInvalidRequest, "use only one client authentication method")
		}
		if req.clientID != "" && req.clientID != id {
			return Client{}, newErr(CodeInvalidClient, "client_id does not match the authenticated client")
		}
		method = AuthSecretBasic
	case req.clientSecret != "":
		if req.clientID == "" {
			return Client{}, newErr(CodeInvalidClient, "client authentication failed")
		}
		id, secret, method = req.clientID, req.clientSecret, AuthSecretPost
	case req.clientID != "":
		id, method = req.clientID, AuthNone
	default:
		return Client{}, newErr(CodeInvalidClient, "client authentication is required")
	}
	fail := func() (Client, *oauthError) {
		return Client{}, newErr(CodeInvalidClient, "client authentication failed")
	}
	c, err := s.clients.GetClient(ctx, id)
	if errors.Is(err, ErrNotFound) {
		secure.Equal(secure.HashHex(secret), dummySecretHash)
		return fail()
	}
	if err != nil {
		return Client{}, unavailable(err)
	}
	if method == AuthNone {
		if !c.Public() || !allowPublic {
			return fail()
		}
		return c, nil
	}
	match := secure.Equal(secure.HashHex(secret), cmpHash(c.SecretHash))
	if !match || c.method() != method {
		return fail()
	}
	return c, nil
}

func cmpHash(h string) string {
	if h == "" {
		return dummySecretHash
	}
	return h
}

// tokenResponse is the successful token response (RFC 6749 §5.1, OpenID
// Connect Core §3.1.3.3).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
	IDToken      string `json:"id_token,omitempty"`
}

// handleToken is the token endpoint (RFC 6749 §3.2).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	resp, e := s.token(w, r)
	if e != nil {
		writeJSONError(w, e)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) (*tokenResponse, *oauthError) {
	req, e := readTokenRequest(w, r)
	if e != nil {
		return nil, e
	}
	ctx := r.Context()
	c, e := s.authenticateClient(ctx, r, &req, true)
	if e != nil {
		return nil, e
	}
	var grant GrantType
	switch req.grantType {
	case "":
		return nil, newErr(CodeInvalidRequest, "the grant_type parameter is missing")
	case string(GrantAuthorizationCode), string(GrantRefreshToken), string(GrantClientCredentials):
		grant = GrantType(req.grantType)
	default:
		return nil, newErr(CodeUnsupportedGrantType, "the grant type is not supported")
	}
	if !c.allows(grant) {
		return nil, newErr(CodeUnauthorizedClient, "the client may not use this grant type")
	}
	switch grant {
	case GrantAuthorizationCode:
		return s.redeemCode(ctx, &c, &req)
	case GrantRefreshToken:
		return s.refresh(ctx, &c, &req)
	default:
		return s.clientCredentials(ctx, &c, &req)
	}
}

// redeemCode is the authorization code grant (RFC 6749 §4.1.3, RFC 7636
// §4.6).
func (s *Server) redeemCode(ctx context.Context, c *Client, req *tokenRequest) (*tokenResponse, *oauthError) {
	if req.code == "" {
		return nil, newErr(CodeInvalidRequest, "the code parameter is missing")
	}
	hash := secure.HashHex(req.code)
	g, err := s.grants.FindGrant(ctx, hash)
	if errors.Is(err, ErrNotFound) {
		return nil, newErr(CodeInvalidGrant, "the authorization code is invalid or expired")
	}
	if err != nil {
		return nil, unavailable(err)
	}
	now := s.now()
	switch {
	case !secure.Equal(g.CodeHash, hash):
		return nil, newErr(CodeInvalidGrant, "the authorization code is invalid or expired")
	case g.Redeemed:
		// A second redemption: the code leaked. Revoke everything issued
		// from it (RFC 6749 §4.1.2, RFC 9700 §4.5).
		s.revokeGrant(ctx, g.ID, g.Subject, g.Username, g.ClientID, "code_reused", nil)
		return nil, newErr(CodeInvalidGrant, "the authorization code was already used")
	case g.ClientID != c.ID:
		return nil, newErr(CodeInvalidGrant, "the authorization code was issued to another client")
	case g.Revoked:
		return nil, newErr(CodeInvalidGrant, "the authorization code was revoked")
	case !now.Before(g.CodeExpiresAt) || !now.Before(g.ExpiresAt):
		return nil, newErr(CodeInvalidGrant, "the authorization code is invalid or expired")
	case req.redirectURI != g.RedirectURI:
		return nil, newErr(CodeInvalidGrant, "redirect_uri does not match the authorization request")
	}
	switch {
	case g.CodeChallenge == "" && req.codeVerifier != "":
		// RFC 9700 §2.1.1: a verifier without a challenge is a PKCE
		// downgrade attempt.
		return nil, newErr(CodeInvalidGrant, "code_verifier sent, but the authorization request had no code_challenge")
	case g.CodeChallenge == "" && (c.Public() || c.RequirePKCE):
		return nil, newErr(CodeInvalidGrant, "PKCE is required for this client")
	case g.CodeChallenge != "" && req.codeVerifier == "":
		return nil, newErr(CodeInvalidGrant, "the code_verifier parameter is missing")
	case g.CodeChallenge != "" && !verifyPKCE(g.CodeChallengeMethod, g.CodeChallenge, req.codeVerifier, s.cfg.InsecureAllowPlainPKCE):
		return nil, newErr(CodeInvalidGrant, "code_verifier does not match the code_challenge")
	}
	scopes := allowedNow(g.Scopes, c.Scopes)
	at, e := s.issueAccess(ctx, jwtprovider.Subject{
		ID: g.Subject, Username: g.Username, Email: g.Email, Roles: g.Roles,
		Scopes: scopes, ClientID: c.ID, MFA: g.MFA,
	})
	if e != nil {
		return nil, e
	}
	var refresh string
	next := TokenSet{Access: AccessTokenRef{ID: at.ID, ExpiresAt: at.ExpiresAt}}
	if c.allows(GrantRefreshToken) {
		refresh = secure.Token(32)
		next.RefreshHash = secure.HashHex(refresh)
	}
	g2, err := s.grants.RedeemCode(ctx, hash, next, now)
	if err != nil {
		switch {
		case errors.Is(err, ErrCodeReused):
			// A concurrent redemption won: both lose their tokens.
			s.revokeGrant(ctx, g.ID, g.Subject, g.Username, g.ClientID, "code_reused", append(g2.AccessTokens, next.Access))
			return nil, newErr(CodeInvalidGrant, "the authorization code was already used")
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrRevoked):
			s.revokeAccess(ctx, []AccessTokenRef{next.Access})
			return nil, newErr(CodeInvalidGrant, "the authorization code is invalid or expired")
		default:
			s.revokeAccess(ctx, []AccessTokenRef{next.Access})
			return nil, unavailable(err)
		}
	}
	resp := &tokenResponse{
		AccessToken: at.Value, TokenType: jwtprovider.TokenTypeBearer,
		ExpiresIn: int64(at.Lifetime().Seconds()), RefreshToken: refresh,
		Scope: strings.Join(scopes, " "),
	}
	if s.idKey != nil && slices.Contains(scopes, ScopeOpenID) {
		idt, err := s.idToken(&g2, scopes, at, g2.Nonce)
		if err != nil {
			return nil, newErr(CodeServerError, "the server could not sign the ID token").wrap(err)
		}
		resp.IDToken = idt
	}
	s.emit(ctx, auth.EventTokenIssued, g.Subject, g.Username, c.ID, "",
		map[string]string{"grant_type": string(GrantAuthorizationCode), "jti": at.ID, "grant_id": g.ID})
	return resp, nil
}

// refresh is the refresh token grant (RFC 6749 §6) with rotation (RFC 9700
// §4.14.2).
func (s *Server) refresh(ctx context.Context, c *Client, req *tokenRequest) (*tokenResponse, *oauthError) {
	if req.refreshToken == "" {
		return nil, newErr(CodeInvalidRequest, "the refresh_token parameter is missing")
	}
	hash := secure.HashHex(req.refreshToken)
	now := s.now()
	g, err := s.grants.FindGrant(ctx, hash)
	if errors.Is(err, ErrNotFound) {
		// Not a current refresh token: an old one is reuse, which the
		// store detects (and answers by revoking the grant) when asked to
		// rotate it.
		g2, err := s.grants.RotateRefresh(ctx, hash, TokenSet{RefreshHash: secure.HashHex(secure.Token(32))}, now)
		if errors.Is(err, ErrReused) {
			s.reuseDetected(ctx, &g2, nil)
		} else if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrRevoked) {
			return nil, unavailable(err)
		}
		return nil, newErr(CodeInvalidGrant, "the refresh token is invalid, expired or revoked")
	}
	if err != nil {
		return nil, unavailable(err)
	}
	switch {
	case !secure.Equal(g.RefreshHash, hash):
		return nil, newErr(CodeInvalidGrant, "the refresh token is invalid, expired or revoked")
	case g.ClientID != c.ID:
		return nil, newErr(CodeInvalidGrant, "the refresh token was issued to another client")
	case g.Revoked || !now.Before(g.ExpiresAt):
		return nil, newErr(CodeInvalidGrant, "the refresh token is invalid, expired or revoked")
	}
	scopes := allowedNow(g.Scopes, c.Scopes)
	if req.scopeGiven {
		// RFC 6749 §6: the scope may only narrow the grant.
		for _, sc := range req.scopes {
			if !slices.Contains(scopes, sc) {
				return nil, newErr(CodeInvalidScope, "the scope "+sc+" exceeds the grant")
			}
		}
		scopes = req.scopes
	}
	sub := jwtprovider.Subject{
		ID: g.Subject, Username: g.Username, Email: g.Email, Roles: g.Roles,
		Scopes: scopes, ClientID: c.ID, MFA: g.MFA,
	}
	if s.cfg.ReloadSubject != nil {
		p, err := s.cfg.ReloadSubject(ctx, g)
		var ae *auth.Error
		switch {
		case errors.As(err, &ae):
			return nil, newErr(CodeInvalidGrant, "the user can no longer use this grant").wrap(err)
		case err != nil:
			return nil, unavailable(err)
		case p == nil || p.Subject != g.Subject:
			return nil, newErr(CodeServerError, "the server could not load the user")
		}
		sub.Username, sub.Email, sub.Roles = p.Username, p.Email, p.Roles
	}
	at, e := s.issueAccess(ctx, sub)
	if e != nil {
		return nil, e
	}
	refresh := secure.Token(32)
	next := TokenSet{RefreshHash: secure.HashHex(refresh), Access: AccessTokenRef{ID: at.ID, ExpiresAt: at.ExpiresAt}}
	g2, err := s.grants.RotateRefresh(ctx, hash, next, now)
	if err != nil {
		switch {
		case errors.Is(err, ErrReused):
			// A concurrent refresh with the same token won: the thief and
			// the client cannot be told apart, so the grant ends.
			s.reuseDetected(ctx, &g2, []AccessTokenRef{next.Access})
			return nil, newErr(CodeInvalidGrant, "the refresh token was already used")
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrRevoked):
			s.revokeAccess(ctx, []AccessTokenRef{next.Access})
			return nil, newErr(CodeInvalidGrant, "the refresh token is invalid, expired or revoked")
		default:
			s.revokeAccess(ctx, []AccessTokenRef{next.Access})
			return nil, unavailable(err)
		}
	}
	resp := &tokenResponse{
		AccessToken: at.Value, TokenType: jwtprovider.TokenTypeBearer,
		ExpiresIn: int64(at.Lifetime().Seconds()), RefreshToken: refresh,
		Scope: strings.Join(scopes, " "),
	}
	if s.idKey != nil && slices.Contains(scopes, ScopeOpenID) {
		// OpenID Connect Core §12.2: same iss, sub, aud and auth_time, no
		// nonce.
		g2.Username, g2.Email = sub.Username, sub.Email
		idt, err := s.idToken(&g2, scopes, at, "")
		if err != nil {
			return nil, newErr(CodeServerError, "the server could not sign the ID token").wrap(err)
		}
		resp.IDToken = idt
	}
	s.emit(ctx, auth.EventTokenRefreshed, g.Subject, sub.Username, c.ID, "",
		map[string]string{"jti": at.ID, "grant_id": g.ID})
	return resp, nil
}

// clientCredentials is the client credentials grant (RFC 6749 §4.4): a
// token for the client itself, with its service roles. No refresh token
// (RFC 6749 §4.4.3).
func (s *Server) clientCredentials(ctx context.Context, c *Client, req *tokenRequest) (*tokenResponse, *oauthError) {
	if c.Public() {
		return nil, newErr(CodeUnauthorizedClient, "public clients cannot use client_credentials")
	}
	scopes := slices.Clone(c.Scopes)
	if req.scopeGiven {
		for _, sc := range req.scopes {
			if !slices.Contains(c.Scopes, sc) {
				return nil, newErr(CodeInvalidScope, "the scope "+sc+" is not allowed for this client")
			}
		}
		scopes = req.scopes
	}
	scopes = slices.DeleteFunc(scopes, isOIDCScope)
	if req.scopeGiven && len(scopes) < len(req.scopes) {
		return nil, newErr(CodeInvalidScope, "OpenID Connect scopes need a user")
	}
	if scopes == nil {
		scopes = []string{}
	}
	at, e := s.issueAccess(ctx, jwtprovider.Subject{
		ID: c.ID, Roles: slices.Clone(c.ServiceRoles), Scopes: scopes, ClientID: c.ID,
	})
	if e != nil {
		return nil, e
	}
	s.emit(ctx, auth.EventTokenIssued, c.ID, "", c.ID, "",
		map[string]string{"grant_type": string(GrantClientCredentials), "jti": at.ID})
	return &tokenResponse{
		AccessToken: at.Value, TokenType: jwtprovider.TokenTypeBearer,
		ExpiresIn: int64(at.Lifetime().Seconds()), Scope: strings.Join(scopes, " "),
	}, nil
}

// allowedNow returns the granted scopes the client's registration still
// allows, never nil: a nil scope list would leave the token un-narrowed.
func allowedNow(granted, clientScopes []string) []string {
	out := make([]string, 0, len(granted))
	for _, sc := range granted {
		if slices.Contains(clientScopes, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// issueAccess issues an access token; s.Scopes must not be nil.
func (s *Server) issueAccess(ctx context.Context, sub jwtprovider.Subject) (jwtprovider.Token, *oauthError) {
	if sub.Scopes == nil {
		sub.Scopes = []string{}
	}
	at, err := s.cfg.Tokens.Issue(ctx, sub)
	if err != nil {
		return jwtprovider.Token{}, newErr(CodeServerError, "the server could not issue the token").wrap(err)
	}
	return at, nil
}

// reuseDetected handles a refresh token presented after rotation: the store
// revoked the grant; this revokes its access tokens (and extra) and
// reports it.
func (s *Server) reuseDetected(ctx context.Context, g *Grant, extra []AccessTokenRef) {
	s.revokeAccess(ctx, append(slices.Clone(g.AccessTokens), extra...))
	s.emit(ctx, auth.EventRefreshReuseDetected, g.Subject, g.Username, g.ClientID, "reuse_detected",
		map[string]string{"grant_id": g.ID})
}

// revokeGrant revokes grant id and every access token issued from it (and
// extra), and reports it.
func (s *Server) revokeGrant(ctx context.Context, id, subject, username, clientID, reason string, extra []AccessTokenRef) error {
	refs, err := s.grants.RevokeGrant(ctx, id)
	if err != nil {
		s.revokeAccess(ctx, extra)
		return err
	}
	if err := s.revokeAccess(ctx, append(refs, extra...)); err != nil {
		return err
	}
	s.emit(ctx, auth.EventTokenRevoked, subject, username, clientID, reason, map[string]string{"grant_id": id})
	return nil
}

// revokeAccess revokes access tokens by ID in the provider's revocation
// store, until they would have expired (plus the largest leeway a
// provider may use).
func (s *Server) revokeAccess(ctx context.Context, refs []AccessTokenRef) error {
	now := s.now()
	var first error
	for _, a := range refs {
		until := a.ExpiresAt.Add(jwtprovider.MaxLeeway)
		if a.ID == "" || !now.Before(until) {
			continue
		}
		err := s.cfg.Revocations.Revoke(ctx, jwtprovider.Revocation{ID: a.ID, At: now, Until: until})
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// oauthErrorBody is the error response of RFC 6749 §5.2.
type oauthErrorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
}

// writeJSONError writes e as RFC 6749 §5.2 JSON.
func writeJSONError(w http.ResponseWriter, e *oauthError) {
	h := w.Header()
	if e.status == http.StatusUnauthorized {
		// RFC 6749 §5.2: a 401 names the scheme the client may use.
		h.Set("WWW-Authenticate", `Basic realm="oauth"`)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(oauthErrorBody{Error: e.code, ErrorDescription: e.description})
}
