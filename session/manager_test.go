package session_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/session"
)

func TestNewRejectsInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  session.Config
	}{
		{"idle longer than absolute", session.Config{IdleTimeout: 13 * time.Hour}},
		{"negative idle", session.Config{IdleTimeout: -time.Second}},
		{"negative absolute", session.Config{AbsoluteTimeout: -time.Second}},
		{"touch interval equal to idle", session.Config{IdleTimeout: time.Minute, TouchInterval: time.Minute}},
		{"touch interval over half the idle timeout", session.Config{IdleTimeout: 10 * time.Minute, TouchInterval: 6 * time.Minute}},
		{"negative max sessions", session.Config{MaxSessionsPerUser: -1}},
		{"unknown limit policy", session.Config{OnLimit: session.LimitPolicy(7)}},
		{"cookie name with host prefix", session.Config{CookieName: "__Host-sid"}},
		{"cookie name with secure prefix", session.Config{CookieName: "__Secure-sid"}},
		{"cookie name with a semicolon", session.Config{CookieName: "sid;Domain=evil.example"}},
		{"cookie name with a space", session.Config{CookieName: "my sid"}},
		{"samesite none", session.Config{SameSite: http.SameSiteNoneMode}},
		{"samesite default mode", session.Config{SameSite: http.SameSiteDefaultMode}},
		{"trusted origin with a path", session.Config{TrustedOrigins: []string{"https://app.example/path"}}},
		{"trusted origin without scheme", session.Config{TrustedOrigins: []string{"app.example"}}},
		{"negative data size", session.Config{MaxDataSize: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Store = session.NewMemoryStoreWith(session.MemoryStoreConfig{SweepInterval: -1})
			m, err := session.New(tc.cfg)
			if !errors.Is(err, session.ErrInvalidConfig) {
				t.Fatalf("New error = %v, want ErrInvalidConfig", err)
			}
			if m != nil {
				t.Errorf("New returned a manager with an error")
			}
		})
	}
}

func TestCookieAttributes(t *testing.T) {
	tests := []struct {
		name       string
		cfg        session.Config
		wantName   string
		wantSecure bool
		wantSite   http.SameSite
	}{
		{"defaults are host-prefixed secure strict", session.Config{}, "__Host-session", true, http.SameSiteStrictMode},
		{"custom name keeps the prefix", session.Config{CookieName: "plant_sid"}, "__Host-plant_sid", true, http.SameSiteStrictMode},
		{"lax when asked", session.Config{SameSite: http.SameSiteLaxMode}, "__Host-session", true, http.SameSiteLaxMode},
		{"insecure drops Secure and the prefix", session.Config{InsecureCookie: true}, "session", false, http.SameSiteStrictMode},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.cfg)
			w := httptest.NewRecorder()
			if _, err := f.m.Create(context.Background(), w, alice, session.Meta{}); err != nil {
				t.Fatal(err)
			}
			c := sessionCookie(t, w, tc.wantName)
			if c.Secure != tc.wantSecure || !c.HttpOnly || c.SameSite != tc.wantSite {
				t.Errorf("Secure=%v HttpOnly=%v SameSite=%v, want %v true %v", c.Secure, c.HttpOnly, c.SameSite, tc.wantSecure, tc.wantSite)
			}
			if c.Path != "/" || c.Domain != "" {
				t.Errorf("Path=%q Domain=%q, want / and none", c.Path, c.Domain)
			}
			if c.MaxAge != 0 || !c.Expires.IsZero() {
				t.Errorf("cookie is persistent: MaxAge=%d Expires=%v", c.MaxAge, c.Expires)
			}
			if len(c.Value) != 43 {
				t.Errorf("cookie value has %d characters, want 43 (256 bits)", len(c.Value))
			}
			if got := w.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			if f.m.CookieName() != tc.wantName {
				t.Errorf("CookieName() = %q", f.m.CookieName())
			}

			// Logout deletes the same cookie.
			w = httptest.NewRecorder()
			if err := f.m.Logout(w, req("POST", "/logout", c)); err != nil {
				t.Fatal(err)
			}
			gone := sessionCookie(t, w, tc.wantName)
			if gone.MaxAge >= 0 || gone.Value != "" || gone.Path != "/" || gone.Secure != tc.wantSecure {
				t.Errorf("logout cookie = %+v, want an expired empty cookie on Path=/", gone)
			}
		})
	}
}

