package server

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

// Defaults and limits of Config.
const (
	// DefaultCodeTTL is the lifetime of authorization codes.
	DefaultCodeTTL = time.Minute
	// MaxCodeTTL is the longest code lifetime New accepts (RFC 6749 §4.1.2
	// recommends at most 10 minutes).
	MaxCodeTTL = 10 * time.Minute
	// DefaultGrantLifetime is the absolute lifetime of a grant: its refresh
	// tokens stop working after it however often they are rotated, and the
	// user must authorize the client again.
	DefaultGrantLifetime = 30 * 24 * time.Hour
)

// AuthorizeFunc is the host's login and consent step of the authorization
// endpoint. The server calls it for every authorization request that passed
// validation (known client, registered redirect URI, supported response
// type, allowed scopes, PKCE), with the request r as the browser sent it
// (GET, or POST when the host's own login or consent form posts back to the
// same URL) and the validated request req.
//
// It returns:
//   - (p, true) once the user p is authenticated and has approved the
//     request: the server issues the code and redirects to the client. When
//     p.Scopes is not nil, the grant is narrowed to the requested scopes
//     that p.Scopes holds (besides the OpenID Connect scopes), so a consent
//     form can uncheck scopes by returning them in p.Scopes;
//   - (nil, true) when the user declined: the server redirects with
//     access_denied;
//   - (nil, false) when the hook wrote the response itself (a login page,
//     a consent page, a redirect to the login page).
//
// The hook must authenticate the user (a session cookie, a login form) and
// protect its forms against CSRF; POST requests to the authorization
// endpoint from another origin are refused before the hook runs
// (http.CrossOriginProtection). The hook may set p.Claims["auth_time"] (a
// time.Time or Unix seconds) to when the user logged in; without it,
// auth_time is the time of approval. The response already carries
// X-Frame-Options: DENY and Content-Security-Policy: frame-ancestors 'none'
// when the hook runs; a hook that sets its own Content-Security-Policy must
// keep frame-ancestors 'none' in it.
type AuthorizeFunc func(w http.ResponseWriter, r *http.Request, req AuthorizeRequest) (*auth.Principal, bool)

// Config configures a Server. Issuer, Tokens, Revocations and Authorize are
// required; every other zero field takes the default its doc names. New
// copies it; the functions and stores it names must be safe for concurrent
// use.
type Config struct {
	// Issuer is the server's issuer identifier (RFC 8414 §2): the https URL
	// (or http on a loopback host) the Handler is mounted at, without
	// query, fragment or trailing slash, for example
	// "https://plant.example/api/v1/oauth". Endpoint URLs are Issuer plus
	// "/authorize", "/token", ...; it is the "iss" of ID tokens and of
	// authorization responses (RFC 9207). Required.
	Issuer string
	// Tokens issues and verifies the access tokens (RFC 9068 JWTs). Its
	// Authenticate, in the host's middleware chain, accepts them like any
	// other token, with their scopes narrowing the principal. Required.
	Tokens *jwtprovider.Provider
	// Revocations must be the RevocationStore the Tokens provider was built
	// with (jwtprovider.Config.RevocationStore). The server writes into it
	// the IDs of access tokens to revoke when a code is replayed, a refresh
	// token reused or a grant revoked. With another store those tokens would
	// stay valid until they expire. Required.
	Revocations jwtprovider.RevocationStore
	// Authorize is the login and consent hook. Required.
	Authorize AuthorizeFunc

	// Clients keeps client registrations; nil means a new MemoryStore.
	Clients ClientStore
	// Grants keeps grants; nil means Clients when it is also a GrantStore,
	// else a new MemoryStore.
	Grants GrantStore

	// IDTokenKey turns on OpenID Connect: ID tokens for the "openid" scope,
	// the userinfo endpoint and /.well-known/openid-configuration. It is an
	// *rsa.PrivateKey (RS256, at least 2048 bits), an *ecdsa.PrivateKey on
	// P-256 (ES256) or an ed25519.PrivateKey (EdDSA); its public key is
	// served from the JWKS endpoint beside the provider's. Nil means no
	// OpenID Connect (the "openid" scope is then refused).
	IDTokenKey crypto.Signer
	// IDTokenKeyID is the "kid" of IDTokenKey; required with it, and
	// different from the provider's key IDs.
	IDTokenKeyID string

	// CodeTTL is the lifetime of authorization codes; zero means
	// DefaultCodeTTL (1 minute), at most MaxCodeTTL.
	CodeTTL time.Duration
	// GrantLifetime is the absolute lifetime of a grant and its refresh
	// tokens; zero means DefaultGrantLifetime (30 days).
	GrantLifetime time.Duration

	// ReloadSubject, if set, is called at each refresh of a user's grant to
	// get the user's current username, email and roles, so that a role
	// removed from the user leaves the next access token. It returns an
	// *auth.Error to stop the refresh (a disabled or deleted account: the
	// client gets invalid_grant), any other error for a store failure.
	// Nil keeps what the user had when they approved the client.
	ReloadSubject func(ctx context.Context, g Grant) (*auth.Principal, error)

	// ScopesSupported is advertised in the metadata ("scopes_supported");
	// nil leaves it out.
	ScopesSupported []string

	// InsecureAllowPlainPKCE accepts the "plain" PKCE method. Plain sends
	// the verifier in the authorization request, where it can leak: RFC
	// 9700 §2.1.1 recommends S256 only. Leave it off.
	InsecureAllowPlainPKCE bool

	// ErrorPage writes the page shown to the user when an authorization
	// request cannot be sent back to the client (unknown client_id,
	// unregistered redirect_uri, ...). code and description are client-safe
	// (description is plain text: escape it). The status and the framing
	// and cache headers are already set when it is called; it writes the
	// header and body. Nil writes a minimal HTML page.
	ErrorPage func(w http.ResponseWriter, r *http.Request, status int, code, description string)

	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Events receives token_issued, token_refreshed, token_revoked and
	// refresh_reuse_detected (Method auth.MethodOAuth2, the client ID in
	// Attrs["client_id"]); nil discards them. The Tokens provider emits its
	// own token_issued for every access token as well.
	Events auth.Emitter
}

