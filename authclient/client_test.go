package authclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/authclient"
)

const (
	opUser = "operator_001"
	opPass = "correct horse battery"
	enUser = "engineer_001"
	enPass = "anvil quench furnace"
)

func newClient(t *testing.T, base string, opts ...authclient.Option) *authclient.Client {
	t.Helper()
	c, err := authclient.New(base, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// get sends GET url with hc and returns the status and decoded JSON body.
func get(t *testing.T, hc *http.Client, url string) (int, map[string]any) {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestConcurrentRequestsAcrossExpiryRefreshOnce(t *testing.T) {
	const n = 24
	f := newFakeAPI()
	// Park every request that meets the expired token until all n have, so
	// that all of them were refused with the old token before any refresh.
	var parked sync.WaitGroup
	parked.Add(n)
	release := make(chan struct{})
	var seen atomic.Int64
	f.onExpired = func() {
		if seen.Add(1) <= n {
			parked.Done()
			<-release
		}
	}
	srv := f.server(t)
	c := newClient(t, srv.URL+authPrefix, authclient.WithPassword(opUser, opPass))
	hc := c.HTTPClient()
	if st, _ := get(t, hc, srv.URL+"/api/v1/data"); st != 200 {
		t.Fatalf("first request: status %d", st)
	}
	f.expireAccess()
	go func() { parked.Wait(); close(release) }()

	errs := make(chan error, n)
	for range n {
		go func() {
			resp, err := hc.Get(srv.URL + "/api/v1/data")
			if err == nil {
				if resp.StatusCode != 200 {
					err = errors.New(resp.Status)
				}
				resp.Body.Close()
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("request across expiry: %v", err)
		}
	}
	if got := f.expired401.Load(); got != n {
		t.Errorf("token_expired answers = %d, want %d (every request must have met the expiry)", got, n)
	}
	if got := f.refreshes.Load(); got != 1 {
		t.Errorf("refreshes = %d, want exactly 1", got)
	}
	if got := f.logins.Load(); got != 1 {
		t.Errorf("logins = %d, want 1", got)
	}
}

func TestRefreshTokensAreNeverReused(t *testing.T) {
	f := newFakeAPI()
	srv := f.server(t)
	c := newClient(t, srv.URL+authPrefix, authclient.WithPassword(opUser, opPass))
	hc := c.HTTPClient()
	for i := range 4 {
		if st, _ := get(t, hc, srv.URL+"/api/v1/data"); st != 200 {
			t.Fatalf("round %d: status %d", i, st)
		}
		f.expireAccess()
	}
	// Reusing a spent refresh token would revoke the family and force a
	// second login.
	if r, l := f.refreshes.Load(), f.logins.Load(); r != 3 || l != 1 {
		t.Errorf("refreshes, logins = %d, %d; want 3, 1", r, l)
	}
}

func TestRefreshRefusedFallsBackToPasswordLogin(t *testing.T) {
	tests := []struct {
		name              string
		break_            func(f *fakeAPI)
		refreshes, logins int64
	}{
		{"refresh family revoked by reuse elsewhere", func(f *fakeAPI) { f.expireAccess(); f.revokeFamilies() }, 1, 2},
		{"server restarted and forgot every token", (*fakeAPI).restart, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI()
			srv := f.server(t)
			c := newClient(t, srv.URL+authPrefix, authclient.WithPassword(opUser, opPass))
			hc := c.HTTPClient()
			get(t, hc, srv.URL+"/api/v1/data")
			tt.break_(f)
			st, body := get(t, hc, srv.URL+"/api/v1/data")
			if st != 200 || body["user"] != opUser {
				t.Fatalf("status %d body %v, want 200 as %s", st, body, opUser)
			}
			if r, l := f.refreshes.Load(), f.logins.Load(); r != tt.refreshes || l != tt.logins {
				t.Errorf("refreshes, logins = %d, %d; want %d, %d", r, l, tt.refreshes, tt.logins)
			}
		})
	}
}

func TestRenewalFailureIsReturned(t *testing.T) {
	f := newFakeAPI()
	srv := f.server(t)
	c := newClient(t, srv.URL+authPrefix, authclient.WithPassword(opUser, opPass))
	hc := c.HTTPClient()
	get(t, hc, srv.URL+"/api/v1/data")
	// The password changes elsewhere and every token dies.
	f.mu.Lock()
	f.users[opUser].password = "changed elsewhere"
	f.mu.Unlock()
	f.expireAccess()
	f.revokeFamilies()
	_, err := hc.Get(srv.URL + "/api/v1/data")
	if !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("err = %v, want invalid_credentials", err)
	}
	if strings.Contains(err.Error(), opPass) {
		t.Errorf("error %q echoes the password", err)
	}
}

func TestUnreplayableBodyIsNotResentButRenews(t *testing.T) {
	f := newFakeAPI()
	srv := f.server(t)
	c := newClient(t, srv.URL+authPrefix, authclient.WithPassword(opUser, opPass))
	hc := c.HTTPClient()
	get(t, hc, srv.URL+"/api/v1/data")
	f.expireAccess()

	// A reader of a type http.NewRequest does not know has no GetBody.
	body := struct{ io.Reader }{strings.NewReader(`{"heat":"H-1042"}`)}
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/api/v1/data", body)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(string(raw), "token_expired") {
		t.Fatalf("status %d body %s, want the 401 token_expired answer intact", resp.StatusCode, raw)
	}
	if f.dataHits.Load() != 1 {
		t.Errorf("data route reached %d times, want 1 (the body must not be resent)", f.dataHits.Load())
	}
	if st, _ := get(t, hc, srv.URL+"/api/v1/data"); st != 200 {
		t.Errorf("next request: status %d, want 200 with the renewed pair", st)
	}
	if r, l := f.refreshes.Load(), f.logins.Load(); r != 1 || l != 1 {
		t.Errorf("refreshes, logins = %d, %d; want 1, 1", r, l)
	}
}

func TestReplayableBodyIsResentAfterRefresh(t *testing.T) {
	f := newFakeAPI()
	srv := f.server(t)
	c := newClient(t, srv.URL+authPrefix, authclient.WithPassword(opUser, opPass))
	hc := c.HTTPClient()
	get(t, hc, srv.URL+"/api/v1/data")
	f.expireAccess()
	resp, err := hc.Post(srv.URL+"/api/v1/data", "application/json", strings.NewReader(`{"heat":"H-1042"}`))
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != 200 || out["body"].(map[string]any)["heat"] != "H-1042" {
		t.Fatalf("status %d body %v, want the POST replayed with its body", resp.StatusCode, out)
	}
}

func TestProactiveRefreshBeforeExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeAPI()
		f.accessTTL = 100 * time.Second
		c := newClient(t, "http://gatehouse.test"+authPrefix, authclient.WithPassword(opUser, opPass),
			authclient.WithInsecureHTTP(),
			authclient.WithHTTPClient(&http.Client{Transport: handlerTransport{f.handler()}}))
		hc := c.HTTPClient()
		get(t, hc, "http://gatehouse.test/api/v1/data")
		time.Sleep(80 * time.Second)
		get(t, hc, "http://gatehouse.test/api/v1/data")
		if r := f.refreshes.Load(); r != 0 {
			t.Fatalf("refreshed %d times with 20s of 100s left", r)
		}
		time.Sleep(15 * time.Second) // 5s left: in the last tenth
		if st, _ := get(t, hc, "http://gatehouse.test/api/v1/data"); st != 200 {
			t.Fatalf("status %d", st)
		}
		if r, e := f.refreshes.Load(), f.expired401.Load(); r != 1 || e != 0 {
			t.Errorf("refreshes, token_expired answers = %d, %d; want 1, 0", r, e)
		}
		time.Sleep(time.Hour) // far past expiry: the refresh token still works
		if st, _ := get(t, hc, "http://gatehouse.test/api/v1/data"); st != 200 {
			t.Fatalf("status %d", st)
		}
		if r, l := f.refreshes.Load(), f.logins.Load(); r != 2 || l != 1 {
			t.Errorf("refreshes, logins = %d, %d; want 2, 1", r, l)
		}
	})
}

