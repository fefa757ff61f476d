package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/apikey"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/authapi"
	"github.com/gatehouse-auth/gatehouse/basic"
	"github.com/gatehouse-auth/gatehouse/docs"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/gatehouse-auth/gatehouse/mfa"
	"github.com/gatehouse-auth/gatehouse/middleware"
	"github.com/gatehouse-auth/gatehouse/oauth2provider/server"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
	"github.com/gatehouse-auth/gatehouse/rbac"
	"github.com/gatehouse-auth/gatehouse/session"
)

//go:embed roles.json
var rolesJSON []byte

// demoUsers are seeded at start, one per role.
var demoUsers = []struct{ username, role string }{
	{"operator_001", "operator"},
	{"supervisor_001", "supervisor"},
	{"engineer_001", "engineer"},
	{"admin_001", "admin"},
}

// app is the wired reference server.
type app struct {
	cfg    config
	logger *slog.Logger
	now    func() time.Time

	events   *auth.Dispatcher
	policy   *rbac.Holder
	authz    *middleware.Authorizer
	resolver *ratelimit.IPResolver
	general  ratelimit.Limiter // every /api/v1/ request, per client IP

	users       *basic.Users
	tokens      *jwtprovider.Provider
	revocations jwtprovider.RevocationStore // shared by the tokens and the OAuth server
	oauth       *server.Server
	keys        *apikey.Manager
	sessions    *session.Manager
	mfa         *mfa.Manager
	api         *authapi.API
	plant       *plant
	stores      *stores // the engines of -postgres, -redis and -db
	// stopSweep ends the loop deleting expired records, which closes
	// sweepDone; both are nil without a database.
	stopSweep, sweepDone chan struct{}

	ssoLogin, ssoCallback http.Handler // nil without -oidc-issuer

	authenticators []auth.Authenticator
	mux            *http.ServeMux // the plant's routes, behind authentication
}

func newApp(ctx context.Context, cfg config, logger *slog.Logger) (*app, error) {
	st, err := openStores(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a, err := buildApp(ctx, cfg, logger, st)
	if err != nil {
		st.close()
		return nil, err
	}
	if st.pg != nil || st.lite != nil {
		a.stopSweep = make(chan struct{})
		a.sweepDone = make(chan struct{})
		go a.sweepLoop()
	}
	return a, nil
}

// sweepLoop deletes expired records every sweepInterval until Close.
func (a *app) sweepLoop() {
	defer close(a.sweepDone)
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-a.stopSweep:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			n, err := a.stores.sweep(ctx, a.now())
			cancel()
			if err != nil {
				a.logger.Error("deleting expired records", "deleted", n, "error", err)
			} else {
				a.logger.Debug("deleted expired records", "deleted", n)
			}
		}
	}
}

