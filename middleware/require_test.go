package middleware_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/middleware"
	"github.com/gatehouse-auth/gatehouse/rbac"
)

// The rbac types are what the middleware is built for.
var (
	_ middleware.PermissionChecker   = (*rbac.Policy)(nil)
	_ middleware.PermissionChecker   = (*rbac.Holder)(nil)
	_ middleware.PermissionValidator = (*rbac.Policy)(nil)
	_ middleware.PermissionValidator = (*rbac.Holder)(nil)
)

// authzEvents records the events an Authorizer emits.
type authzEvents struct {
	mu     sync.Mutex // guards events
	events []auth.Event
}

func (c *authzEvents) Emit(e auth.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, e)
}

func (c *authzEvents) take() []auth.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.events
	c.events = nil
	return out
}

// authzLogs records log records at or above Debug.
type authzLogs struct {
	mu      sync.Mutex // guards records
	records []slog.Record
}

func (h *authzLogs) Enabled(context.Context, slog.Level) bool { return true }
func (h *authzLogs) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r)
	return nil
}
func (h *authzLogs) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *authzLogs) WithGroup(string) slog.Handler      { return h }

func (h *authzLogs) errors() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.records {
		if r.Level >= slog.LevelError {
			n++
		}
	}
	return n
}

// authzPolicy is the reference server's policy plus a wildcard role.
func authzPolicy(t testing.TB) *rbac.Policy {
	t.Helper()
	p, err := rbac.New(rbac.Config{Roles: []rbac.Role{
		{Name: "operator", Permissions: []string{"dashboard:read", "predictions:read", "alerts:read", "alerts:acknowledge"}},
		{Name: "supervisor", Inherits: []string{"operator"}, Permissions: []string{"reports:read", "analytics:read", "users:read", "alerts:manage"}},
		{Name: "engineer", Inherits: []string{"supervisor"}, Permissions: []string{"models:read", "models:deploy", "system:configure", "predictions:write"}},
		{Name: "admin", Inherits: []string{"engineer"}, Permissions: []string{"users:write", "users:delete", "system:admin", "api_keys:manage"}},
		{Name: "forecaster", Permissions: []string{"predictions:*"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var authzNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// serveAuthz runs one request through mw with principal p (none when nil)
// and reports the response and whether the protected handler ran.
func serveAuthz(mw func(http.Handler) http.Handler, p *auth.Principal) (*httptest.ResponseRecorder, bool) {
	reached := false
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = true
		w.WriteHeader(http.StatusNoContent)
	}))
	r := httptest.NewRequest("POST", "/api/v1/predictions", nil)
	ctx := auth.WithRequestMeta(r.Context(), auth.RequestMeta{RequestID: "req-7", ClientIP: "192.0.2.9"})
	if p != nil {
		ctx = auth.NewContext(ctx, p)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r.WithContext(ctx))
	return w, reached
}

func TestAuthorizerDecisions(t *testing.T) {
	events := &authzEvents{}
	authz := middleware.NewAuthorizer(authzPolicy(t), middleware.AuthorizerConfig{
		Events: events,
		Now:    func() time.Time { return authzNow },
	})
	user := func(roles ...string) *auth.Principal {
		return &auth.Principal{Subject: "u-1", Username: "jo", Roles: roles, Method: auth.MethodJWT}
	}
	key := func(scopes []string, roles ...string) *auth.Principal {
		return &auth.Principal{Subject: "u-1", Roles: roles, Scopes: scopes, Method: auth.MethodAPIKey}
	}
	tests := []struct {
		name   string
		mw     func(http.Handler) http.Handler
		p      *auth.Principal
		status int
		reason string
		attr   string // the event's attribute, "kind=value"
	}{
		{"operator reads predictions", authz.RequirePermission("predictions:read"), user("operator"), 204, "", ""},
		{"operator writes predictions", authz.RequirePermission("predictions:write"), user("operator"), 403, "missing_permission", "permission=predictions:write"},
		{"admin writes predictions by inheritance", authz.RequirePermission("predictions:write"), user("admin"), 204, "", ""},
		{"no principal", authz.RequirePermission("predictions:read"), nil, 401, "no_principal", "permission=predictions:read"},
		{"unknown role", authz.RequirePermission("predictions:read"), user("root"), 403, "missing_permission", "permission=predictions:read"},
		{"role in another case", authz.RequirePermission("predictions:read"), user("Operator"), 403, "missing_permission", "permission=predictions:read"},
		{"wildcard role", authz.RequirePermission("predictions:write"), user("forecaster"), 204, "", ""},
		{"wildcard does not reach a longer resource", authz.RequirePermission("predictions_archive:read"), user("forecaster"), 403, "missing_permission", "permission=predictions_archive:read"},
		{"admin key scoped to reading", authz.RequirePermission("users:delete"), key([]string{"predictions:read"}, "admin"), 403, "missing_permission", "permission=users:delete"},
		{"admin key with empty scopes", authz.RequirePermission("predictions:read"), key([]string{}, "admin"), 403, "missing_permission", "permission=predictions:read"},
		{"scope beyond the role adds nothing", authz.RequirePermission("users:delete"), key([]string{"*"}, "operator"), 403, "missing_permission", "permission=users:delete"},
		{"all held", authz.RequireAll("alerts:read", "alerts:manage"), user("supervisor"), 204, "", ""},
		{"all: second missing is named", authz.RequireAll("alerts:read", "alerts:manage", "models:deploy"), user("operator"), 403, "missing_permission", "permission=alerts:manage"},
		{"any: one held", authz.RequireAny("models:deploy", "alerts:read"), user("operator"), 204, "", ""},
		{"any: none held", authz.RequireAny("models:deploy", "users:delete"), user("operator"), 403, "missing_permission", "permission=models:deploy users:delete"},
		{"role held directly", authz.RequireRole("engineer"), user("engineer"), 204, "", ""},
		{"role held by inheritance", authz.RequireRole("operator"), user("admin"), 204, "", ""},
		{"role above the principal's", authz.RequireRole("admin"), user("engineer"), 403, "missing_role", "role=admin"},
		{"role of a narrowed key", authz.RequireRole("admin"), key([]string{"predictions:read"}, "admin"), 403, "missing_role", "role=admin"},
		{"role without principal", authz.RequireRole("operator"), nil, 401, "no_principal", "role=operator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, reached := serveAuthz(tt.mw, tt.p)
			if w.Code != tt.status || reached != (tt.status == 204) {
				t.Fatalf("status %d, handler reached %v; want %d", w.Code, reached, tt.status)
			}
			evs := events.take()
			if tt.status == 204 {
				if len(evs) != 0 {
					t.Errorf("allowed request emitted %v", evs)
				}
				return
			}
			var body map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			wantCode := "insufficient_permissions"
			if tt.status == 401 {
				wantCode = "invalid_credentials"
				if got := w.Header().Get("WWW-Authenticate"); got != `Bearer realm="gatehouse"` {
					t.Errorf("WWW-Authenticate = %q", got)
				}
			}
			if body["error"] != wantCode {
				t.Errorf("error = %q, want %q", body["error"], wantCode)
			}
			kind, value, _ := strings.Cut(tt.attr, "=")
			for _, s := range strings.Fields(value) {
				if strings.Contains(w.Body.String(), s) {
					t.Errorf("the response names %q: %s", s, w.Body.String())
				}
			}
			if len(evs) != 1 {
				t.Fatalf("events = %v, want one", evs)
			}
			e := evs[0]
			if e.Type != auth.EventPermissionDenied || e.Reason != tt.reason || e.Attrs[kind] != value || len(e.Attrs) != 1 {
				t.Errorf("event %s reason %q attrs %v; want reason %q %s", e.Type, e.Reason, e.Attrs, tt.reason, tt.attr)
			}
			if !e.Time.Equal(authzNow) || e.RequestID != "req-7" || e.ClientIP != "192.0.2.9" {
				t.Errorf("event time %v, request %q, IP %q", e.Time, e.RequestID, e.ClientIP)
			}
			if tt.p != nil && (e.Subject != tt.p.Subject || e.Method != tt.p.Method || e.Username != tt.p.Username) {
				t.Errorf("event subject %q method %q username %q", e.Subject, e.Method, e.Username)
			}
		})
	}
}

func TestAuthorizerInvalidRequirementsFailClosed(t *testing.T) {
	var nilPolicy *rbac.Policy
	tests := []struct {
		name    string
		checker middleware.PermissionChecker
		build   func(a *middleware.Authorizer) func(http.Handler) http.Handler
	}{
		{"empty permission", authzPolicy(t), func(a *middleware.Authorizer) func(http.Handler) http.Handler { return a.RequirePermission("") }},
		{"wildcard resource", authzPolicy(t), func(a *middleware.Authorizer) func(http.Handler) http.Handler { return a.RequirePermission("*:read") }},
		{"dash instead of colon", authzPolicy(t), func(a *middleware.Authorizer) func(http.Handler) http.Handler {
			return a.RequirePermission("predictions-write")
		}},
		{"one bad among good", authzPolicy(t), func(a *middleware.Authorizer) func(http.Handler) http.Handler {
			return a.RequireAny("predictions:read", "predictions:read ")
		}},
		{"RequireAll with nothing", authzPolicy(t), func(a *middleware.Authorizer) func(http.Handler) http.Handler { return a.RequireAll() }},
		{"RequireAny with nothing", authzPolicy(t), func(a *middleware.Authorizer) func(http.Handler) http.Handler { return a.RequireAny() }},
		{"empty role", authzPolicy(t), func(a *middleware.Authorizer) func(http.Handler) http.Handler { return a.RequireRole("") }},
		{"nil checker", nil, func(a *middleware.Authorizer) func(http.Handler) http.Handler {
			return a.RequirePermission("predictions:read")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, logs := &authzEvents{}, &authzLogs{}
			a := middleware.NewAuthorizer(tt.checker, middleware.AuthorizerConfig{Events: events, Logger: slog.New(logs)})
			mw := tt.build(a)
			if logs.errors() != 1 {
				t.Errorf("building logged %d errors, want 1", logs.errors())
			}
			// Even a principal holding everything is refused.
			root := &auth.Principal{Subject: "root", Roles: []string{"admin", "forecaster", "operator"}}
			w, reached := serveAuthz(mw, root)
			if w.Code != http.StatusForbidden || reached {
				t.Fatalf("status %d, reached %v; want 403", w.Code, reached)
			}
			if evs := events.take(); len(evs) != 1 || evs[0].Reason != "invalid_requirement" {
				t.Errorf("events = %+v", evs)
			}
		})
	}
	// A typed nil policy is a checker that grants nothing: it fails closed too.
	a := middleware.NewAuthorizer(nilPolicy, middleware.AuthorizerConfig{})
	if w, reached := serveAuthz(a.RequirePermission("predictions:read"), &auth.Principal{Roles: []string{"admin"}}); w.Code != 403 || reached {
		t.Errorf("nil *rbac.Policy: status %d, reached %v", w.Code, reached)
	}
}

// authzAllowAll is a checker without validation, to show that requirements
// are then only checked for emptiness.
type authzAllowAll struct{}

func (authzAllowAll) Has(p *auth.Principal, perm string) bool     { return p != nil }
func (authzAllowAll) HasRole(p *auth.Principal, role string) bool { return p != nil }

func TestAuthorizerWithHostChecker(t *testing.T) {
	logs := &authzLogs{}
	a := middleware.NewAuthorizer(authzAllowAll{}, middleware.AuthorizerConfig{Logger: slog.New(logs)})
	if w, reached := serveAuthz(a.RequirePermission("any string the host understands"), &auth.Principal{}); w.Code != 204 || !reached {
		t.Errorf("status %d, reached %v", w.Code, reached)
	}
	if w, _ := serveAuthz(a.RequirePermission(""), &auth.Principal{}); w.Code != 403 {
		t.Errorf("empty permission: status %d", w.Code)
	}
	if w, _ := serveAuthz(a.RequireRole("x"), nil); w.Code != 401 {
		t.Errorf("no principal: status %d", w.Code)
	}
	if logs.errors() != 1 {
		t.Errorf("logged %d errors, want 1", logs.errors())
	}
}

func TestAuthorizerErrorHandler(t *testing.T) {
	var got []error
	a := middleware.NewAuthorizer(authzPolicy(t), middleware.AuthorizerConfig{
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			got = append(got, err)
			w.WriteHeader(http.StatusTeapot)
		},
	})
	mw := a.RequirePermission("models:deploy")
	if w, reached := serveAuthz(mw, &auth.Principal{Roles: []string{"operator"}}); w.Code != http.StatusTeapot || reached {
		t.Fatalf("status %d, reached %v", w.Code, reached)
	}
	if w, _ := serveAuthz(mw, nil); w.Code != http.StatusTeapot {
		t.Fatalf("status %d", w.Code)
	}
	if len(got) != 2 || !errors.Is(got[0], auth.ErrInsufficientPermissions) || !errors.Is(got[1], auth.ErrNoCredentials) {
		t.Fatalf("errors = %v", got)
	}
	// The internal cause names the permission for logs.
	if !strings.Contains(got[0].Error(), "models:deploy") {
		t.Errorf("cause %q does not name the permission", got[0])
	}
}

func TestAuthorizerKeepsItsOwnCopyOfPermissions(t *testing.T) {
	a := middleware.NewAuthorizer(authzPolicy(t), middleware.AuthorizerConfig{})
	perms := []string{"models:deploy"}
	mw := a.RequireAll(perms...)
	perms[0] = "dashboard:read"
	if w, _ := serveAuthz(mw, &auth.Principal{Roles: []string{"operator"}}); w.Code != 403 {
		t.Errorf("changing the caller's slice changed the requirement: status %d", w.Code)
	}
}

func TestAuthorizerFollowsHotReload(t *testing.T) {
	v1, err := rbac.New(rbac.Config{Roles: []rbac.Role{{Name: "operator", Permissions: []string{"alerts:read"}}}})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := rbac.ParseJSON([]byte(`{"operator": {"permissions": ["alerts:read", "alerts:acknowledge"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	holder := rbac.NewHolder(v1)
	mw := middleware.NewAuthorizer(holder, middleware.AuthorizerConfig{}).RequirePermission("alerts:acknowledge")
	op := &auth.Principal{Roles: []string{"operator"}}
	if w, _ := serveAuthz(mw, op); w.Code != 403 {
		t.Fatalf("before reload: %d", w.Code)
	}
	holder.Store(v2)
	if w, _ := serveAuthz(mw, op); w.Code != 204 {
		t.Fatalf("after reload: %d", w.Code)
	}
}

// authzDiscard is a ResponseWriter that keeps nothing.
type authzDiscard struct{ h http.Header }

func (d *authzDiscard) Header() http.Header         { return d.h }
func (d *authzDiscard) Write(b []byte) (int, error) { return len(b), nil }
func (d *authzDiscard) WriteHeader(int)             {}

func TestAuthorizerAllowedPathDoesNotAllocate(t *testing.T) {
	a := middleware.NewAuthorizer(authzPolicy(t), middleware.AuthorizerConfig{Events: &authzEvents{}})
	reached := 0
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached++ })
	handlers := []http.Handler{
		a.RequirePermission("predictions:read")(next),
		a.RequireAll("predictions:read", "alerts:read")(next),
		a.RequireAny("models:deploy", "predictions:read")(next),
		a.RequireRole("operator")(next),
	}
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(auth.NewContext(r.Context(), &auth.Principal{Roles: []string{"admin"}}))
	w := &authzDiscard{h: http.Header{}}
	for i, h := range handlers {
		before := reached
		if allocs := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, r) }); allocs != 0 {
			t.Errorf("handler %d allocates %v times when allowing", i, allocs)
		}
		if reached == before {
			t.Errorf("handler %d never reached next", i)
		}
	}
}
