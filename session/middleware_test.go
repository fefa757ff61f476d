package session_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/middleware"
	"github.com/gatehouse-auth/gatehouse/session"
)

// counter is a handler that increments "visits" in the session bag and
// writes the new count.
func counter(m *session.Manager) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, ok := m.Data(r.Context())
		if !ok {
			_, _ = io.WriteString(w, "no session")
			return
		}
		n, _ := d.Int("visits")
		d.SetInt("visits", n+1)
		_, _ = io.WriteString(w, strconv.FormatInt(n+1, 10))
	})
}

func TestLoadAndSaveKeepsDataAcrossRequests(t *testing.T) {
	f := newFixture(t, session.Config{})
	c := f.login(t, alice)
	h := f.m.LoadAndSave(counter(f.m))
	for want := 1; want <= 3; want++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req("GET", "/", c))
		if w.Body.String() != strconv.Itoa(want) {
			t.Fatalf("visit %d: body %q", want, w.Body)
		}
		if !strings.Contains(strings.Join(w.Header().Values("Vary"), ","), "Cookie") {
			t.Errorf("response lacks Vary: Cookie")
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req("GET", "/", nil))
	if w.Body.String() != "no session" {
		t.Errorf("without a cookie: body %q", w.Body)
	}
	// Another session has its own bag.
	other := f.login(t, alice)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req("GET", "/", other))
	if w.Body.String() != "1" {
		t.Errorf("second session: body %q, want a fresh bag", w.Body)
	}
}

func TestLoadAndSaveWritesOnlyWhenNeeded(t *testing.T) {
	f := newFixture(t, session.Config{})
	c := f.login(t, alice)
	reader := f.m.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, _ := f.m.Data(r.Context())
		_, _ = d.String("anything")
	}))
	for range 10 {
		reader.ServeHTTP(httptest.NewRecorder(), req("GET", "/", c))
	}
	if n := f.store.updates.Load(); n != 0 {
		t.Errorf("%d store writes for read-only requests, want 0", n)
	}
	// When a touch is due and the data changed, one write does both.
	f.clock.Advance(2 * time.Minute)
	f.m.LoadAndSave(counter(f.m)).ServeHTTP(httptest.NewRecorder(), req("GET", "/", c))
	if n := f.store.updates.Load(); n != 1 {
		t.Errorf("%d store writes for a due touch plus a data change, want 1", n)
	}
	rec, _ := f.mem.Get(context.Background(), hashOf(c.Value))
	if !rec.LastSeenAt.Equal(f.clock.Now()) || rec.Data != `{"visits":"1"}` {
		t.Errorf("record after the write: LastSeenAt=%v Data=%q", rec.LastSeenAt, rec.Data)
	}
}

func TestAuthenticateInsideLoadAndSaveReadsTheStoreOnce(t *testing.T) {
	f := newFixture(t, session.Config{})
	c := f.login(t, alice)
	h := f.m.LoadAndSave(middleware.Authenticate([]auth.Authenticator{f.m})(counter(f.m)))
	before := f.store.gets.Load()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req("POST", "/", c, "Sec-Fetch-Site", "same-origin"))
	if w.Code != 200 || w.Body.String() != "1" {
		t.Fatalf("status %d body %q", w.Code, w.Body)
	}
	if n := f.store.gets.Load() - before; n != 1 {
		t.Errorf("%d store reads for one request, want 1", n)
	}
	// The rejections are the same as without LoadAndSave.
	for _, tc := range []struct {
		name   string
		r      *http.Request
		status int
	}{
		{"cross-site POST", req("POST", "/", c, "Sec-Fetch-Site", "cross-site"), 403},
		{"no cookie", req("GET", "/", nil), 401},
		{"unknown cookie", req("GET", "/", &http.Cookie{Name: c.Name, Value: strings.Repeat("A", 43)}), 401},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, tc.r)
		if w.Code != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, w.Code, tc.status)
		}
	}
}

func TestLoadAndSaveReportsSaveFailureBeforeTheResponse(t *testing.T) {
	f := newFixture(t, session.Config{})
	c := f.login(t, alice)
	down := errors.New("redis: connection reset")
	f.store.failUpdate.Store(&down)
	var writeErr error
	h := f.m.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, _ := f.m.Data(r.Context())
		d.SetString("cart", "42")
		_, writeErr = io.WriteString(w, "saved!")
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req("GET", "/", c))
	if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "saved!") {
		t.Fatalf("status %d body %q, want 503 without the handler's body", w.Code, w.Body)
	}
	if writeErr == nil {
		t.Errorf("the handler's Write succeeded after the save failed")
	}
	if strings.Contains(w.Body.String(), "redis") {
		t.Errorf("internal error text reached the client: %s", w.Body)
	}
}