func TestCookieValuesAreUniqueAndStoredHashed(t *testing.T) {
	f := newFixture(t, session.Config{MaxSessionsPerUser: 100})
	seen := map[string]bool{}
	for range 50 {
		c := f.login(t, alice)
		if seen[c.Value] {
			t.Fatalf("cookie value repeated: %s", c.Value)
		}
		seen[c.Value] = true
		ctx := context.Background()
		if _, err := f.mem.Get(ctx, c.Value); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("the store holds the cookie value itself as a key")
		}
		rec, err := f.mem.Get(ctx, hashOf(c.Value))
		if err != nil {
			t.Fatalf("the store has no record under the SHA-256 of the cookie: %v", err)
		}
		if strings.Contains(rec.ID+rec.Data+rec.ClientIP+rec.UserAgent, c.Value) {
			t.Fatalf("the stored record contains the cookie value")
		}
	}
}

func TestAuthenticateReturnsTheSessionPrincipal(t *testing.T) {
	f := newFixture(t, session.Config{})
	c := f.login(t, alice)
	p, err := f.m.Authenticate(req("GET", "/api/v1/alerts", c))
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if p.Subject != alice.Subject || p.Username != alice.Username || p.Email != alice.Email ||
		!slices.Equal(p.Roles, alice.Roles) || !p.MFA.Verified || !slices.Equal(p.MFA.Methods, alice.MFA.Methods) {
		t.Errorf("principal = %+v, want alice's identity", p)
	}
	if p.Method != auth.MethodSession {
		t.Errorf("Method = %q, want session", p.Method)
	}
	if p.CredentialID != hashOf(c.Value) || p.CredentialID == c.Value {
		t.Errorf("CredentialID = %q, want the session ID (hash of the cookie), never the secret", p.CredentialID)
	}
	if want := f.clock.Now().Add(session.DefaultIdleTimeout); !p.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", p.ExpiresAt, want)
	}
	if p.Scopes != nil {
		t.Errorf("Scopes = %v, want nil (not narrowed)", p.Scopes)
	}
	if f.m.Method() != auth.MethodSession {
		t.Errorf("Method() = %q", f.m.Method())
	}
}

func TestAuthenticateKeepsNarrowedScopes(t *testing.T) {
	f := newFixture(t, session.Config{})
	scoped := *alice
	scoped.Scopes = []string{}
	c := f.login(t, &scoped)
	p, err := f.m.Authenticate(req("GET", "/", c))
	if err != nil {
		t.Fatal(err)
	}
	if p.Scopes == nil || len(p.Scopes) != 0 {
		t.Errorf("Scopes = %#v, want the empty (grants nothing) slice kept", p.Scopes)
	}
}