func buildApp(ctx context.Context, cfg config, logger *slog.Logger, st *stores) (*app, error) {
	a := &app{cfg: cfg, logger: logger, now: cfg.now, mux: http.NewServeMux(), stores: st}
	if a.now == nil {
		a.now = time.Now
	}
	now := a.now
	if cfg.printTo == nil {
		cfg.printTo = func(format string, args ...any) { fmt.Printf(format, args...) }
		a.cfg.printTo = cfg.printTo
	}
	a.events = auth.NewDispatcher(auth.DispatcherConfig{})
	a.events.OnAll(auth.AuditHandler(logger))

	// Roles and permissions.
	policy, err := rbac.ParseJSON(rolesJSON)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	a.policy = rbac.NewHolder(policy)
	a.authz = middleware.NewAuthorizer(a.policy, middleware.AuthorizerConfig{Events: a.events, Logger: logger, Now: now})

	// Client IPs and rate limits.
	if a.resolver, err = ratelimit.NewIPResolver(ratelimit.IPResolverConfig{TrustedProxies: cfg.trustedProxies}); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	if a.general, err = st.limiter("general", cfg.rateLimit, now); err != nil {
		return nil, fmt.Errorf("rate limit: %w", err)
	}
	authLimiter, err := st.limiter("auth", cfg.authRateLimit, now)
	if err != nil {
		return nil, fmt.Errorf("auth rate limit: %w", err)
	}

	// Tokens.
	key, err := signingKey(cfg.jwtAlg, logger)
	if err != nil {
		return nil, err
	}
	// Users are needed by ReloadSubject and users need the tokens for
	// revocation: the closure reads a.users once both exist.
	if st.revocations != nil {
		a.revocations = st.revocations
	} else {
		a.revocations = jwtprovider.NewMemoryRevocationStore()
	}
	a.tokens, err = jwtprovider.New(jwtprovider.Config{
		RevocationStore: a.revocations, RefreshStore: st.refresh,
		Issuer: cfg.issuer, Audience: []string{cfg.issuer + "/api/v1"}, Keys: []jwtprovider.Key{key},
		AccessTTL: cfg.accessTTL, RefreshTTL: cfg.refreshTTL, Events: a.events, Now: now,
		ReloadSubject: func(ctx context.Context, s jwtprovider.Subject) (jwtprovider.Subject, error) {
			return authapi.ReloadSubject(a.users)(ctx, s)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}

	// Sessions for the browser dashboard.
	if a.sessions, err = session.New(session.Config{
		Store: st.sessions, CookieName: "gh_session", InsecureCookie: cfg.insecureCookie, Events: a.events, Now: now,
	}); err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}

	// Users, passwords and lockout.
	lockout, err := ratelimit.NewAttemptsLimiter(ratelimit.AttemptsConfig{
		Store: st.attempts, MaxFailures: cfg.lockoutFailures, Window: cfg.lockoutWindow, LockoutDuration: cfg.lockoutDuration, Now: now,
	})
	if err != nil {
		return nil, fmt.Errorf("lockout: %w", err)
	}
	hc := basic.HasherConfig{}
	if cfg.insecureFastHash { // tests only
		hc = basic.HasherConfig{Argon2id: basic.Argon2idParams{Memory: 64, Iterations: 1}, InsecureLowCost: true}
	}
	hasher, err := basic.NewHasher(hc)
	if err != nil {
		return nil, fmt.Errorf("password hasher: %w", err)
	}
	if a.users, err = basic.New(basic.Config{
		Store:                st.users,
		Hasher:               hasher,
		Now:                  now,
		Roles:                func(r string) bool { _, ok := a.policy.Role(r); return ok },
		Lockout:              lockout,
		OnCredentialsChanged: authapi.RevokeUser(a.tokens, a.sessions),
		Events:               a.events,
	}); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}

	// API keys.
	if a.keys, err = apikey.New(apikey.Config{
		Store: st.keys, Owners: authapi.KeyOwners(a.users), Policy: a.policy, Events: a.events, Now: now,
	}); err != nil {
		return nil, fmt.Errorf("api keys: %w", err)
	}
	keyAuth, err := apikey.NewAuthenticator(a.keys, apikey.AuthenticatorConfig{})
	if err != nil {
		return nil, fmt.Errorf("api keys: %w", err)
	}

	// Second factors: required for supervisors and administrators.
	keyring, err := keyring(logger)
	if err != nil {
		return nil, err
	}
	if a.mfa, err = mfa.New(mfa.Config{
		Store: st.mfa, Keyring: keyring, Issuer: "Steel Plant", Events: a.events, Now: now,
		Policy: mfa.Policy{RequiredForRoles: []string{"admin", "supervisor"}, GracePeriod: cfg.mfaGrace},
	}); err != nil {
		return nil, fmt.Errorf("mfa: %w", err)
	}

	// The chain: API keys first (they claim only bearer values with their
	// prefix), then JWTs, then the session cookie.
	a.authenticators = []auth.Authenticator{keyAuth, a.tokens, a.sessions}

	openapi, err := docs.OpenAPIJSON()
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	if a.api, err = authapi.New(authapi.Config{
		Users: a.users, Tokens: a.tokens, Policy: a.policy, Authenticators: a.authenticators,
		APIKeys: a.keys, Sessions: a.sessions, MFA: a.mfa, Limiter: authLimiter,
		OpenAPI: openapi, Events: a.events, Logger: logger, Now: now,
		DeliverPasswordReset: func(ctx context.Context, t basic.ResetTicket) error {
			if cfg.deliverReset != nil {
				cfg.deliverReset(t)
				return nil
			}
			// A real plant mails a link; the demo logs that it would.
			logger.InfoContext(ctx, "password reset token issued (not mailed in the demo)", "user", t.Username, "expires_at", t.ExpiresAt)
			return nil
		},
	}); err != nil {
		return nil, fmt.Errorf("auth api: %w", err)
	}

	if a.oauth, err = a.setupOAuth(ctx); err != nil {
		return nil, err
	}
	if a.ssoLogin, a.ssoCallback, err = a.setupSSO(ctx, keyring); err != nil {
		return nil, err
	}
	if err := a.seed(ctx); err != nil {
		return nil, err
	}
	a.plant = newPlant(a.now)
	a.routes()
	return a, nil
}

