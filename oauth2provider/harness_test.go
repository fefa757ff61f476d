package oauth2provider_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/middleware"
	"github.com/gatehouse-auth/gatehouse/oauth2provider"
)

// recorder collects events, identities given to Accounts, principals given
// to OnLogin and errors given to the error handler.
type recorder struct {
	mu         sync.Mutex // guards every field
	events     []auth.Event
	identities []oauth2provider.Identity
	logins     []*auth.Principal
	errs       []error
}

func (r *recorder) Emit(e auth.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) Events() []auth.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func (r *recorder) Identities() []oauth2provider.Identity {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.identities)
}

func (r *recorder) Logins() []*auth.Principal {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.logins)
}

func (r *recorder) LastErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) == 0 {
		return nil
	}
	return r.errs[len(r.errs)-1]
}

// harness is a host application (login and callback on an httptest TLS
// server) wired to a fake IdP, and a browser (an http.Client with a cookie
// jar that does not follow redirects, so that tests can step through them).
type harness struct {
	t       *testing.T
	idp     *fakeIdP
	app     *httptest.Server
	p       *oauth2provider.Provider
	rec     *recorder
	clock   *testClock
	browser *http.Client
	cfg     oauth2provider.Config
}

// principalResponse is what the harness's OnLogin writes.
type principalResponse struct {
	Subject string   `json:"subject"`
	Roles   []string `json:"roles"`
	Method  string   `json:"method"`
}

// newHarness builds the host with an OpenID Connect config discovered from
// the fake IdP; mod may change the config before New.
func newHarness(t *testing.T, mod func(h *harness, c *oauth2provider.Config)) *harness {
	t.Helper()
	h := &harness{t: t, clock: newClock(), rec: &recorder{}}
	h.idp = newFakeIdP(t, h.clock)
	mux := http.NewServeMux()
	h.app = httptest.NewTLSServer(mux)
	t.Cleanup(h.app.Close)
	h.idp.redirectURI = h.app.URL + "/callback"

	cfg := oauth2provider.OIDC("corp-sso", h.idp.URL())
	cfg.ClientID, cfg.ClientSecret = h.idp.clientID, h.idp.clientSecret
	cfg.RedirectURL = h.idp.redirectURI
	cfg.GroupRoleMapping = map[string]string{"Engineering": "engineer", "Operations": "operator", "Management": "admin"}
	cfg.CookieKey = []byte("0123456789abcdef0123456789abcdef")
	cfg.HTTPClient = h.idp.srv.Client()
	cfg.Now = h.clock.Now
	cfg.Events = h.rec
	cfg.Accounts = oauth2provider.AccountsFunc(func(_ context.Context, id oauth2provider.Identity) (*auth.Principal, error) {
		h.rec.mu.Lock()
		defer h.rec.mu.Unlock()
		h.rec.identities = append(h.rec.identities, id)
		return &auth.Principal{Subject: "user-" + id.Subject, Username: id.Username, Email: id.Email, Roles: id.Roles}, nil
	})
	cfg.OnLogin = func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		h.rec.mu.Lock()
		h.rec.logins = append(h.rec.logins, p)
		h.rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		return json.NewEncoder(w).Encode(principalResponse{Subject: p.Subject, Roles: p.Roles, Method: string(p.Method)})
	}
	cfg.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		h.rec.mu.Lock()
		h.rec.errs = append(h.rec.errs, err)
		h.rec.mu.Unlock()
		middleware.WriteError(w, r, err)
	}
	if mod != nil {
		mod(h, &cfg)
	}
	h.cfg = cfg
	p, err := oauth2provider.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.p = p
	mux.Handle("/login", p.LoginHandler())
	mux.Handle("/callback", p.CallbackHandler())
	h.browser = h.newBrowser()
	return h
}

// newBrowser returns a client that trusts both TLS servers, keeps cookies
// and stops at every redirect.
func (h *harness) newBrowser() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return &http.Client{
		Transport:     h.idp.srv.Client().Transport,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// get fetches u with the browser and returns the response with its body.
func (h *harness) get(u string) (*http.Response, string) {
	h.t.Helper()
	resp, err := h.browser.Get(u)
	if err != nil {
		h.t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// start opens the login page and follows the redirect to the IdP; it
// returns the login response (with the flow cookie) and the callback URL the
// IdP sends the browser to.
func (h *harness) start() (*http.Response, *url.URL) {
	h.t.Helper()
	login, _ := h.get(h.app.URL + "/login")
	if login.StatusCode != http.StatusFound {
		h.t.Fatalf("login: status %d", login.StatusCode)
	}
	authz, body := h.get(login.Header.Get("Location"))
	if authz.StatusCode != http.StatusFound {
		h.t.Fatalf("IdP authorize: status %d: %s", authz.StatusCode, body)
	}
	cb, err := url.Parse(authz.Header.Get("Location"))
	if err != nil {
		h.t.Fatal(err)
	}
	return login, cb
}

// flowCookie returns the flow cookie set by a login response.
func flowCookie(t *testing.T, login *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range login.Cookies() {
		if c.Value != "" {
			return c
		}
	}
	t.Fatal("login set no flow cookie")
	return nil
}

// loginOK runs a whole login and returns the principal the host saw.
func (h *harness) loginOK() principalResponse {
	h.t.Helper()
	_, cb := h.start()
	resp, body := h.get(cb.String())
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("callback: status %d: %s (error %v)", resp.StatusCode, body, h.rec.LastErr())
	}
	var pr principalResponse
	if err := json.Unmarshal([]byte(body), &pr); err != nil {
		h.t.Fatalf("callback body %q: %v", body, err)
	}
	return pr
}

// lastEvent returns the last event, failing if there is none.
func (h *harness) lastEvent() auth.Event {
	h.t.Helper()
	ev := h.rec.Events()
	if len(ev) == 0 {
		h.t.Fatal("no event emitted")
	}
	return ev[len(ev)-1]
}