func TestAuthenticateRejects(t *testing.T) {
	f := newFixture(t, session.Config{})
	good := f.login(t, alice)
	name := f.m.CookieName()
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name   string
		cookie string // raw Cookie header; empty for none
		header []string
		want   error
	}{
		{"no cookie at all", "", nil, auth.ErrNoCredentials},
		{"only unrelated cookies", "theme=dark; lang=en", nil, auth.ErrNoCredentials},
		{"cookie without the host prefix", "session=" + good.Value, nil, auth.ErrNoCredentials},
		{"cookie name in other case", strings.ToLower(name) + "=" + good.Value, nil, auth.ErrNoCredentials},
		{"valid cookie but an Authorization header", name + "=" + good.Value, []string{"Authorization", "Bearer abc"}, auth.ErrNoCredentials},
		{"valid cookie but an empty Authorization header", name + "=" + good.Value, []string{"Authorization", ""}, auth.ErrNoCredentials},
		{"empty value", name + "=", nil, auth.ErrInvalidToken},
		{"one character short", name + "=" + good.Value[:42], nil, auth.ErrInvalidToken},
		{"one character long", name + "=" + good.Value + "A", nil, auth.ErrInvalidToken},
		{"padded base64", name + "=" + good.Value + "=", nil, auth.ErrInvalidToken},
		{"standard base64 alphabet", name + "=" + strings.Repeat("+", 42) + "A", nil, auth.ErrInvalidToken},
		{"non canonical last character", name + "=" + good.Value[:42] + "B", nil, auth.ErrInvalidToken},
		{"the session ID instead of the secret", name + "=" + hashOf(good.Value), nil, auth.ErrInvalidToken},
		{"tampered first character", name + "=" + flip(good.Value, 0), nil, auth.ErrInvalidToken},
		{"tampered middle character", name + "=" + flip(good.Value, 21), nil, auth.ErrInvalidToken},
		{"unknown but well formed", name + "=" + strings.Repeat("A", 43), nil, auth.ErrInvalidToken},
		{"quoted unknown value", name + `="` + strings.Repeat("A", 43) + `"`, nil, auth.ErrInvalidToken},
		{"quotes inside the value", name + `=A"` + good.Value[2:], nil, auth.ErrNoCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "https://plant.example/", nil)
			if tc.cookie != "" {
				r.Header.Set("Cookie", tc.cookie)
			}
			for i := 0; i+1 < len(tc.header); i += 2 {
				r.Header.Set(tc.header[i], tc.header[i+1])
			}
			p, err := f.m.Authenticate(r)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Authenticate error = %v, want %v", err, tc.want)
			}
			if p != nil {
				t.Errorf("a principal came back with an error")
			}
			if tc.want == auth.ErrNoCredentials {
				var ae *auth.Error
				if errors.As(err, &ae) {
					t.Errorf("no-credential case returned an *auth.Error %v, which stops the chain", ae)
				}
			}
		})
	}
	// The good cookie still works after all that.
	if _, err := f.m.Authenticate(req("GET", "/", good)); err != nil {
		t.Fatalf("valid cookie rejected: %v", err)
	}
}

func TestStoreFailureIsNotABadCredential(t *testing.T) {
	f := newFixture(t, session.Config{})
	c := f.login(t, alice)
	down := errors.New("dial tcp 10.0.0.5:6379: connection refused")
	f.store.failGet.Store(&down)
	_, err := f.m.Authenticate(req("GET", "/", c))
	if !errors.Is(err, down) {
		t.Fatalf("error = %v, want the store error wrapped", err)
	}
	var ae *auth.Error
	if errors.As(err, &ae) || errors.Is(err, auth.ErrNoCredentials) {
		t.Errorf("a store failure was reported as a credential verdict: %v", err)
	}
	if got := auth.AsError(err).Status(); got != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", got)
	}
}

func TestIdleTimeoutSlides(t *testing.T) {
	f := newFixture(t, session.Config{})
	c := f.login(t, alice)
	// Each request just inside the idle timeout keeps the session alive.
	for i := range 5 {
		f.clock.Advance(29 * time.Minute)
		if _, err := f.m.Authenticate(req("GET", "/", c)); err != nil {
			t.Fatalf("request %d after 29 idle minutes: %v", i, err)
		}
	}
	f.clock.Advance(30 * time.Minute)
	_, err := f.m.Authenticate(req("GET", "/", c))
	if !errors.Is(err, auth.ErrTokenExpired) {
		t.Fatalf("after 30 idle minutes: error = %v, want token_expired", err)
	}
	ev := f.events.ofType(auth.EventSessionExpired)
	if len(ev) != 1 || ev[0].Reason != "idle_timeout" || ev[0].Subject != alice.Subject || ev[0].Attrs["session_id"] != hashOf(c.Value) {
		t.Errorf("session_expired events = %+v, want one for alice with reason idle_timeout", ev)
	}
	// The expired session is deleted: the next try finds nothing.
	if _, err := f.m.Authenticate(req("GET", "/", c)); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("after expiry: error = %v, want invalid_token", err)
	}
	if f.mem.Len() != 0 {
		t.Errorf("store holds %d records after expiry", f.mem.Len())
	}
}