func TestMFAChallenge(t *testing.T) {
	errPrompt := errors.New("operator closed the prompt")
	tests := []struct {
		name     string
		callback authclient.MFAFunc // nil: no WithMFA
		check    func(t *testing.T, err error)
	}{
		{"no callback configured", nil, func(t *testing.T, err error) {
			if !errors.Is(err, authclient.ErrNoMFACallback) || !errors.Is(err, auth.ErrMFARequired) {
				t.Errorf("err = %v, want ErrNoMFACallback and mfa_required", err)
			}
			var e *authclient.Error
			if !errors.As(err, &e) || e.Status != 401 {
				t.Errorf("errors.As *Error = %+v, want status 401", e)
			}
		}},
		{"callback answers a wrong code", func(context.Context, authclient.MFAChallenge) (string, error) {
			return "000000", nil
		}, func(t *testing.T, err error) {
			if !errors.Is(err, auth.ErrInvalidCredentials) {
				t.Errorf("err = %v, want invalid_credentials", err)
			}
		}},
		{"callback fails", func(context.Context, authclient.MFAChallenge) (string, error) {
			return "", errPrompt
		}, func(t *testing.T, err error) {
			if !errors.Is(err, errPrompt) {
				t.Errorf("err = %v, want the callback's error", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI()
			srv := f.server(t)
			opts := []authclient.Option{authclient.WithPassword(enUser, enPass)}
			if tt.callback != nil {
				opts = append(opts, authclient.WithMFA(tt.callback))
			}
			c := newClient(t, srv.URL+authPrefix, opts...)
			_, err := c.HTTPClient().Get(srv.URL + "/api/v1/data")
			if err == nil {
				t.Fatal("request succeeded without a valid second factor")
			}
			tt.check(t, err)
			if strings.Contains(err.Error(), "secretchallenge") || strings.Contains(err.Error(), enPass) {
				t.Errorf("error %q leaks the mfa_token or the password", err)
			}
			if f.dataHits.Load() != 0 {
				t.Error("the data route was reached")
			}
		})
	}

	t.Run("callback answers the challenge", func(t *testing.T) {
		f := newFakeAPI()
		srv := f.server(t)
		var got authclient.MFAChallenge
		var calls atomic.Int64
		c := newClient(t, srv.URL+authPrefix, authclient.WithPassword(enUser, enPass),
			authclient.WithMFA(func(ctx context.Context, ch authclient.MFAChallenge) (string, error) {
				calls.Add(1)
				got = ch
				return "123456", nil
			}))
		st, body := get(t, c.HTTPClient(), srv.URL+"/api/v1/data")
		if st != 200 || body["user"] != enUser {
			t.Fatalf("status %d body %v", st, body)
		}
		if !strings.HasPrefix(got.Token, "mfa-") || strings.Join(got.Methods, ",") != "totp,backup_code" {
			t.Errorf("challenge = %#v (token %q), want the server's mfa_token and methods", got, got.Token)
		}
		if calls.Load() != 1 || f.logins.Load() != 1 || f.mfaLogins.Load() != 1 {
			t.Errorf("callback, logins, mfa logins = %d, %d, %d; want 1, 1, 1", calls.Load(), f.logins.Load(), f.mfaLogins.Load())
		}
	})
}

func TestAPIKeyModeNeverLogsIn(t *testing.T) {
	f := newFakeAPI()
	const key = "gk_preset_k3yMaterial"
	f.addKey(opUser, key)
	srv := f.server(t)
	rec := &recordingTransport{next: http.DefaultTransport}
	c := newClient(t, srv.URL+authPrefix, authclient.WithAPIKey(key),
		authclient.WithHTTPClient(&http.Client{Transport: rec}))
	st, body := get(t, c.HTTPClient(), srv.URL+"/api/v1/data")
	if st != 200 || body["user"] != opUser {
		t.Fatalf("status %d body %v", st, body)
	}
	me, err := c.Me(t.Context())
	if err != nil || me.Username != opUser {
		t.Fatalf("Me = %+v, %v", me, err)
	}
	if err := c.Login(t.Context()); !errors.Is(err, authclient.ErrNoCredentials) {
		t.Errorf("Login in API key mode: %v, want ErrNoCredentials", err)
	}
	for _, r := range rec.requests() {
		if r.Header.Get("X-API-Key") != key || r.Header.Get("Authorization") != "" {
			t.Errorf("%s %s: X-API-Key %q Authorization %q", r.Method, r.URL.Path,
				r.Header.Get("X-API-Key"), r.Header.Get("Authorization"))
		}
	}
	if f.logins.Load() != 0 || f.refreshes.Load() != 0 {
		t.Errorf("logins, refreshes = %d, %d; want 0, 0", f.logins.Load(), f.refreshes.Load())
	}

	// A refused key is answered as it is: no login to fall back to.
	bad := newClient(t, srv.URL+authPrefix, authclient.WithAPIKey("gk_unknown"))
	if st, body := get(t, bad.HTTPClient(), srv.URL+"/api/v1/data"); st != 401 || body["error"] != "invalid_credentials" {
		t.Errorf("bad key: status %d body %v", st, body)
	}
	if f.logins.Load() != 0 {
		t.Error("a refused API key led to a login")
	}
}

func TestCredentialsStayOnTrustedOrigins(t *testing.T) {
	var mu sync.Mutex
	var leaked []string
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		leaked = append(leaked, r.Header.Get("Authorization")+r.Header.Get("X-API-Key"))
		mu.Unlock()
		w.WriteHeader(204)
	}))
	t.Cleanup(elsewhere.Close)

	f := newFakeAPI()
	const key = "gk_preset_k3yMaterial"
	f.addKey(opUser, key)
	mux := http.NewServeMux()
	mux.Handle("/", f.handler())
	mux.HandleFunc("/bounce", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/collect", http.StatusTemporaryRedirect)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	tests := []struct {
		name      string
		opts      []authclient.Option
		url       string
		wantCreds bool
	}{
		{"password client calling another origin", []authclient.Option{authclient.WithPassword(opUser, opPass)}, elsewhere.URL + "/collect", false},
		{"API key client calling another origin", []authclient.Option{authclient.WithAPIKey(key)}, elsewhere.URL + "/collect", false},
		{"redirect from the trusted origin to another", []authclient.Option{authclient.WithAPIKey(key)}, srv.URL + "/bounce", false},
		{"password client redirected to another origin", []authclient.Option{authclient.WithPassword(opUser, opPass)}, srv.URL + "/bounce", false},
		{"origin added with WithTrustedOrigins", []authclient.Option{authclient.WithAPIKey(key), authclient.WithTrustedOrigins(elsewhere.URL)}, elsewhere.URL + "/collect", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			leaked = nil
			mu.Unlock()
			c := newClient(t, srv.URL+authPrefix, tt.opts...)
			resp, err := c.HTTPClient().Get(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			mu.Lock()
			defer mu.Unlock()
			if len(leaked) != 1 {
				t.Fatalf("other origin saw %d requests, want 1", len(leaked))
			}
			if got := leaked[0] != ""; got != tt.wantCreds {
				t.Errorf("credentials sent to the other origin: %v, want %v", got, tt.wantCreds)
			}
		})
	}
}