func TestLoadAndSaveRejectsOversizedData(t *testing.T) {
	f := newFixture(t, session.Config{MaxDataSize: 64})
	c := f.login(t, alice)
	h := f.m.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, _ := f.m.Data(r.Context())
		d.SetString("blob", strings.Repeat("x", 100))
		w.WriteHeader(http.StatusNoContent)
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req("GET", "/", c))
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want the default error handler's 503", w.Code)
	}
	rec, _ := f.mem.Get(context.Background(), hashOf(c.Value))
	if rec.Data != "" {
		t.Errorf("oversized data reached the store: %q", rec.Data)
	}
}

func TestLoadAndSaveErrorHandlerSeesTheCause(t *testing.T) {
	var got error
	f := newFixture(t, session.Config{
		MaxDataSize: 32,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			w.WriteHeader(http.StatusInternalServerError)
		},
	})
	c := f.login(t, alice)
	h := f.m.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, _ := f.m.Data(r.Context())
		d.SetString("blob", strings.Repeat("x", 100))
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req("GET", "/", c))
	if !errors.Is(got, session.ErrDataTooLarge) || w.Code != http.StatusInternalServerError {
		t.Errorf("error handler saw %v (status %d), want ErrDataTooLarge", got, w.Code)
	}
}

func TestLoadAndSaveStoreFailureOnLoad(t *testing.T) {
	f := newFixture(t, session.Config{})
	c := f.login(t, alice)
	down := errors.New("pq: the database system is shutting down")
	f.store.failGet.Store(&down)
	called := false
	h := f.m.LoadAndSave(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req("GET", "/", c))
	if called || w.Code != http.StatusServiceUnavailable {
		t.Errorf("handler called=%v status=%d, want not called and 503", called, w.Code)
	}
}

func TestLoginInsideLoadAndSaveEndsThePreviousSession(t *testing.T) {
	f := newFixture(t, session.Config{})
	old := f.login(t, alice)
	var created *auth.Principal
	loginAs := func(p *auth.Principal) http.Handler {
		return f.m.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			np, err := f.m.Create(r.Context(), w, p, session.Meta{})
			if err != nil {
				t.Errorf("Create: %v", err)
				return
			}
			created = np
			d, ok := f.m.Data(r.Context())
			if !ok || len(d.Keys()) != 0 {
				t.Errorf("the new session's bag is missing or not empty")
				return
			}
			d.SetString("welcome", "yes")
		}))
	}

	w := httptest.NewRecorder()
	loginAs(alice).ServeHTTP(w, req("POST", "/login", old))
	fresh := sessionCookie(t, w, f.m.CookieName())
	if _, err := f.m.Authenticate(req("GET", "/", old)); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("previous session after logging in again: error = %v, want invalid_token", err)
	}
	if created.CredentialID != hashOf(fresh.Value) {
		t.Errorf("Create returned CredentialID %q, not the new session", created.CredentialID)
	}
	rec, err := f.mem.Get(context.Background(), hashOf(fresh.Value))
	if err != nil || rec.Data != `{"welcome":"yes"}` {
		t.Errorf("new session record = %+v, %v; want the data saved into it", rec, err)
	}
	if ev := f.events.ofType(auth.EventSessionRevoked); len(ev) != 1 || ev[0].Reason != "replaced" {
		t.Errorf("session_revoked events = %+v, want one with reason replaced", ev)
	}

	// Logging in as someone else on the same browser ends alice's session too.
	w = httptest.NewRecorder()
	loginAs(bob).ServeHTTP(w, req("POST", "/login", fresh))
	if _, err := f.m.Authenticate(req("GET", "/", fresh)); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("alice's session after bob logged in on the same browser: error = %v", err)
	}
	if l, _ := f.m.List(context.Background(), alice.Subject); len(l) != 0 {
		t.Errorf("alice still has sessions: %+v", l)
	}
}

