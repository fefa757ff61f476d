package authtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/apikey"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/authapi"
	"github.com/gatehouse-auth/gatehouse/basic"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/gatehouse-auth/gatehouse/mfa"
	"github.com/gatehouse-auth/gatehouse/middleware"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
	"github.com/gatehouse-auth/gatehouse/rbac"
	"github.com/gatehouse-auth/gatehouse/session"
)

// AuthPath is where a Stack mounts the JSON auth API.
const AuthPath = "/api/v1/auth"

// SessionCookie is the name of the session cookie of a Stack (plain, without
// the "__Host-" prefix, since the test server speaks HTTP).
const SessionCookie = "gh_session"

// generous is the rate limit of the stack's limiters: high enough that no
// test is throttled by accident, but still a real limiter, so responses
// carry the X-RateLimit-* headers.
const generous = 1_000_000

// Stack is a complete Gatehouse deployment held in memory and served by an
// httptest.Server: users, JWTs, API keys, sessions, MFA, the RBAC policy, the
// JSON auth API at AuthURL, and the host's routes registered with Handle
// behind the authentication chain. Build it with NewStack; the test's
// cleanup closes it.
//
// The component fields are the live components: a test may call them
// directly (s.Users.Disable, s.Tokens.RevokeAll, s.APIKeys.Flush, ...).
// They, and the Stack's methods, are safe for concurrent use. Do not
// reassign the fields.
type Stack struct {
	// URL is the root of the test server, "http://<loopback address>:<port>".
	URL string
	// AuthURL is URL + AuthPath, the base URL of the auth API (and of
	// authclient).
	AuthURL string
	// Server is the test server.
	Server *httptest.Server
	// Clock is the clock of every component.
	Clock *Clock

	// The components, built as NewStack describes, each wired to the
	// others as in a production server.
	Users    *basic.Users
	Tokens   *jwtprovider.Provider
	APIKeys  *apikey.Manager
	Sessions *session.Manager
	MFA      *mfa.Manager
	Policy   *rbac.Policy
	API      *authapi.API

	// Authorizer checks permissions and roles against Policy; wrap host
	// handlers in its RequirePermission and friends. It emits
	// permission_denied events to the stack's recorder.
	Authorizer *middleware.Authorizer
	// Authenticators is the chain, in order: API keys, JWTs, the session
	// cookie. Build further middleware from it with
	// middleware.Authenticate(s.Authenticators, ...).
	Authenticators []auth.Authenticator

	rec    recorder
	logger *slog.Logger
	host   *http.ServeMux // the routes registered with Handle
}

// NewStack builds a Stack, starts its server, and registers t.Cleanup to
// close it. It fails the test (t.Fatal) if anything cannot be built.
//
// Defaults: the roles of DefaultPolicy; Argon2id passwords at an insecurely
// low cost (fast, and unfit for anything but tests); an ES256 key generated
// for the stack; 15-minute access and 24-hour refresh tokens; sessions in a
// plain (non-Secure) cookie named SessionCookie; TOTP secrets sealed with a
// generated keyring; a rate limit of a million requests a minute on every
// route; the password policy, lockout and every other security default of
// the production components, unchanged (so a failed login delays the next
// attempt for that username, answered rate_limited, until the clock is
// advanced by the delay: 1 second after the first failure). The clock starts at the real time,
// truncated to the second, and moves only with Clock.Advance or Clock.Set.
// Internal errors are written to t's output.
func NewStack(t testing.TB, opts ...Option) *Stack {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	s, err := build(t, o)
	if err != nil {
		t.Fatalf("authtest: %v", err)
	}
	return s
}

func build(t testing.TB, o options) (_ *Stack, err error) {
	s := &Stack{Clock: o.clock, Policy: o.policy, host: http.NewServeMux()}
	if s.Clock == nil {
		s.Clock = NewClock(realNow())
	}
	if s.Policy == nil {
		if s.Policy, err = rbac.ParseJSON(rolesJSON); err != nil {
			return nil, fmt.Errorf("default policy: %w", err)
		}
	}
	s.rec.forward = o.events
	s.logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	now := s.Clock.Now

	// The server is created first, unstarted, so that its address is the
	// token issuer; it starts once the handler is complete.
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(func() { s.close(t) })
	s.Server, s.URL = srv, "http://"+srv.Listener.Addr().String()
	s.AuthURL = s.URL + AuthPath

	cfg, err := s.configs(o)
	if err != nil {
		return nil, err
	}
	for _, f := range o.configure {
		f(cfg)
	}

	// Components, in dependency order.
	if s.Tokens, err = jwtprovider.New(cfg.Tokens); err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	if s.Sessions, err = session.New(cfg.Sessions); err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	if cfg.Users.Hasher == nil {
		h, err := basic.NewHasher(cfg.Hasher)
		if err != nil {
			return nil, fmt.Errorf("password hasher: %w", err)
		}
		cfg.Users.Hasher = h
	}
	if s.Users, err = basic.New(cfg.Users); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	if s.APIKeys, err = apikey.New(cfg.APIKeys); err != nil {
		return nil, fmt.Errorf("api keys: %w", err)
	}
	keyAuth, err := apikey.NewAuthenticator(s.APIKeys, apikey.AuthenticatorConfig{})
	if err != nil {
		return nil, fmt.Errorf("api key authenticator: %w", err)
	}
	if s.MFA, err = mfa.New(cfg.MFA); err != nil {
		return nil, fmt.Errorf("mfa: %w", err)
	}
	// API keys first: they claim only bearer values with their prefix, and
	// the JWT provider takes any other bearer value.
	s.Authenticators = []auth.Authenticator{keyAuth, s.Tokens, s.Sessions}

	api := &cfg.API
	if api.Users == nil {
		api.Users = s.Users
	}
	if api.Tokens == nil {
		api.Tokens = s.Tokens
	}
	if api.Policy == nil {
		api.Policy = s.Policy
	}
	if api.Authenticators == nil {
		api.Authenticators = s.Authenticators
	}
	if api.APIKeys == nil {
		api.APIKeys = s.APIKeys
	}
	if api.Sessions == nil {
		api.Sessions = s.Sessions
	}
	if api.MFA == nil {
		api.MFA = s.MFA
	}
	if s.API, err = authapi.New(*api); err != nil {
		return nil, fmt.Errorf("auth api: %w", err)
	}
	s.Authorizer = middleware.NewAuthorizer(s.Policy, middleware.AuthorizerConfig{Events: &s.rec, Logger: s.logger, Now: now})

	general, err := ratelimit.NewMemoryLimiter(ratelimit.MemoryConfig{Limit: generous, Period: time.Minute, Now: now})
	if err != nil {
		return nil, fmt.Errorf("rate limiter: %w", err)
	}
	limited := ratelimit.Middleware(general, ratelimit.ByClientIP, ratelimit.WithEvents(&s.rec), ratelimit.WithClock(now))
	chain := middleware.Authenticate(s.Authenticators, middleware.WithLogger(s.logger))

	root := http.NewServeMux()
	root.Handle(AuthPath+"/", limited(http.StripPrefix(AuthPath, s.API)))
	root.Handle("/", limited(s.Sessions.LoadAndSave(chain(s.host))))
	srv.Config.Handler = middleware.RequestID(middleware.SecurityHeaders(middleware.SecurityHeadersConfig{})(root))
	srv.Start()
	return s, nil
}