// signingKey loads GATEHOUSE_JWT_KEY (a PEM private key, or the path of
// one) or generates a key.
func signingKey(alg string, logger *slog.Logger) (jwtprovider.Key, error) {
	pem, err := pemFromEnv("GATEHOUSE_JWT_KEY")
	if err != nil {
		return jwtprovider.Key{}, err
	}
	if pem == nil {
		k, err := jwtprovider.GenerateKey("steelplant-"+strings.ToLower(alg), alg)
		if err != nil {
			return k, fmt.Errorf("generating a %s signing key: %w", alg, err)
		}
		logger.Warn("GATEHOUSE_JWT_KEY is not set: signing with a generated key; tokens will not survive a restart", "alg", alg, "kid", k.ID())
		return k, nil
	}
	k, err := jwtprovider.ParsePEMKey("steelplant-1", alg, pem)
	if err != nil {
		return k, fmt.Errorf("GATEHOUSE_JWT_KEY: %w", err)
	}
	return k, nil
}

// pemFromEnv returns the PEM text that the environment variable name holds,
// directly or as the path of a file; nil when the variable is unset or
// empty.
func pemFromEnv(name string) ([]byte, error) {
	v := os.Getenv(name)
	if v == "" {
		return nil, nil
	}
	if strings.HasPrefix(strings.TrimSpace(v), "-----BEGIN") {
		return []byte(v), nil
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return b, nil
}

// keyring loads GATEHOUSE_KEYRING or generates one.
func keyring(logger *slog.Logger) (*auth.Keyring, error) {
	if os.Getenv("GATEHOUSE_KEYRING") != "" {
		return auth.KeyringFromEnv("GATEHOUSE_KEYRING")
	}
	key, err := auth.GenerateKey()
	if err != nil {
		return nil, err
	}
	logger.Warn("GATEHOUSE_KEYRING is not set: TOTP secrets are sealed with a generated key")
	return auth.NewKeyring("generated", key)
}

// seed creates the demo users that do not exist yet and prints their
// credentials. On a durable store a restart finds them and leaves their
// passwords alone.
func (a *app) seed(ctx context.Context) error {
	var missing []int
	for i, d := range demoUsers {
		_, err := a.users.GetByUsername(ctx, d.username)
		switch {
		case errors.Is(err, basic.ErrNotFound):
			missing = append(missing, i)
		case err != nil:
			return fmt.Errorf("demo user %s: %w", d.username, err)
		}
	}
	if len(missing) == 0 {
		a.cfg.printTo("Demo users already exist in the store (%s); their passwords are unchanged.\n", a.demoUserNames())
		return nil
	}
	pw := a.cfg.demoPassword
	if pw == "" {
		pw = os.Getenv("GATEHOUSE_DEMO_PASSWORD")
	}
	generated := pw == ""
	if generated {
		pw = "plant-" + randomBase62(16)
	}
	for _, i := range missing {
		d := demoUsers[i]
		if _, err := a.users.Create(ctx, basic.NewUser{Username: d.username, Email: d.username + "@plant.example", Password: pw, Roles: []string{d.role}}); err != nil {
			return fmt.Errorf("demo user %s: %w", d.username, err)
		}
	}
	a.cfg.printTo("Demo users (role = the part after the username):\n")
	for _, i := range missing {
		a.cfg.printTo("  %-15s %-10s\n", demoUsers[i].username, demoUsers[i].role)
	}
	if generated {
		a.cfg.printTo("Password for all of them (generated; set GATEHOUSE_DEMO_PASSWORD to choose it): %s\n", pw)
	} else {
		a.cfg.printTo("Password for all of them: the value of GATEHOUSE_DEMO_PASSWORD\n")
	}
	return nil
}

// demoUserNames lists the demo usernames for messages.
func (a *app) demoUserNames() string {
	names := make([]string, len(demoUsers))
	for i, d := range demoUsers {
		names[i] = d.username
	}
	return strings.Join(names, ", ")
}

// routes registers the plant's protected API.
func (a *app) routes() {
	perm := a.authz.RequirePermission
	stepUp := middleware.RequireRecentMFA(a.cfg.mfaMaxAge, middleware.MFAEvents(a.events), middleware.MFANow(a.now))
	a.mux.Handle("GET /api/v1/dashboard", perm("dashboard:read")(http.HandlerFunc(a.plant.dashboard)))
	a.mux.Handle("POST /api/v1/predictions", perm("predictions:write")(http.HandlerFunc(a.plant.createPrediction)))
	a.mux.Handle("GET /api/v1/predictions", perm("predictions:read")(http.HandlerFunc(a.plant.listPredictions)))
	a.mux.Handle("GET /api/v1/alerts", perm("alerts:read")(http.HandlerFunc(a.plant.listAlerts)))
	a.mux.Handle("POST /api/v1/alerts/{id}/acknowledge", perm("alerts:acknowledge")(http.HandlerFunc(a.plant.acknowledgeAlert)))
	a.mux.Handle("GET /api/v1/reports", perm("reports:read")(http.HandlerFunc(a.plant.reports)))
	a.mux.Handle("POST /api/v1/models/deploy", perm("models:deploy")(stepUp(http.HandlerFunc(a.plant.deployModel))))
	a.mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, auth.NewError(auth.CodeNotFound, "no such route"))
	})
}

