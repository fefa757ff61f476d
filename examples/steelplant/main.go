// Command steelplant is Gatehouse's reference server: a small steel-plant
// defect-prediction service that uses every part of Gatehouse.
//
//	go run ./examples/steelplant            # listens on localhost:8000
//	go run ./examples/steelplant -help      # every flag
//
// Environment: GATEHOUSE_DEMO_PASSWORD sets the demo users' password (else
// one is generated and printed once); GATEHOUSE_JWT_KEY holds a PEM private
// key, or the path of one, that signs tokens with -jwt-alg (else a key is
// generated and the log says so); GATEHOUSE_KEYRING holds the keyring that
// seals TOTP secrets ("id:base64key,...", else one is generated);
// GATEHOUSE_ID_TOKEN_KEY holds the PEM private key, or the path of one,
// that signs the OAuth server's ID tokens (else a P-256 key is generated).
// Instances that share a store need the same three keys.
//
// Storage: by default everything lives in memory and is lost on exit.
// -db FILE keeps users, API keys, sessions, refresh tokens, lockout
// counters, MFA state, JWT revocations and OAuth clients and grants in a
// SQLite file that survives restarts. -postgres URL and -redis URL (either
// or both) put the records on shared engines so that several instances
// serve the same users: PostgreSQL keeps users, API keys, sessions, refresh
// tokens, MFA state and OAuth clients and grants (and rate limits when
// -redis is not given); Redis keeps rate limits, lockout counters and JWT
// revocations (and sessions and refresh tokens when -postgres is not
// given). Schemas are migrated at start. A confidential demo client found
// in a durable store keeps its secret.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gatehouse-auth/gatehouse/basic"
)

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, logger); err != nil {
		logger.Error("steelplant stopped", "error", err)
		os.Exit(1)
	}
}

// config holds the command-line settings.
type config struct {
	addr           string
	issuer         string
	rateLimit      int      // requests per minute per client IP on /api/v1/
	authRateLimit  int      // requests per minute per client IP on sensitive auth routes
	trustedProxies []string // CIDRs whose X-Forwarded-For is believed

	lockoutFailures int
	lockoutWindow   time.Duration
	lockoutDuration time.Duration

	accessTTL      time.Duration
	refreshTTL     time.Duration
	jwtAlg         string
	mfaGrace       time.Duration
	mfaMaxAge      time.Duration
	insecureCookie bool

	postgresURL string // -postgres
	redisURL    string // -redis
	dbFile      string // -db

	oidcIssuer       string
	oidcClientID     string
	oidcClientSecret string

	// Set by tests only.
	demoPassword     string
	printTo          func(format string, args ...any)
	now              func() time.Time
	insecureFastHash bool
	deliverReset     func(basic.ResetTicket)
	redisPrefix      string // Redis key prefix; empty means the store's default
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("steelplant", flag.ContinueOnError)
	fs.StringVar(&cfg.addr, "addr", "localhost:8000", "address to listen on")
	fs.StringVar(&cfg.issuer, "issuer", "", `token issuer URL (default "http://" + addr)`)
	fs.IntVar(&cfg.rateLimit, "rate-limit", 300, "requests per minute per client IP on /api/v1/")
	fs.IntVar(&cfg.authRateLimit, "auth-rate-limit", 30, "requests per minute per client IP on login, refresh, MFA and password routes")
	fs.Func("trusted-proxy", "CIDR of a reverse proxy whose X-Forwarded-For is trusted (repeatable)", func(s string) error {
		cfg.trustedProxies = append(cfg.trustedProxies, s)
		return nil
	})
	fs.IntVar(&cfg.lockoutFailures, "lockout-failures", 5, "failed logins within -lockout-window that lock an account")
	fs.DurationVar(&cfg.lockoutWindow, "lockout-window", 15*time.Minute, "window in which failed logins are counted")
	fs.DurationVar(&cfg.lockoutDuration, "lockout-duration", 15*time.Minute, "how long a locked account stays locked")
	fs.DurationVar(&cfg.accessTTL, "access-ttl", 15*time.Minute, "lifetime of access tokens")
	fs.DurationVar(&cfg.refreshTTL, "refresh-ttl", 24*time.Hour, "lifetime of refresh tokens")
	fs.StringVar(&cfg.jwtAlg, "jwt-alg", "EdDSA", "signing algorithm: EdDSA, ES256, RS256, PS256, HS256")
	fs.DurationVar(&cfg.mfaGrace, "mfa-grace", 7*24*time.Hour, "how long after account creation a supervisor or admin may log in without MFA")
	fs.DurationVar(&cfg.mfaMaxAge, "mfa-max-age", 15*time.Minute, "how recent a second factor must be to deploy a model")
	fs.StringVar(&cfg.dbFile, "db", "", "SQLite file keeping users, API keys, sessions, refresh tokens, lockout counters, MFA state, revocations and OAuth grants across restarts (created if missing; default: memory)")
	fs.StringVar(&cfg.postgresURL, "postgres", "", "PostgreSQL URL (postgres://user:pass@host/db) for users, API keys, sessions, refresh tokens, MFA, OAuth clients and grants (and rate limits without -redis), shared by every instance")
	fs.StringVar(&cfg.redisURL, "redis", "", "Redis URL (redis://host:6379/0) for rate limits, lockout counters and JWT revocations (and sessions without -postgres), shared by every instance")
	fs.StringVar(&cfg.oidcIssuer, "oidc-issuer", "", "OpenID Connect issuer URL of the plant's IdP: enables /api/v1/auth/oidc/login")
	fs.StringVar(&cfg.oidcClientID, "oidc-client-id", "", "client ID registered at the IdP")
	fs.StringVar(&cfg.oidcClientSecret, "oidc-client-secret", "", "client secret registered at the IdP (or GATEHOUSE_OIDC_CLIENT_SECRET)")
	fs.BoolVar(&cfg.insecureCookie, "insecure-cookie", false, "send session cookies without Secure (plain HTTP on a host other than localhost; development only)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: steelplant [flags]\n\nThe Gatehouse reference server: a steel-plant defect-prediction API.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if cfg.issuer == "" {
		cfg.issuer = "http://" + cfg.addr
	}
	if cfg.oidcClientSecret == "" {
		cfg.oidcClientSecret = os.Getenv("GATEHOUSE_OIDC_CLIENT_SECRET")
	}
	if cfg.oidcIssuer != "" && cfg.oidcClientID == "" {
		return cfg, errors.New("-oidc-issuer needs -oidc-client-id")
	}
	if cfg.dbFile != "" && cfg.postgresURL != "" {
		return cfg, errors.New("-db and -postgres are exclusive: choose one store for users")
	}
	if cfg.rateLimit < 1 || cfg.authRateLimit < 1 || cfg.lockoutFailures < 1 {
		return cfg, errors.New("rate limits and -lockout-failures must be positive")
	}
	return cfg, nil
}

func run(ctx context.Context, cfg config, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	app, err := newApp(ctx, cfg, logger)
	if err != nil {
		ln.Close()
		return err
	}
	defer app.Close()
	srv := &http.Server{
		Handler:           app.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
	}
	logger.Info("steelplant listening", "addr", "http://"+ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