func TestIdleDeadlineTouchIsCoalesced(t *testing.T) {
	f := newFixture(t, session.Config{})
	c := f.login(t, alice)
	for range 100 {
		f.clock.Advance(500 * time.Millisecond) // 50 s in all
		if _, err := f.m.Authenticate(req("GET", "/", c)); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.store.updates.Load(); n != 0 {
		t.Fatalf("%d store writes for 100 requests within the first minute, want 0", n)
	}
	f.clock.Advance(10 * time.Second) // one minute after login
	for range 10 {
		if _, err := f.m.Authenticate(req("GET", "/", c)); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.store.updates.Load(); n != 1 {
		t.Fatalf("%d store writes once a minute had passed, want exactly 1", n)
	}
	rec, err := f.mem.Get(context.Background(), hashOf(c.Value))
	if err != nil {
		t.Fatal(err)
	}
	if want := f.clock.Now().Add(session.DefaultIdleTimeout); !rec.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v after the touch, want %v", rec.ExpiresAt, want)
	}
}

// The documented precision: a request less than TouchInterval after the last
// recorded use does not move the deadline, so the session may end up to
// TouchInterval earlier than IdleTimeout after that request.
func TestIdleTimeoutPrecisionIsTheTouchInterval(t *testing.T) {
	f := newFixture(t, session.Config{})
	c := f.login(t, alice)
	f.clock.Advance(59 * time.Second)
	if _, err := f.m.Authenticate(req("GET", "/", c)); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(30*time.Minute - 59*time.Second) // 29 min 1 s after that request
	if _, err := f.m.Authenticate(req("GET", "/", c)); !errors.Is(err, auth.ErrTokenExpired) {
		t.Fatalf("error = %v, want token_expired within TouchInterval of the idle timeout", err)
	}
}

func TestTouchFailureDoesNotFailTheRequest(t *testing.T) {
	f := newFixture(t, session.Config{})
	c := f.login(t, alice)
	down := errors.New("write timeout")
	f.store.failUpdate.Store(&down)
	f.clock.Advance(2 * time.Minute)
	if _, err := f.m.Authenticate(req("GET", "/", c)); err != nil {
		t.Fatalf("a failed touch failed the request: %v", err)
	}
}

func TestAbsoluteTimeout(t *testing.T) {
	f := newFixture(t, session.Config{AbsoluteTimeout: 2 * time.Hour})
	c := f.login(t, alice)
	loginAt := f.clock.Now()
	for f.clock.Now().Sub(loginAt) < 2*time.Hour-20*time.Minute {
		f.clock.Advance(20 * time.Minute)
		p, err := f.m.Authenticate(req("GET", "/", c))
		if err != nil {
			t.Fatalf("active session rejected after %v: %v", f.clock.Now().Sub(loginAt), err)
		}
		if p.ExpiresAt.After(loginAt.Add(2 * time.Hour)) {
			t.Fatalf("ExpiresAt %v is past the absolute deadline", p.ExpiresAt)
		}
	}
	f.clock.Advance(20 * time.Minute) // exactly 2 h after login, 20 min after the last request
	if _, err := f.m.Authenticate(req("GET", "/", c)); !errors.Is(err, auth.ErrTokenExpired) {
		t.Fatalf("at the absolute deadline: error = %v, want token_expired", err)
	}
	ev := f.events.ofType(auth.EventSessionExpired)
	if len(ev) != 1 || ev[0].Reason != "absolute_timeout" {
		t.Errorf("session_expired events = %+v, want one with reason absolute_timeout", ev)
	}
}

func TestRenewKillsTheOldID(t *testing.T) {
	f := newFixture(t, session.Config{})
	old := f.login(t, alice)
	createdAt := f.clock.Now()
	f.clock.Advance(5 * time.Minute)

	stepUp := *alice
	stepUp.Roles = []string{"operator", "supervisor"}
	w := httptest.NewRecorder()
	p, err := f.m.Renew(w, req("POST", "/mfa/verify", old), &stepUp)
	if err != nil {
		t.Fatalf("Renew: %v", err)
	}
	fresh := sessionCookie(t, w, f.m.CookieName())
	if fresh.Value == old.Value {
		t.Fatalf("Renew kept the cookie value")
	}
	if p.CredentialID != hashOf(fresh.Value) || !slices.Equal(p.Roles, stepUp.Roles) {
		t.Errorf("renewed principal = %+v", p)
	}
	if _, err := f.m.Authenticate(req("GET", "/", old)); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("old cookie after Renew: error = %v, want invalid_token", err)
	}
	got, err := f.m.Authenticate(req("GET", "/", fresh))
	if err != nil {
		t.Fatalf("new cookie: %v", err)
	}
	if !slices.Equal(got.Roles, stepUp.Roles) {
		t.Errorf("roles after renewal = %v, want %v", got.Roles, stepUp.Roles)
	}
	list, err := f.m.List(context.Background(), alice.Subject)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != hashOf(fresh.Value) || !list[0].CreatedAt.Equal(createdAt) {
		t.Errorf("List after renewal = %+v, want the one renewed session keeping its creation time", list)
	}
	ev := f.events.ofType(auth.EventSessionRenewed)
	if len(ev) != 1 || ev[0].Attrs["previous_session_id"] != hashOf(old.Value) || ev[0].Attrs["session_id"] != hashOf(fresh.Value) {
		t.Errorf("session_renewed events = %+v", ev)
	}

	// Renewing with the dead cookie fails and sets no cookie.
	w = httptest.NewRecorder()
	if _, err := f.m.Renew(w, req("POST", "/", old), nil); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("Renew with the old cookie: error = %v, want invalid_token", err)
	}
	if len(w.Result().Cookies()) != 0 {
		t.Errorf("a failed Renew set a cookie")
	}
}