func TestCallerCredentialIsLeftAlone(t *testing.T) {
	f := newFakeAPI()
	srv := f.server(t)
	c := newClient(t, srv.URL+authPrefix, authclient.WithPassword(opUser, opPass))
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/data", nil)
	req.Header.Set("Authorization", "Bearer someone-elses-token")
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || f.logins.Load() != 0 {
		t.Errorf("status %d, logins %d; want the caller's token sent as is (401) and no login", resp.StatusCode, f.logins.Load())
	}
	if req.Header.Get("Authorization") != "Bearer someone-elses-token" || len(req.Header) != 1 {
		t.Errorf("the caller's request was modified: %v", req.Header)
	}
}

func TestNewRejectsUnsafeConfiguration(t *testing.T) {
	pw := authclient.WithPassword(opUser, opPass)
	tests := []struct {
		name string
		base string
		opts []authclient.Option
	}{
		{"no credential", "https://auth.example.com/api/v1/auth", nil},
		{"both password and API key", "https://auth.example.com/api/v1/auth", []authclient.Option{pw, authclient.WithAPIKey("gk_x")}},
		{"plain http to a remote host", "http://auth.example.com/api/v1/auth", []authclient.Option{pw}},
		{"plain http to a host named like loopback", "http://127.0.0.1.example.com/auth", []authclient.Option{pw}},
		{"user info in the URL", "https://admin:hunter2@auth.example.com/auth", []authclient.Option{pw}},
		{"query in the URL", "https://auth.example.com/auth?next=evil", []authclient.Option{pw}},
		{"fragment in the URL", "https://auth.example.com/auth#x", []authclient.Option{pw}},
		{"relative URL", "/api/v1/auth", []authclient.Option{pw}},
		{"ftp scheme", "ftp://auth.example.com/auth", []authclient.Option{pw}},
		{"API key with a newline", "https://auth.example.com/auth", []authclient.Option{authclient.WithAPIKey("gk_x\r\nX-Admin: 1")}},
		{"empty password", "https://auth.example.com/auth", []authclient.Option{authclient.WithPassword(opUser, "")}},
		{"trusted origin with a path", "https://auth.example.com/auth", []authclient.Option{pw, authclient.WithTrustedOrigins("https://api.example.com/v1")}},
		{"trusted origin over plain http", "https://auth.example.com/auth", []authclient.Option{pw, authclient.WithTrustedOrigins("http://api.example.com")}},
		{"negative retry attempts", "https://auth.example.com/auth", []authclient.Option{pw, authclient.WithRetry(authclient.RetryPolicy{MaxAttempts: -1})}},
		{"nil HTTP client", "https://auth.example.com/auth", []authclient.Option{pw, authclient.WithHTTPClient(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := authclient.New(tt.base, tt.opts...)
			if err == nil {
				t.Fatalf("New accepted it: %v", c)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q echoes the URL's password", err)
			}
		})
	}

	for _, base := range []string{"http://localhost:8000/api/v1/auth", "http://127.0.0.1:8000/api/v1/auth/", "http://[::1]:8000/auth"} {
		if _, err := authclient.New(base, pw); err != nil {
			t.Errorf("New(%q) refused a loopback URL: %v", base, err)
		}
	}
	if _, err := authclient.New("http://auth.internal:8000/auth", pw, authclient.WithInsecureHTTP()); err != nil {
		t.Errorf("WithInsecureHTTP did not allow plain http: %v", err)
	}
}

func TestLoginAnswersAreNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logins atomic.Int64
		h := http.NewServeMux()
		h.HandleFunc("POST /auth/login", func(w http.ResponseWriter, r *http.Request) {
			logins.Add(1)
			w.Header().Set("Retry-After", "60")
			writeErr(w, r, &auth.Error{Code: auth.CodeAccountLocked, RetryAfter: time.Minute})
		})
		c := newClient(t, "http://localhost/auth", authclient.WithPassword(opUser, opPass),
			authclient.WithHTTPClient(&http.Client{Transport: handlerTransport{h}}))
		start := time.Now()
		_, err := c.HTTPClient().Get("http://localhost/api/v1/data")
		var e *authclient.Error
		if !errors.As(err, &e) || e.Status != 429 || e.RetryAfter != time.Minute || !errors.Is(err, auth.ErrAccountLocked) {
			t.Fatalf("err = %v (%+v), want account_locked with RetryAfter 1m", err, e)
		}
		if logins.Load() != 1 || time.Since(start) != 0 {
			t.Errorf("logins %d after %v, want 1 at once", logins.Load(), time.Since(start))
		}
	})
}

