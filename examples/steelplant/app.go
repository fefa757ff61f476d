package main

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/middleware"
)

// app is the wired reference server.
type app struct {
	cfg    config
	logger *slog.Logger
	events *auth.Dispatcher
	mux    *http.ServeMux
}

func newApp(cfg config, logger *slog.Logger) (*app, error) {
	a := &app{cfg: cfg, logger: logger, mux: http.NewServeMux()}
	a.events = auth.NewDispatcher(auth.DispatcherConfig{})
	a.events.OnAll(auth.AuditHandler(logger))

	a.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	return a, nil
}

// Handler returns the server's root handler: request IDs and security
// headers on everything, authentication on everything under /api/v1/.
func (a *app) Handler() http.Handler {
	chain := middleware.Authenticate(a.authenticators(),
		middleware.Exempt("/healthz"),
		middleware.WithLogger(a.logger))
	root := http.NewServeMux()
	root.Handle("/api/v1/", chain(a.mux))
	root.Handle("/", a.mux)
	return middleware.RequestID(middleware.SecurityHeaders(middleware.SecurityHeadersConfig{})(root))
}

// authenticators returns the chain, most specific credential first.
func (a *app) authenticators() []auth.Authenticator {
	return nil
}

// Close releases background resources.
func (a *app) Close() {}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