func TestRenewRefusesAnotherUser(t *testing.T) {
	f := newFixture(t, session.Config{})
	c := f.login(t, alice)
	if _, err := f.m.Renew(httptest.NewRecorder(), req("POST", "/", c), bob); !errors.Is(err, session.ErrInvalidPrincipal) {
		t.Fatalf("Renew as bob: error = %v, want ErrInvalidPrincipal", err)
	}
	if _, err := f.m.Authenticate(req("GET", "/", c)); err != nil {
		t.Errorf("refused renewal broke the session: %v", err)
	}
}

func TestRenewDoesNotExtendTheAbsoluteDeadline(t *testing.T) {
	f := newFixture(t, session.Config{AbsoluteTimeout: time.Hour})
	c := f.login(t, alice)
	for range 5 {
		f.clock.Advance(10 * time.Minute)
		w := httptest.NewRecorder()
		if _, err := f.m.Renew(w, req("POST", "/", c), nil); err != nil {
			t.Fatal(err)
		}
		c = sessionCookie(t, w, f.m.CookieName())
	}
	f.clock.Advance(10 * time.Minute) // one hour after login
	if _, err := f.m.Authenticate(req("GET", "/", c)); !errors.Is(err, auth.ErrTokenExpired) {
		t.Fatalf("renewed session outlived the absolute timeout: error = %v", err)
	}
}