// Handler returns the server's root handler. From the outside in: client-IP
// resolution (trusting only configured proxies), request IDs, security
// headers, per-IP rate limiting on /api/v1/, then the auth API (with its own
// per-route authentication and tighter limits) or the authentication chain
// in front of the plant's routes.
func (a *app) Handler() http.Handler {
	chain := middleware.Authenticate(a.authenticators, middleware.WithLogger(a.logger))
	limited := ratelimit.Middleware(a.general, ratelimit.ByClientIP, ratelimit.WithEvents(a.events))
	root := http.NewServeMux()
	if a.ssoLogin != nil {
		root.Handle("GET /api/v1/auth/oidc/login", limited(a.ssoLogin))
		root.Handle("GET /api/v1/auth/oidc/callback", limited(a.ssoCallback))
	}
	root.Handle("/api/v1/auth/", limited(http.StripPrefix("/api/v1/auth", a.api)))
	root.Handle("/api/v1/", limited(chain(a.mux)))
	root.Handle("/api/v1/oauth/", limited(http.StripPrefix("/api/v1/oauth", a.oauth.Handler())))
	root.Handle("GET /.well-known/oauth-authorization-server/api/v1/oauth", a.oauth.MetadataHandler())
	root.Handle("GET /.well-known/jwks.json", a.tokens.JWKSHandler())
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	return a.resolver.Middleware(middleware.RequestID(middleware.SecurityHeaders(middleware.SecurityHeadersConfig{})(root)))
}

// Close releases background resources.
func (a *app) Close() {
	if a.stopSweep != nil {
		close(a.stopSweep)
		<-a.sweepDone
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := errors.Join(a.keys.Close(ctx), a.sessions.Close(), a.events.Close(ctx), a.stores.close())
	if err != nil {
		a.logger.Error("closing", "error", err)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, r *http.Request, err error) { middleware.WriteError(w, r, err) }