// Server is an OAuth 2.0 authorization server. It is safe for concurrent
// use.
type Server struct {
	cfg       Config
	issuer    string
	endpoints endpoints
	clients   ClientStore
	grants    GrantStore
	idKey     *idTokenKey
	cop       *http.CrossOriginProtection
	handler   http.Handler
}

type endpoints struct {
	authorize, token, revoke, introspect, jwks, userinfo string
}

// New validates cfg, fills its defaults and returns a Server.
func New(cfg Config) (*Server, error) {
	bad := func(format string, args ...any) (*Server, error) {
		return nil, fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	if err := validIssuer(cfg.Issuer); err != nil {
		return bad("Issuer: %v", err)
	}
	if cfg.Tokens == nil {
		return bad("Tokens is required")
	}
	if cfg.Revocations == nil {
		return bad("Revocations is required (the RevocationStore of the Tokens provider)")
	}
	if cfg.Authorize == nil {
		return bad("Authorize is required")
	}
	switch {
	case cfg.CodeTTL == 0:
		cfg.CodeTTL = DefaultCodeTTL
	case cfg.CodeTTL < 0 || cfg.CodeTTL > MaxCodeTTL:
		return bad("CodeTTL must be between 0 and %v", MaxCodeTTL)
	}
	switch {
	case cfg.GrantLifetime == 0:
		cfg.GrantLifetime = DefaultGrantLifetime
	case cfg.GrantLifetime < cfg.CodeTTL:
		return bad("GrantLifetime must be longer than CodeTTL")
	}
	for _, sc := range cfg.ScopesSupported {
		if !validScopeToken(sc) {
			return bad("ScopesSupported: invalid scope %q", sc)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Clients == nil && cfg.Grants == nil {
		m := NewMemoryStore()
		cfg.Clients, cfg.Grants = m, m
	}
	if cfg.Clients == nil {
		cfg.Clients = NewMemoryStore()
	}
	if cfg.Grants == nil {
		if g, ok := cfg.Clients.(GrantStore); ok {
			cfg.Grants = g
		} else {
			cfg.Grants = NewMemoryStore()
		}
	}
	s := &Server{
		cfg:     cfg,
		issuer:  cfg.Issuer,
		clients: cfg.Clients,
		grants:  cfg.Grants,
		cop:     http.NewCrossOriginProtection(),
	}
	if cfg.IDTokenKey != nil || cfg.IDTokenKeyID != "" {
		k, err := newIDTokenKey(cfg.IDTokenKeyID, cfg.IDTokenKey)
		if err != nil {
			return bad("IDTokenKey: %v", err)
		}
		for _, pk := range cfg.Tokens.Keys() {
			if pk.ID() == k.kid {
				return bad("IDTokenKeyID %q is also a key ID of the Tokens provider", k.kid)
			}
		}
		s.idKey = k
	}
	s.endpoints = endpoints{
		authorize:  s.issuer + "/authorize",
		token:      s.issuer + "/token",
		revoke:     s.issuer + "/revoke",
		introspect: s.issuer + "/introspect",
		jwks:       s.issuer + "/jwks",
		userinfo:   s.issuer + "/userinfo",
	}
	s.handler = s.routes()
	return s, nil
}

// validIssuer checks the issuer identifier (RFC 8414 §2).
func validIssuer(iss string) error {
	if iss == "" {
		return fmt.Errorf("required")
	}
	u, err := url.Parse(iss)
	if err != nil {
		return err
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
	case u.Scheme == "http":
		if _, _, ok := splitLoopback(iss); !ok {
			return fmt.Errorf("must be https (http only on a loopback host)")
		}
	default:
		return fmt.Errorf("must be an https URL")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(iss, "?#") {
		return fmt.Errorf("must have no user information, query or fragment")
	}
	if strings.HasSuffix(iss, "/") {
		return fmt.Errorf("must not end with a slash")
	}
	return nil
}

func (s *Server) now() time.Time { return s.cfg.Now() }

// Issuer returns the issuer identifier.
func (s *Server) Issuer() string { return s.issuer }

// Handler returns the HTTP handler of every endpoint, relative to the
// issuer's path:
//
//	GET, POST /authorize                          authorization endpoint
//	POST      /token                              token endpoint
//	POST      /revoke                             RFC 7009 revocation
//	POST      /introspect                         RFC 7662 introspection
//	GET       /jwks                               JWK Set
//	GET       /.well-known/oauth-authorization-server  RFC 8414 metadata
//	GET       /.well-known/openid-configuration   OpenID Connect discovery
//	GET, POST /userinfo                           OpenID Connect userinfo
//
// (the last two only with Config.IDTokenKey). Mount it under the issuer's
// path with the prefix stripped:
//
//	mux.Handle("/api/v1/oauth/", http.StripPrefix("/api/v1/oauth", srv.Handler()))
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", s.handleAuthorize)
	mux.HandleFunc("/token", s.handleToken)
	mux.HandleFunc("/revoke", s.handleRevoke)
	mux.HandleFunc("/introspect", s.handleIntrospect)
	mux.HandleFunc("/jwks", s.handleJWKS)
	mux.Handle("/.well-known/oauth-authorization-server", s.MetadataHandler())
	if s.idKey != nil {
		mux.HandleFunc("/.well-known/openid-configuration", s.handleDiscovery)
		mux.HandleFunc("/userinfo", s.handleUserinfo)
	}
	return mux
}

// metadata is the RFC 8414 §2 document, with the OpenID Connect Discovery
// §3 members when ID tokens are on.
type metadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint,omitempty"`
	ScopesSupported                   []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethods          []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethods     []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethods  []string `json:"introspection_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	AuthorizationResponseISSSupported bool     `json:"authorization_response_iss_parameter_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported,omitempty"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported,omitempty"`
	ClaimsSupported                   []string `json:"claims_supported,omitempty"`
	RequestParameterSupported         *bool    `json:"request_parameter_supported,omitempty"`
	RequestURIParameterSupported      *bool    `json:"request_uri_parameter_supported,omitempty"`
	ClaimsParameterSupported          *bool    `json:"claims_parameter_supported,omitempty"`
}

func (s *Server) metadata(oidc bool) metadata {
	methods := []string{"S256"}
	if s.cfg.InsecureAllowPlainPKCE {
		methods = append(methods, "plain")
	}
	m := metadata{
		Issuer:                            s.issuer,
		AuthorizationEndpoint:             s.endpoints.authorize,
		TokenEndpoint:                     s.endpoints.token,
		JWKSURI:                           s.endpoints.jwks,
		RevocationEndpoint:                s.endpoints.revoke,
		IntrospectionEndpoint:             s.endpoints.introspect,
		ScopesSupported:                   s.cfg.ScopesSupported,
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{"query"},
		GrantTypesSupported:               []string{string(GrantAuthorizationCode), string(GrantRefreshToken), string(GrantClientCredentials)},
		TokenEndpointAuthMethods:          []string{string(AuthSecretBasic), string(AuthSecretPost), string(AuthNone)},
		RevocationEndpointAuthMethods:     []string{string(AuthSecretBasic), string(AuthSecretPost), string(AuthNone)},
		IntrospectionEndpointAuthMethods:  []string{string(AuthSecretBasic), string(AuthSecretPost)},
		CodeChallengeMethodsSupported:     methods,
		AuthorizationResponseISSSupported: true,
	}
	if s.idKey != nil {
		m.UserinfoEndpoint = s.endpoints.userinfo
	}
	if oidc {
		no := false
		m.SubjectTypesSupported = []string{"public"}
		m.IDTokenSigningAlgValuesSupported = []string{s.idKey.alg}
		m.ClaimsSupported = []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp", "amr", "preferred_username", "email"}
		m.RequestParameterSupported, m.RequestURIParameterSupported, m.ClaimsParameterSupported = &no, &no, &no
	}
	return m
}

// MetadataHandler serves the authorization server metadata (RFC 8414). The
// Handler serves it at /.well-known/oauth-authorization-server under the
// issuer's path; RFC 8414 §3.1 places it at the host's root with the
// issuer's path appended (/.well-known/oauth-authorization-server/api/v1/oauth
// for an issuer ending in /api/v1/oauth), where a host can mount this
// handler as well.
func (s *Server) MetadataHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowGet(w, r) {
			return
		}
		writeDocument(w, s.metadata(false))
	})
}