func TestConcurrentRenewalsOfOneSessionYieldOneSession(t *testing.T) {
	f := newFixture(t, session.Config{})
	c := f.login(t, alice)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 20 {
		wg.Go(func() {
			_, err := f.m.Renew(httptest.NewRecorder(), req("POST", "/", c), nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, auth.ErrInvalidToken):
				t.Errorf("Renew: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d concurrent renewals succeeded, want 1", wins)
	}
	if l, _ := f.m.List(context.Background(), alice.Subject); len(l) != 1 {
		t.Errorf("alice has %d sessions, want 1", len(l))
	}
}

func TestCapEvictsTheOldest(t *testing.T) {
	f := newFixture(t, session.Config{MaxSessionsPerUser: 3})
	var cookies []*http.Cookie
	for range 4 {
		cookies = append(cookies, f.login(t, alice))
		f.clock.Advance(time.Second)
	}
	f.login(t, bob)
	if _, err := f.m.Authenticate(req("GET", "/", cookies[0])); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("oldest session after the cap: error = %v, want invalid_token", err)
	}
	for i, c := range cookies[1:] {
		if _, err := f.m.Authenticate(req("GET", "/", c)); err != nil {
			t.Errorf("session %d evicted: %v", i+1, err)
		}
	}
	ev := f.events.ofType(auth.EventSessionRevoked)
	if len(ev) != 1 || ev[0].Reason != "session_limit" || ev[0].Attrs["session_id"] != hashOf(cookies[0].Value) {
		t.Errorf("session_revoked events = %+v, want one for the oldest with reason session_limit", ev)
	}
	if l, _ := f.m.List(context.Background(), alice.Subject); len(l) != 3 {
		t.Errorf("alice lists %d sessions, want 3", len(l))
	}
}

func TestCapRefusesWhenConfigured(t *testing.T) {
	f := newFixture(t, session.Config{MaxSessionsPerUser: 2, OnLimit: session.RefuseNew})
	first := f.login(t, alice)
	f.login(t, alice)
	w := httptest.NewRecorder()
	_, err := f.m.Create(context.Background(), w, alice, session.Meta{})
	if !errors.Is(err, session.ErrLimitReached) || !errors.Is(err, auth.ErrConflict) {
		t.Fatalf("third session: error = %v, want ErrLimitReached as a conflict *auth.Error", err)
	}
	if len(w.Result().Cookies()) != 0 {
		t.Errorf("a refused Create set a cookie")
	}
	if _, err := f.m.Authenticate(req("GET", "/", first)); err != nil {
		t.Errorf("refusal revoked an existing session: %v", err)
	}
}

func TestRevokeOneOthersAll(t *testing.T) {
	f := newFixture(t, session.Config{})
	ctx := context.Background()
	a := make([]*http.Cookie, 4)
	for i := range a {
		a[i] = f.login(t, alice)
	}
	b := f.login(t, bob)
	alive := func(c *http.Cookie) bool {
		_, err := f.m.Authenticate(req("GET", "/", c))
		return err == nil
	}

	// One session, by an administrator.
	if err := f.m.Revoke(ctx, hashOf(a[0].Value)); err != nil {
		t.Fatal(err)
	}
	if alive(a[0]) || !alive(a[1]) {
		t.Fatalf("Revoke(one) did not end exactly that session")
	}
	if err := f.m.Revoke(ctx, hashOf(a[0].Value)); err != nil {
		t.Errorf("revoking it again: %v, want nil", err)
	}
	if err := f.m.Revoke(ctx, "not-an-id"); err != nil {
		t.Errorf("revoking a malformed ID: %v, want nil", err)
	}

	// A user may not end another user's session.
	if err := f.m.RevokeUserSession(ctx, alice.Subject, hashOf(b.Value)); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("alice revoking bob's session: error = %v, want ErrNotFound", err)
	}
	if !alive(b) {
		t.Fatalf("bob's session ended by alice")
	}
	if err := f.m.RevokeUserSession(ctx, alice.Subject, hashOf(a[1].Value)); err != nil || alive(a[1]) {
		t.Fatalf("alice revoking her own session: %v", err)
	}

	// All but the current one.
	n, err := f.m.RevokeOthers(ctx, alice.Subject, hashOf(a[3].Value))
	if err != nil || n != 1 {
		t.Fatalf("RevokeOthers = %d, %v; want 1", n, err)
	}
	if alive(a[2]) || !alive(a[3]) || !alive(b) {
		t.Fatalf("RevokeOthers ended the wrong sessions")
	}

	// All.
	a4 := f.login(t, alice)
	n, err = f.m.RevokeAll(ctx, alice.Subject)
	if err != nil || n != 2 {
		t.Fatalf("RevokeAll = %d, %v; want 2", n, err)
	}
	if alive(a[3]) || alive(a4) || !alive(b) {
		t.Fatalf("RevokeAll ended the wrong sessions")
	}
	if _, err := f.m.RevokeAll(ctx, ""); err == nil {
		t.Errorf("RevokeAll with an empty user ID succeeded")
	}
	reasons := map[string]int{}
	for _, e := range f.events.ofType(auth.EventSessionRevoked) {
		reasons[e.Reason]++
	}
	want := map[string]int{"revoked": 2, "revoke_others": 1, "revoke_all": 2}
	for k, v := range want {
		if reasons[k] != v {
			t.Errorf("session_revoked with reason %q: %d, want %d (all: %v)", k, reasons[k], v, reasons)
		}
	}
}

