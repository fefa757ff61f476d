package authapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/apikey"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/basic"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/gatehouse-auth/gatehouse/mfa"
	"github.com/gatehouse-auth/gatehouse/middleware"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
	"github.com/gatehouse-auth/gatehouse/session"
)

// Policy is what the API needs from the RBAC policy: permission and role
// checks and the effective permission list shown by GET /me. *rbac.Policy
// and *rbac.Holder implement it.
type Policy interface {
	middleware.PermissionChecker
	Permissions(p *auth.Principal) []string
}

// Config wires the API to the host's components. Users, Tokens, Policy and
// Authenticators are required; the other components are optional and their
// routes answer 404 not_found when they are absent.
type Config struct {
	// Users manages accounts and passwords. Required.
	Users *basic.Users
	// Tokens issues, refreshes, verifies and revokes JWTs. Required.
	Tokens *jwtprovider.Provider
	// Policy is the RBAC policy. Required.
	Policy Policy
	// Authenticators is the chain for the routes that need a caller
	// (everything but login, login/mfa, refresh, revoke, password
	// forgot/reset and the OpenAPI document). Required; usually the host's
	// own chain: API keys, JWTs, sessions.
	Authenticators []auth.Authenticator
	// APIKeys enables the /api-keys routes.
	APIKeys *apikey.Manager
	// Sessions enables the /sessions routes and {"session": true} at login.
	Sessions *session.Manager
	// MFA enables the /mfa routes and the second factor at login.
	MFA *mfa.Manager
	// Limiter throttles the sensitive routes (login, login/mfa, refresh,
	// mfa/*, password/*) per client IP. Nil means an in-memory limit of 30
	// requests a minute with bursts of 10.
	Limiter ratelimit.Limiter
	// DeliverPasswordReset sends a reset token to its owner (by email, in a
	// link). It is called on a goroutine of its own, after the response to
	// POST /password/forgot was written, only when the address belongs to an
	// enabled user: the client sees the same answer and timing either way.
	// Nil means no reset token is ever delivered (the route still answers
	// 202).
	DeliverPasswordReset func(ctx context.Context, ticket basic.ResetTicket) error
	// OpenAPI, if set, is served at GET /openapi.json.
	OpenAPI []byte
	// Events receives the permission_denied and rate_limited events of the
	// API's own routes; the components emit theirs through their own
	// configuration. Nil discards them.
	Events auth.Emitter
	// Logger receives internal error detail. Nil discards it.
	Logger *slog.Logger
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// API is the mountable JSON auth API. Mount it under a prefix with
// http.StripPrefix, for example:
//
//	mux.Handle("/api/v1/auth/", http.StripPrefix("/api/v1/auth", api))
//
// It is safe for concurrent use.
type API struct {
	cfg     Config
	users   *basic.Users
	tokens  *jwtprovider.Provider
	policy  Policy
	keys    *apikey.Manager
	sess    *session.Manager
	mfa     *mfa.Manager
	limiter ratelimit.Limiter
	authz   *middleware.Authorizer
	logger  *slog.Logger
	now     func() time.Time

	mux    *http.ServeMux
	routes []Route
}

// Route is one route of the API, as registered: a method and a path
// pattern relative to the mount point.
type Route struct {
	Method string
	Path   string
}

// New validates cfg and returns the API.
func New(cfg Config) (*API, error) {
	switch {
	case cfg.Users == nil:
		return nil, errors.New("authapi: Config.Users is required")
	case cfg.Tokens == nil:
		return nil, errors.New("authapi: Config.Tokens is required")
	case cfg.Policy == nil:
		return nil, errors.New("authapi: Config.Policy is required")
	case len(cfg.Authenticators) == 0:
		return nil, errors.New("authapi: Config.Authenticators is required")
	}
	a := &API{
		cfg: cfg, users: cfg.Users, tokens: cfg.Tokens, policy: cfg.Policy,
		keys: cfg.APIKeys, sess: cfg.Sessions, mfa: cfg.MFA,
		limiter: cfg.Limiter, logger: cfg.Logger, now: cfg.Now, mux: http.NewServeMux(),
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	if a.limiter == nil {
		l, err := ratelimit.NewMemoryLimiter(ratelimit.MemoryConfig{Limit: 30, Period: time.Minute, Burst: 10, Now: cfg.Now})
		if err != nil {
			return nil, err
		}
		a.limiter = l
	}
	a.authz = middleware.NewAuthorizer(cfg.Policy, middleware.AuthorizerConfig{Events: cfg.Events, Logger: cfg.Logger, Now: cfg.Now})
	a.register()
	return a, nil
}

// ServeHTTP serves the API.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// Routes lists every route the API serves.
func (a *API) Routes() []Route { return append([]Route(nil), a.routes...) }

// register builds the route table.
func (a *API) register() {
	chain := middleware.NewChain(a.cfg.Authenticators,
		middleware.WithErrorHandler(writeAPIError), middleware.WithLogger(a.logger))
	authed := chain.Handler
	jwtOnly := middleware.NewChain(a.cfg.Authenticators, middleware.RouteMethods("/", auth.MethodJWT),
		middleware.WithErrorHandler(writeAPIError), middleware.WithLogger(a.logger)).Handler
	limited := ratelimit.Middleware(a.limiter, ratelimit.ByClientIP,
		ratelimit.WithEvents(a.cfg.Events), ratelimit.WithErrorHandler(writeAPIError), ratelimit.WithClock(a.now))
	perm := a.authz.RequirePermission

	type mw = func(http.Handler) http.Handler
	handle := func(method, path string, h http.HandlerFunc, wrap ...mw) {
		var hh http.Handler = h
		for i := len(wrap) - 1; i >= 0; i-- {
			hh = wrap[i](hh)
		}
		a.mux.Handle(method+" "+path, hh)
		a.routes = append(a.routes, Route{Method: method, Path: path})
	}

	handle("POST", "/login", a.login, limited)
	handle("POST", "/login/mfa", a.loginMFA, limited)
	handle("POST", "/refresh", a.refresh, limited)
	handle("GET", "/me", a.me, authed)
	handle("GET", "/token/info", a.tokenInfo, jwtOnly)
	handle("POST", "/revoke", a.revoke, limited)
	handle("POST", "/revoke-all", a.revokeAll, authed)

	handle("POST", "/api-keys", a.createAPIKey, authed)
	handle("GET", "/api-keys", a.listAPIKeys, authed)
	handle("GET", "/api-keys/{id}", a.getAPIKey, authed)
	handle("DELETE", "/api-keys/{id}", a.deleteAPIKey, authed)
	handle("POST", "/api-keys/{id}/rotate", a.rotateAPIKey, authed)

	handle("POST", "/mfa/setup", a.mfaSetup, limited, authed)
	handle("POST", "/mfa/verify", a.mfaVerify, limited, authed)
	handle("POST", "/mfa/disable", a.mfaDisable, limited, authed)

	handle("POST", "/password/change", a.passwordChange, limited, authed)
	handle("POST", "/password/forgot", a.passwordForgot, limited)
	handle("POST", "/password/reset", a.passwordReset, limited)

	handle("GET", "/sessions", a.listSessions, authed)
	handle("DELETE", "/sessions/{id}", a.deleteSession, authed)

	handle("GET", "/users", a.listUsers, authed, perm("users:read"))
	handle("POST", "/users", a.createUser, authed, perm("users:write"))
	handle("GET", "/users/{id}", a.getUser, authed, perm("users:read"))
	handle("PATCH", "/users/{id}", a.updateUser, authed, perm("users:write"))
	handle("DELETE", "/users/{id}", a.deleteUser, authed, perm("users:delete"))

	handle("GET", "/openapi.json", a.openAPI)

	// Anything else under the mount point is a JSON 404, not the mux's
	// plain-text page.
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, r, auth.NewError(auth.CodeNotFound, "no such route"))
	})
}

// RevokeUser returns a function that revokes every token and session of a
// user, for basic.Config.OnCredentialsChanged: a changed, reset or disabled
// password then ends everything issued before. sessions may be nil. It is
// idempotent.
func RevokeUser(tokens *jwtprovider.Provider, sessions *session.Manager) func(ctx context.Context, userID string) error {
	return func(ctx context.Context, userID string) error {
		var errs []error
		if tokens != nil {
			errs = append(errs, tokens.RevokeAll(ctx, userID))
		}
		if sessions != nil {
			_, err := sessions.RevokeAll(ctx, userID)
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	}
}

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) {
	if len(a.cfg.OpenAPI) == 0 {
		writeAPIError(w, r, auth.NewError(auth.CodeNotFound, "no API document is configured"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(a.cfg.OpenAPI)
}

// caller returns the authenticated principal; the routes that call it are
// behind the chain, so it is always present there.
func caller(r *http.Request) *auth.Principal {
	p, _ := auth.FromContext(r.Context())
	return p
}