// close stops the server, waiting for the requests in flight, then the
// components' background work.
func (s *Stack) close(t testing.TB) {
	s.Server.Close()
	if s.APIKeys != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.APIKeys.Close(ctx); err != nil {
			t.Logf("authtest: closing the API key manager: %v", err)
		}
	}
	if s.Sessions != nil {
		_ = s.Sessions.Close()
	}
}

// configs fills the components' configurations. The wiring between
// components goes through closures over s, read when they are called,
// so that WithConfig hooks see complete configurations before anything is
// built.
func (s *Stack) configs(o options) (*Config, error) {
	now := s.Clock.Now
	kid := "authtest-1"
	key, err := jwtprovider.GenerateKey(kid, jwtprovider.ES256)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	secret, err := auth.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("keyring key: %w", err)
	}
	keyring, err := auth.NewKeyring("authtest", secret)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	authLimiter := o.apiLimiter
	if authLimiter == nil {
		if authLimiter, err = ratelimit.NewMemoryLimiter(ratelimit.MemoryConfig{Limit: generous, Period: time.Minute, Now: now}); err != nil {
			return nil, fmt.Errorf("auth rate limiter: %w", err)
		}
	}
	policy := s.Policy
	return &Config{
		Hasher: basic.HasherConfig{
			Argon2id:        basic.Argon2idParams{Memory: 64, Iterations: 1},
			InsecureLowCost: true,
		},
		Users: basic.Config{
			Roles: func(r string) bool { _, ok := policy.Role(r); return ok },
			OnCredentialsChanged: func(ctx context.Context, userID string) error {
				return authapi.RevokeUser(s.Tokens, s.Sessions)(ctx, userID)
			},
			Events: &s.rec, Now: now,
		},
		Tokens: jwtprovider.Config{
			Issuer:   s.URL,
			Audience: []string{s.URL + "/api/v1"},
			Keys:     []jwtprovider.Key{key},
			ReloadSubject: func(ctx context.Context, sub jwtprovider.Subject) (jwtprovider.Subject, error) {
				return authapi.ReloadSubject(s.Users)(ctx, sub)
			},
			Events: &s.rec, Now: now,
		},
		APIKeys: apikey.Config{
			Owners: ownerLookup{s},
			Policy: policy,
			Events: &s.rec, Now: now,
		},
		Sessions: session.Config{
			CookieName:     SessionCookie,
			InsecureCookie: true,
			Events:         &s.rec, Now: now,
		},
		MFA: mfa.Config{
			Keyring: keyring,
			Issuer:  "Gatehouse test",
			Policy:  mfa.Policy{RequiredForRoles: o.mfaRoles},
			Events:  &s.rec, Now: now,
		},
		API: authapi.Config{
			Limiter: authLimiter,
			Events:  &s.rec, Logger: s.logger, Now: now,
		},
	}, nil
}

// ownerLookup is the apikey.OwnerLookup of the stack: the key owner's
// current principal from the user store.
type ownerLookup struct{ s *Stack }

func (o ownerLookup) Owner(ctx context.Context, ownerID string) (*auth.Principal, error) {
	if o.s.Users == nil {
		return nil, errors.New("authtest: the user store is not built yet")
	}
	return authapi.KeyOwners(o.s.Users).Owner(ctx, ownerID)
}

// Handle registers a host route, with a net/http ServeMux pattern
// ("GET /api/v1/predictions"), behind the stack's middleware: request IDs,
// security headers, the generous rate limit, session loading and the
// authentication chain. A request without credentials is answered 401
// before h runs; h finds the principal with auth.FromContext. Authorization
// is the route's own: wrap h in s.Authorizer.RequirePermission(...).
//
// Paths under AuthPath belong to the auth API and never reach these routes.
// Handle may be called while the server runs; like http.ServeMux.Handle it
// panics on a pattern that conflicts with one already registered.
func (s *Stack) Handle(pattern string, h http.Handler) { s.host.Handle(pattern, h) }