func TestList(t *testing.T) {
	f := newFixture(t, session.Config{})
	ctx := context.Background()
	first := f.login(t, alice)
	f.clock.Advance(time.Minute)
	second := f.login(t, alice)
	f.login(t, bob)
	list, err := f.m.List(ctx, alice.Subject)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != hashOf(second.Value) || list[1].ID != hashOf(first.Value) {
		t.Fatalf("List = %+v, want alice's two sessions newest first", list)
	}
	s := list[0]
	if s.ClientIP != "198.51.100.4" || s.UserAgent != "test-browser/1.0" || s.AuthMethod != auth.MethodBasic {
		t.Errorf("session info = %+v, want the request meta and auth method", s)
	}
	if !s.CreatedAt.Equal(f.clock.Now()) || !s.ExpiresAt.Equal(f.clock.Now().Add(30*time.Minute)) ||
		!s.AbsoluteExpiresAt.Equal(f.clock.Now().Add(12*time.Hour)) {
		t.Errorf("session times = %+v", s)
	}
	if l, _ := f.m.List(ctx, "u-nobody"); len(l) != 0 {
		t.Errorf("List(nobody) = %v", l)
	}
	f.clock.Advance(30 * time.Minute) // the first session is idle for 31 minutes
	list, _ = f.m.List(ctx, alice.Subject)
	if len(list) != 0 {
		t.Errorf("List after both went idle = %+v, want none", list)
	}
}