func TestMalformedTokenResponse(t *testing.T) {
	tests := []struct{ name, body string }{
		{"token_type is not Bearer", `{"access_token":"abc","token_type":"mac","expires_in":60}`},
		{"access token splits the header", `{"access_token":"abc\r\nX-Admin: 1","token_type":"Bearer"}`},
		{"no access token", `{"token_type":"Bearer","refresh_token":"r"}`},
		{"negative lifetime", `{"access_token":"abc","token_type":"Bearer","expires_in":-5}`},
		{"not JSON", `<html>welcome</html>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.NewServeMux()
			h.HandleFunc("POST /auth/login", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, tt.body)
			})
			c := newClient(t, "http://localhost/auth", authclient.WithPassword(opUser, opPass),
				authclient.WithHTTPClient(&http.Client{Transport: handlerTransport{h}}))
			if err := c.Login(t.Context()); !errors.Is(err, authclient.ErrBadTokenResponse) {
				t.Errorf("Login = %v, want ErrBadTokenResponse", err)
			}
		})
	}
}

func TestLoginFlightOutlivesACallerThatGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeAPI()
		// A person takes ten seconds to type the code.
		c := newClient(t, "http://localhost"+authPrefix, authclient.WithPassword(enUser, enPass),
			authclient.WithHTTPClient(&http.Client{Transport: handlerTransport{f.handler()}}),
			authclient.WithMFA(func(ctx context.Context, _ authclient.MFAChallenge) (string, error) {
				time.Sleep(10 * time.Second)
				return "123456", ctx.Err()
			}))
		hc := c.HTTPClient()
		start := time.Now()
		impatient := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost/api/v1/data", nil)
			_, err := hc.Do(req)
			impatient <- err
		}()
		st, _ := get(t, hc, "http://localhost/api/v1/data")
		if err := <-impatient; !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("impatient caller: %v, want DeadlineExceeded", err)
		}
		if st != 200 || time.Since(start) != 10*time.Second {
			t.Errorf("patient caller: status %d after %v, want 200 after 10s", st, time.Since(start))
		}
		if f.logins.Load() != 1 || f.mfaLogins.Load() != 1 {
			t.Errorf("logins, mfa logins = %d, %d; want 1, 1", f.logins.Load(), f.mfaLogins.Load())
		}
	})
}

func TestAuthTimeoutBoundsALogin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeAPI()
		c := newClient(t, "http://localhost"+authPrefix, authclient.WithPassword(enUser, enPass),
			authclient.WithHTTPClient(&http.Client{Transport: handlerTransport{f.handler()}}),
			authclient.WithAuthTimeout(30*time.Second),
			authclient.WithMFA(func(ctx context.Context, _ authclient.MFAChallenge) (string, error) {
				<-ctx.Done() // nobody answers the prompt
				return "", ctx.Err()
			}))
		start := time.Now()
		_, err := c.HTTPClient().Get("http://localhost/api/v1/data")
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 30*time.Second {
			t.Errorf("err %v after %v, want DeadlineExceeded after 30s", err, time.Since(start))
		}
	})
}