func TestRenewInsideLoadAndSaveKeepsData(t *testing.T) {
	f := newFixture(t, session.Config{})
	c := f.login(t, alice)
	f.m.LoadAndSave(counter(f.m)).ServeHTTP(httptest.NewRecorder(), req("GET", "/", c))

	w := httptest.NewRecorder()
	f.m.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, _ := f.m.Data(r.Context())
		d.SetBool("mfa_done", true)
		if _, err := f.m.Renew(w, r, nil); err != nil {
			t.Errorf("Renew: %v", err)
		}
		d.SetString("after", "renew")
	})).ServeHTTP(w, req("POST", "/mfa/verify", c))
	fresh := sessionCookie(t, w, f.m.CookieName())

	rec, err := f.mem.Get(context.Background(), hashOf(fresh.Value))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Data != `{"after":"renew","mfa_done":"true","visits":"1"}` {
		t.Errorf("renewed session data = %q", rec.Data)
	}
	if _, err := f.mem.Get(context.Background(), hashOf(c.Value)); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("old session still stored after Renew")
	}
}

func TestLogoutInsideLoadAndSave(t *testing.T) {
	f := newFixture(t, session.Config{})
	c := f.login(t, alice)
	w := httptest.NewRecorder()
	f.m.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f.m.Logout(w, r); err != nil {
			t.Errorf("Logout: %v", err)
		}
		if _, ok := f.m.Data(r.Context()); ok {
			t.Errorf("data still available after logout")
		}
		if _, err := f.m.Authenticate(r); !errors.Is(err, auth.ErrNoCredentials) {
			t.Errorf("Authenticate after logout in the same request: %v", err)
		}
	})).ServeHTTP(w, req("POST", "/logout", c))
	if f.mem.Len() != 0 {
		t.Errorf("session still stored after logout")
	}
	if f.store.updates.Load() != 0 {
		t.Errorf("LoadAndSave wrote to a session ended during the request")
	}
}

func TestLoadAndSaveSkipsCrossOriginAndTokenRequests(t *testing.T) {
	f := newFixture(t, session.Config{})
	c := f.login(t, alice)
	h := f.m.LoadAndSave(counter(f.m))
	for _, r := range []*http.Request{
		req("POST", "/", c, "Sec-Fetch-Site", "cross-site"),
		req("POST", "/", c, "Authorization", "Bearer t"),
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Body.String() != "no session" {
			t.Errorf("%v: session loaded (body %q)", r.Header, w.Body)
		}
	}
	rec, _ := f.mem.Get(context.Background(), hashOf(c.Value))
	if rec.Data != "" {
		t.Errorf("a cross-site request changed the session data: %q", rec.Data)
	}
}

func TestSaveWriterSupportsFlushAndUnwrap(t *testing.T) {
	f := newFixture(t, session.Config{})
	c := f.login(t, alice)
	w := httptest.NewRecorder()
	f.m.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, _ := f.m.Data(r.Context())
		d.SetString("k", "v")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush through the controller: %v", err)
		}
	})).ServeHTTP(w, req("GET", "/", c))
	if !w.Flushed {
		t.Errorf("response not flushed")
	}
	rec, _ := f.mem.Get(context.Background(), hashOf(c.Value))
	if rec.Data != `{"k":"v"}` {
		t.Errorf("data not saved before the flush: %q", rec.Data)
	}
}

func TestOneSessionCookiePerResponse(t *testing.T) {
	f := newFixture(t, session.Config{})
	w := httptest.NewRecorder()
	http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark"})
	r := httptest.NewRequest("POST", "https://plant.example/login", nil)
	if _, err := f.m.Create(r.Context(), w, alice, session.Meta{}); err != nil {
		t.Fatal(err)
	}
	first := sessionCookie(t, w, f.m.CookieName())
	r.AddCookie(first)
	if _, err := f.m.Renew(w, r, nil); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range (&http.Response{Header: w.Header()}).Cookies() {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "theme,"+f.m.CookieName() {
		t.Fatalf("cookies set = %v, want the host's cookie and one session cookie", names)
	}
	if last := sessionCookie(t, w, f.m.CookieName()); last.Value == first.Value {
		t.Errorf("the session cookie left is the one Renew replaced")
	}
}

func TestLoadAndSaveOverwritesUnreadableData(t *testing.T) {
	f := newFixture(t, session.Config{})
	c := f.login(t, alice)
	id := hashOf(c.Value)
	if err := f.mem.Update(context.Background(), id, session.Update{Now: f.clock.Now(), ReplaceData: true, Data: "{not json"}); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	f.m.LoadAndSave(counter(f.m)).ServeHTTP(w, req("GET", "/", c))
	if w.Body.String() != "1" {
		t.Fatalf("body %q, want a fresh bag", w.Body)
	}
	if rec, _ := f.mem.Get(context.Background(), id); rec.Data != `{"visits":"1"}` {
		t.Errorf("stored data = %q, want the unreadable bag replaced", rec.Data)
	}
}
