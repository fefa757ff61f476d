package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/middleware"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
	"github.com/gatehouse-auth/gatehouse/rbac"
)

//go:embed roles.json
var rolesJSON []byte

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
	plant    *plant

	authenticators []auth.Authenticator
	mux            *http.ServeMux // routes under /api/v1/, behind authentication
}

func newApp(cfg config, logger *slog.Logger) (*app, error) {
	a := &app{cfg: cfg, logger: logger, now: time.Now, mux: http.NewServeMux()}
	a.events = auth.NewDispatcher(auth.DispatcherConfig{})
	a.events.OnAll(auth.AuditHandler(logger))

	policy, err := rbac.ParseJSON(rolesJSON)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	a.policy = rbac.NewHolder(policy)
	a.authz = middleware.NewAuthorizer(a.policy, middleware.AuthorizerConfig{Events: a.events, Logger: logger})

	if a.resolver, err = ratelimit.NewIPResolver(ratelimit.IPResolverConfig{TrustedProxies: cfg.trustedProxies}); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	if a.general, err = ratelimit.NewMemoryLimiter(ratelimit.MemoryConfig{Limit: cfg.rateLimit, Period: time.Minute}); err != nil {
		return nil, fmt.Errorf("rate limit: %w", err)
	}

	a.plant = newPlant(a.now)
	a.routes()
	return a, nil
}

// routes registers the plant's protected API.
func (a *app) routes() {
	perm := a.authz.RequirePermission
	a.mux.Handle("GET /api/v1/dashboard", perm("dashboard:read")(http.HandlerFunc(a.plant.dashboard)))
	a.mux.Handle("POST /api/v1/predictions", perm("predictions:write")(http.HandlerFunc(a.plant.createPrediction)))
	a.mux.Handle("GET /api/v1/predictions", perm("predictions:read")(http.HandlerFunc(a.plant.listPredictions)))
	a.mux.Handle("GET /api/v1/alerts", perm("alerts:read")(http.HandlerFunc(a.plant.listAlerts)))
	a.mux.Handle("POST /api/v1/alerts/{id}/acknowledge", perm("alerts:acknowledge")(http.HandlerFunc(a.plant.acknowledgeAlert)))
	a.mux.Handle("GET /api/v1/reports", perm("reports:read")(http.HandlerFunc(a.plant.reports)))
	a.mux.Handle("POST /api/v1/models/deploy", perm("models:deploy")(http.HandlerFunc(a.plant.deployModel)))
}

// Handler returns the server's root handler. From the outside in: client-IP
// resolution (trusting only configured proxies), request IDs, security
// headers, then per-IP rate limiting and authentication on /api/v1/.
func (a *app) Handler() http.Handler {
	chain := middleware.Authenticate(a.authenticators, middleware.WithLogger(a.logger))
	limited := ratelimit.Middleware(a.general, ratelimit.ByClientIP, ratelimit.WithEvents(a.events))
	root := http.NewServeMux()
	root.Handle("/api/v1/", limited(chain(a.mux)))
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	return a.resolver.Middleware(middleware.RequestID(middleware.SecurityHeaders(middleware.SecurityHeadersConfig{})(root)))
}

// Close releases background resources.
func (a *app) Close() {}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, r *http.Request, err error) { middleware.WriteError(w, r, err) }