func TestMetaOverridesRequestMeta(t *testing.T) {
	f := newFixture(t, session.Config{})
	ctx := auth.WithRequestMeta(context.Background(), auth.RequestMeta{ClientIP: "10.0.0.1", UserAgent: "ua"})
	long := strings.Repeat("é", 400)
	if _, err := f.m.Create(ctx, httptest.NewRecorder(), alice, session.Meta{ClientIP: "192.0.2.9", UserAgent: long, AuthMethod: auth.MethodOAuth2}); err != nil {
		t.Fatal(err)
	}
	l, _ := f.m.List(context.Background(), alice.Subject)
	if len(l) != 1 || l[0].ClientIP != "192.0.2.9" || l[0].AuthMethod != auth.MethodOAuth2 {
		t.Fatalf("List = %+v", l)
	}
	if ua := l[0].UserAgent; len(ua) > 512 || !strings.HasPrefix(long, ua) || !utf8Valid(ua) {
		t.Errorf("user agent kept as %d bytes, want at most 512 without a split character", len(ua))
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestCreateRejectsPrincipalWithoutSubject(t *testing.T) {
	f := newFixture(t, session.Config{})
	for _, p := range []*auth.Principal{nil, {Username: "ghost"}} {
		w := httptest.NewRecorder()
		if _, err := f.m.Create(context.Background(), w, p, session.Meta{}); !errors.Is(err, session.ErrInvalidPrincipal) {
			t.Errorf("Create(%v): error = %v, want ErrInvalidPrincipal", p, err)
		}
		if len(w.Result().Cookies()) != 0 {
			t.Errorf("Create(%v) set a cookie", p)
		}
	}
}

func TestLogout(t *testing.T) {
	f := newFixture(t, session.Config{})
	c := f.login(t, alice)
	other := f.login(t, alice)
	if err := f.m.Logout(httptest.NewRecorder(), req("POST", "/logout", c)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Authenticate(req("GET", "/", c)); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("after logout: error = %v, want invalid_token", err)
	}
	if _, err := f.m.Authenticate(req("GET", "/", other)); err != nil {
		t.Errorf("logout ended another session: %v", err)
	}
	ev := f.events.ofType(auth.EventSessionRevoked)
	if len(ev) != 1 || ev[0].Reason != "logout" {
		t.Errorf("events = %+v, want one session_revoked with reason logout", ev)
	}
	// Without a session it still clears the cookie.
	w := httptest.NewRecorder()
	if err := f.m.Logout(w, req("POST", "/logout", nil)); err != nil {
		t.Fatal(err)
	}
	if gone := sessionCookie(t, w, f.m.CookieName()); gone.MaxAge >= 0 {
		t.Errorf("logout without a session did not clear the cookie")
	}
	// A cross-site logout is refused: another site cannot log users out.
	err := f.m.Logout(httptest.NewRecorder(), req("POST", "/logout", other, "Sec-Fetch-Site", "cross-site"))
	if !errors.Is(err, session.ErrCrossOrigin) {
		t.Errorf("cross-site logout: error = %v, want ErrCrossOrigin", err)
	}
	if _, err := f.m.Authenticate(req("GET", "/", other)); err != nil {
		t.Errorf("cross-site logout ended the session: %v", err)
	}
}

func TestEventsCarryNoSecret(t *testing.T) {
	f := newFixture(t, session.Config{MaxSessionsPerUser: 1})
	c := f.login(t, alice)
	w := httptest.NewRecorder()
	if _, err := f.m.Renew(w, req("POST", "/", c), nil); err != nil {
		t.Fatal(err)
	}
	c2 := sessionCookie(t, w, f.m.CookieName())
	c3 := f.login(t, alice) // evicts c2
	f.clock.Advance(time.Hour)
	_, _ = f.m.Authenticate(req("GET", "/", c3)) // expired
	events := f.events.take()
	var types []auth.EventType
	for _, e := range events {
		types = append(types, e.Type)
		dump := e.Reason + e.Subject + e.Username + e.ClientIP + e.UserAgent + e.RequestID
		for k, v := range e.Attrs {
			dump += k + v
		}
		for _, secret := range []string{c.Value, c2.Value, c3.Value} {
			if strings.Contains(dump, secret) {
				t.Errorf("event %s contains a cookie value", e.Type)
			}
		}
		if e.Method != auth.MethodSession || e.Subject != alice.Subject {
			t.Errorf("event %s: Method=%q Subject=%q", e.Type, e.Method, e.Subject)
		}
	}
	want := []auth.EventType{
		auth.EventSessionCreated, auth.EventSessionRenewed, auth.EventSessionCreated,
		auth.EventSessionRevoked, auth.EventSessionExpired,
	}
	if !slices.Equal(types, want) {
		t.Errorf("event types = %v, want %v", types, want)
	}
	if events[0].ClientIP != "198.51.100.4" || events[0].RequestID != "req-1" || events[0].Attrs["auth_method"] != "basic" {
		t.Errorf("session_created = %+v, want the request meta and auth method", events[0])
	}
}