func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	if !allowGet(w, r) {
		return
	}
	writeDocument(w, s.metadata(true))
}

// jwks is a JWK Set (RFC 7517 §5).
type jwks struct {
	Keys []jwtprovider.JWK `json:"keys"`
}

// handleJWKS serves the provider's public keys and the ID token key.
func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	if !allowGet(w, r) {
		return
	}
	set := jwks{Keys: s.cfg.Tokens.JWKS()}
	if set.Keys == nil {
		set.Keys = []jwtprovider.JWK{}
	}
	if s.idKey != nil {
		set.Keys = append(set.Keys, s.idKey.jwk)
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_ = json.NewEncoder(w).Encode(set)
}

// allowGet answers anything but GET and HEAD with 405.
func allowGet(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeJSONError(w, &oauthError{code: CodeInvalidRequest, description: "method not allowed", status: http.StatusMethodNotAllowed})
	return false
}

func writeDocument(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_ = json.NewEncoder(w).Encode(v)
}

// emit sends an event of type t about the grant's client.
func (s *Server) emit(ctx context.Context, t auth.EventType, subject, username, clientID, reason string, attrs map[string]string) {
	if s.cfg.Events == nil {
		return
	}
	e := auth.NewEvent(ctx, t, s.now())
	e.Subject, e.Username, e.Method, e.Reason = subject, username, auth.MethodOAuth2, reason
	if attrs == nil {
		attrs = make(map[string]string, 1)
	}
	attrs["client_id"] = clientID
	e.Attrs = attrs
	auth.Emit(s.cfg.Events, e)
}

// RegisterClient validates c (see [Client.Validate]) and stores it, replacing
// any client with its ID. A confidential client registered without
// SecretHash gets a new secret, returned here once and stored only as its
// hash; otherwise secret is empty. The "openid" scope needs
// Config.IDTokenKey.
func (s *Server) RegisterClient(ctx context.Context, c Client) (secret string, err error) {
	c = c.clone()
	if !c.Public() && c.SecretHash == "" {
		secret, c.SecretHash = NewClientSecret()
	}
	if err := c.Validate(); err != nil {
		return "", err
	}
	if s.idKey == nil && slices.Contains(c.Scopes, ScopeOpenID) {
		return "", fmt.Errorf("%w: client %q: scope openid needs Config.IDTokenKey", ErrInvalidClient, c.ID)
	}
	if err := s.clients.PutClient(ctx, c); err != nil {
		return "", fmt.Errorf("server: store client: %w", err)
	}
	return secret, nil
}
