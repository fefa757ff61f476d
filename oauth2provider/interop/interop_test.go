package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/oauth2provider"
)

const (
	clientID     = "gatehouse-interop"
	clientSecret = "interop-secret-2f8c1d0e9b7a6c5d4e3f"
)

// requireTool returns the path of a tool, skipping the test when it is
// missing, or failing it when the environment variable CI is set.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI: %v", name, err)
		}
		t.Skipf("%s not found; skipping the interop test", name)
	}
	return p
}

// installIdP runs npm ci in idp/ when its node_modules is missing.
func installIdP(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider", "package.json")); err == nil {
		return
	}
	npm := requireTool(t, "npm")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
}

// startIdP runs idp/server.mjs and returns its issuer URL. The process ends
// when the test does (its stdin closes, and it is killed).
func startIdP(t *testing.T, redirectURI string) string {
	t.Helper()
	node := requireTool(t, "node")
	dir, err := filepath.Abs("idp")
	if err != nil {
		t.Fatal(err)
	}
	installIdP(t, dir)

	cmd := exec.Command(node, "server.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CLIENT_ID="+clientID, "CLIENT_SECRET="+clientSecret, "REDIRECT_URI="+redirectURI)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("oidc-provider stderr:\n%s", stderr.String())
		}
	})

	ready := make(chan string, 1)
	go func() {
		var line struct {
			Issuer string `json:"issuer"`
		}
		s := bufio.NewScanner(stdout)
		if s.Scan() && json.Unmarshal(s.Bytes(), &line) == nil {
			ready <- line.Issuer
		}
		close(ready)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	select {
	case issuer, ok := <-ready:
		if !ok || issuer == "" {
			t.Fatalf("oidc-provider did not start:\n%s", stderr.String())
		}
		return issuer
	case <-timeout.C:
		t.Fatalf("oidc-provider not ready after 30s:\n%s", stderr.String())
	}
	return ""
}

type lockedBuffer struct {
	mu sync.Mutex // guards b
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestInteropOIDCProvider logs in end to end through oidc-provider: the
// browser (an http.Client with a cookie jar) follows the redirects from the
// login handler to the provider, through its automatic login and consent,
// and back to the callback; the user's groups, released by the provider's
// userinfo endpoint, must map to the expected roles. A replay of that
// callback must then be refused.
func TestInteropOIDCProvider(t *testing.T) {
	if testing.Short() {
		t.Skip("interop test skipped with -short")
	}
	mux := http.NewServeMux()
	app := httptest.NewServer(mux)
	t.Cleanup(app.Close)
	redirectURI := app.URL + "/auth/callback"
	issuer := startIdP(t, redirectURI)

	var (
		mu         sync.Mutex // guards identities, events, errs, callbacks
		identities []oauth2provider.Identity
		events     []auth.Event
		errs       []error
		callbacks  []*http.Request
	)
	cfg := oauth2provider.OIDC("oidc-provider", issuer)
	cfg.ClientID, cfg.ClientSecret, cfg.RedirectURL = clientID, clientSecret, redirectURI
	cfg.Scopes = []string{"openid", "email", "profile", "groups"}
	cfg.GroupsFromUserInfo = true // a conformant provider releases scope claims at userinfo in a code flow
	cfg.GroupRoleMapping = map[string]string{"Engineering": "engineer", "Operations": "operator", "Management": "admin"}
	cfg.InsecureCookie = true // the callback is plain HTTP on loopback
	cfg.CookieKey = []byte("interop-cookie-key-of-32-bytes-or-more")
	cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	cfg.Events = auth.EmitterFunc(func(e auth.Event) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	})
	cfg.Accounts = oauth2provider.AccountsFunc(func(_ context.Context, id oauth2provider.Identity) (*auth.Principal, error) {
		mu.Lock()
		defer mu.Unlock()
		identities = append(identities, id)
		return &auth.Principal{Subject: "local-" + id.Subject, Username: id.Username, Email: id.Email, Roles: id.Roles}, nil
	})
	cfg.OnLogin = func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		w.Header().Set("Content-Type", "application/json")
		return json.NewEncoder(w).Encode(map[string]any{"subject": p.Subject, "roles": p.Roles, "method": p.Method})
	}
	cfg.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
		http.Error(w, "login failed", auth.AsError(err).Status())
	}
	p, err := oauth2provider.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Discover(t.Context()); err != nil {
		t.Fatalf("discovery from oidc-provider: %v", err)
	}
	callback := p.CallbackHandler()
	mux.Handle("/auth/login", p.LoginHandler())
	mux.Handle("/auth/callback", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		callbacks = append(callbacks, r.Clone(context.Background()))
		mu.Unlock()
		callback.ServeHTTP(w, r)
	}))

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	var hops []string
	browser := &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			hops = append(hops, req.URL.Path)
			if len(via) > 20 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}
	resp, err := browser.Get(app.URL + "/auth/login")
	if err != nil {
		t.Fatalf("login: %v (hops %v)", err, hops)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	mu.Lock()
	lastErr := errors.Join(errs...)
	mu.Unlock()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login ended with %d %s at %s (hops %v): %v", resp.StatusCode, body, resp.Request.URL, hops, lastErr)
	}
	var got struct {
		Subject string   `json:"subject"`
		Roles   []string `json:"roles"`
		Method  string   `json:"method"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("callback body %q: %v", body, err)
	}
	if got.Subject != "local-ada-0001" || got.Method != "oauth2" || !slices.Equal(got.Roles, []string{"engineer", "operator"}) {
		t.Fatalf("principal %+v, want local-ada-0001 with roles [engineer operator] by oauth2", got)
	}

	mu.Lock()
	id := identities[0]
	evs := slices.Clone(events)
	cbs := slices.Clone(callbacks)
	mu.Unlock()
	if id.Issuer != issuer || id.Subject != "ada-0001" || id.Email != "ada@plant.example" || !id.EmailVerified ||
		id.Username != "ada" || !slices.Equal(id.Groups, []string{"Engineering", "Operations", "Visitors"}) {
		t.Errorf("identity %+v", id)
	}
	if len(evs) != 1 || evs[0].Type != auth.EventLoginSucceeded || evs[0].Attrs["idp"] != "oidc-provider" {
		t.Errorf("events %+v", evs)
	}
	if len(cbs) != 1 {
		t.Fatalf("%d callbacks, want 1", len(cbs))
	}
	if iss := cbs[0].URL.Query().Get("iss"); iss != issuer {
		// oidc-provider sends RFC 9207's iss, which the callback checks.
		t.Errorf("callback iss %q, want %s", iss, issuer)
	}

	// Replay the callback with the flow cookie the browser sent.
	replay, err := http.NewRequestWithContext(t.Context(), http.MethodGet, app.URL+cbs[0].URL.RequestURI(), nil)
	if err != nil {
		t.Fatal(err)
	}
	replay.Header.Set("Cookie", cbs[0].Header.Get("Cookie"))
	resp, err = http.DefaultClient.Do(replay)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	lastErr = errors.Join(errs...)
	mu.Unlock()
	if resp.StatusCode != http.StatusBadRequest || !errors.Is(lastErr, oauth2provider.ErrReplayed) {
		t.Fatalf("replayed callback: %d, %v; want 400 ErrReplayed", resp.StatusCode, lastErr)
	}
}
