package authclient_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/middleware"
)

// authPrefix is where the fake mounts the auth API, as the reference server
// does.
const authPrefix = "/api/v1/auth"

// fakeAPI implements just enough of the auth API contract (DESIGN.md §4)
// for the client's tests, plus a protected host route GET /api/v1/data. Its
// access tokens expire by its own clock (time.Now, fake inside a synctest
// bubble) or when the test says so.
type fakeAPI struct {
	accessTTL  time.Duration
	refreshTTL time.Duration

	logins, mfaLogins, refreshes atomic.Int64
	expired401                   atomic.Int64 // token_expired answers on the data route
	dataHits                     atomic.Int64

	// onExpired, when set, runs before the data route answers
	// token_expired (the concurrency test parks requests there).
	onExpired func()

	// mu guards everything below.
	mu       sync.Mutex
	seq      int
	users    map[string]*fakeUser
	access   map[string]*fakeAccess
	refresh  map[string]*fakeRefresh
	revoked  map[int]bool // refresh families
	mfaToks  map[string]string
	keys     map[string]*fakeKey // by plaintext key
	revokes  []string            // tokens sent to /revoke
	sessions []map[string]any
	lastBody map[string]string // last raw request body per route pattern
}

type fakeUser struct {
	id, password, mfaCode, role string
	perms                       []string
}

type fakeAccess struct {
	user    string
	exp     time.Time
	expired bool
	revoked bool
}

type fakeRefresh struct {
	user   string
	family int
	used   bool
	exp    time.Time
}

type fakeKey struct {
	id, user, name string
	perms          []string
	revoked        bool
}

func newFakeAPI() *fakeAPI {
	return &fakeAPI{
		accessTTL:  15 * time.Minute,
		refreshTTL: 24 * time.Hour,
		users: map[string]*fakeUser{
			"operator_001": {id: "u1", password: "correct horse battery", role: "operator",
				perms: []string{"predictions:read", "alerts:read", "sensors:read"}},
			"engineer_001": {id: "u2", password: "anvil quench furnace", role: "engineer", mfaCode: "123456",
				perms: []string{"predictions:read", "predictions:write", "models:deploy"}},
		},
		access:   map[string]*fakeAccess{},
		refresh:  map[string]*fakeRefresh{},
		revoked:  map[int]bool{},
		mfaToks:  map[string]string{},
		keys:     map[string]*fakeKey{},
		lastBody: map[string]string{},
		sessions: []map[string]any{{"id": "s1", "client_ip": "192.0.2.7", "current": true,
			"created_at": "2026-11-22T08:00:00Z"}},
	}
}

// server starts the fake on a real httptest.Server.
func (f *fakeAPI) server(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(f.handler())
	t.Cleanup(srv.Close)
	return srv
}

// expireAccess makes every access token issued so far expired.
func (f *fakeAPI) expireAccess() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.access {
		a.expired = true
	}
}

// revokeFamilies revokes every refresh token family issued so far.
func (f *fakeAPI) revokeFamilies() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.refresh {
		f.revoked[r.family] = true
	}
}

// restart forgets every token, as an in-memory server does when it
// restarts with a new signing key.
func (f *fakeAPI) restart() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.access = map[string]*fakeAccess{}
	f.refresh = map[string]*fakeRefresh{}
}

func (f *fakeAPI) body(pattern string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastBody[pattern]
}

func (f *fakeAPI) revokedTokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.revokes...)
}

func (f *fakeAPI) handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, authed bool, h func(w http.ResponseWriter, r *http.Request, user string, in map[string]any)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			raw, _ := io.ReadAll(r.Body)
			f.mu.Lock()
			f.lastBody[pattern] = string(raw)
			f.mu.Unlock()
			var in map[string]any
			if len(raw) > 0 {
				if ct := r.Header.Get("Content-Type"); ct != "application/json" {
					writeErr(w, r, &auth.Error{Code: auth.CodeInvalidRequest, Description: "content type " + ct})
					return
				}
				if err := json.Unmarshal(raw, &in); err != nil {
					writeErr(w, r, auth.NewError(auth.CodeInvalidRequest, "malformed JSON"))
					return
				}
			}
			var user string
			if authed {
				u, err := f.authenticate(r)
				if err != nil {
					writeErr(w, r, err)
					return
				}
				user = u
			}
			h(w, r, user, in)
		})
	}
	p := authPrefix

	route("POST "+p+"/login", false, func(w http.ResponseWriter, r *http.Request, _ string, in map[string]any) {
		f.logins.Add(1)
		name, _ := in["username"].(string)
		pass, _ := in["password"].(string)
		f.mu.Lock()
		u := f.users[name]
		f.mu.Unlock()
		if u == nil || u.password != pass {
			writeErr(w, r, auth.NewError(auth.CodeInvalidCredentials, "invalid username or password"))
			return
		}
		if u.mfaCode != "" {
			f.mu.Lock()
			f.seq++
			tok := fmt.Sprintf("mfa-%d-secretchallenge", f.seq)
			f.mfaToks[tok] = name
			f.mu.Unlock()
			writeErr(w, r, &auth.Error{Code: auth.CodeMFARequired,
				Details: map[string]any{"mfa_token": tok, "methods": []string{"totp", "backup_code"}}})
			return
		}
		f.issue(w, name, 0)
	})
	route("POST "+p+"/login/mfa", false, func(w http.ResponseWriter, r *http.Request, _ string, in map[string]any) {
		f.mfaLogins.Add(1)
		tok, _ := in["mfa_token"].(string)
		code, _ := in["code"].(string)
		f.mu.Lock()
		name, ok := f.mfaToks[tok]
		delete(f.mfaToks, tok)
		u := f.users[name]
		f.mu.Unlock()
		if !ok || code != u.mfaCode {
			writeErr(w, r, auth.NewError(auth.CodeInvalidCredentials, "invalid code"))
			return
		}
		f.issue(w, name, 0)
	})
	route("POST "+p+"/refresh", false, func(w http.ResponseWriter, r *http.Request, _ string, in map[string]any) {
		f.refreshes.Add(1)
		tok, _ := in["refresh_token"].(string)
		f.mu.Lock()
		rt := f.refresh[tok]
		switch {
		case rt == nil || f.revoked[rt.family] || time.Now().After(rt.exp):
			f.mu.Unlock()
			writeErr(w, r, auth.NewError(auth.CodeInvalidToken, "refresh token invalid"))
			return
		case rt.used: // reuse: revoke the family
			f.revoked[rt.family] = true
			f.mu.Unlock()
			writeErr(w, r, auth.NewError(auth.CodeInvalidToken, "refresh token reused"))
			return
		}
		rt.used = true
		f.mu.Unlock()
		f.issue(w, rt.user, rt.family)
	})
	route("GET "+p+"/me", true, func(w http.ResponseWriter, r *http.Request, user string, _ map[string]any) {
		f.mu.Lock()
		u := f.users[user]
		f.mu.Unlock()
		writeJSON(w, 200, map[string]any{"id": u.id, "username": user, "email": user + "@steelplant.example",
			"role": u.role, "permissions": u.perms, "auth_method": "jwt",
			"mfa": map[string]any{"enabled": u.mfaCode != "", "methods": []string{}}})
	})
	route("GET "+p+"/token/info", true, func(w http.ResponseWriter, r *http.Request, user string, _ map[string]any) {
		writeJSON(w, 200, map[string]any{"jti": "j-1", "subject": user, "token_type": "access",
			"issued_at": "2026-11-22T08:00:00Z", "expires_at": "2026-11-22T08:15:00Z"})
	})
	route("POST "+p+"/revoke", true, func(w http.ResponseWriter, r *http.Request, _ string, in map[string]any) {
		tok, _ := in["token"].(string)
		f.mu.Lock()
		f.revokes = append(f.revokes, tok)
		if a := f.access[tok]; a != nil {
			a.revoked = true
		}
		if rt := f.refresh[tok]; rt != nil {
			f.revoked[rt.family] = true
		}
		f.mu.Unlock()
		writeJSON(w, 200, map[string]any{})
	})
	route("POST "+p+"/revoke-all", true, func(w http.ResponseWriter, r *http.Request, user string, _ map[string]any) {
		f.mu.Lock()
		for _, a := range f.access {
			if a.user == user {
				a.revoked = true
			}
		}
		for _, rt := range f.refresh {
			if rt.user == user {
				f.revoked[rt.family] = true
			}
		}
		f.mu.Unlock()
		writeJSON(w, 200, map[string]any{})
	})
	route("POST "+p+"/api-keys", true, func(w http.ResponseWriter, r *http.Request, user string, in map[string]any) {
		name, _ := in["name"].(string)
		var perms []string
		for _, p := range in["permissions"].([]any) {
			perms = append(perms, p.(string))
		}
		writeJSON(w, 201, f.newKey(user, name, perms))
	})
	route("GET "+p+"/api-keys", true, func(w http.ResponseWriter, r *http.Request, user string, _ map[string]any) {
		var list []map[string]any
		f.mu.Lock()
		for _, k := range f.keys {
			if k.user == user && !k.revoked {
				list = append(list, map[string]any{"id": k.id, "name": k.name, "permissions": k.perms, "prefix": "gk_" + k.id})
			}
		}
		f.mu.Unlock()
		writeJSON(w, 200, map[string]any{"api_keys": list})
	})
	route("GET "+p+"/api-keys/{id}", true, func(w http.ResponseWriter, r *http.Request, user string, _ map[string]any) {
		if k := f.keyByID(user, r.PathValue("id")); k != nil {
			writeJSON(w, 200, map[string]any{"id": k.id, "name": k.name, "permissions": k.perms, "prefix": "gk_" + k.id})
			return
		}
		writeErr(w, r, auth.NewError(auth.CodeNotFound, "no such key"))
	})
	route("DELETE "+p+"/api-keys/{id}", true, func(w http.ResponseWriter, r *http.Request, user string, _ map[string]any) {
		if k := f.keyByID(user, r.PathValue("id")); k != nil {
			f.mu.Lock()
			k.revoked = true
			f.mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	})
	route("POST "+p+"/api-keys/{id}/rotate", true, func(w http.ResponseWriter, r *http.Request, user string, _ map[string]any) {
		k := f.keyByID(user, r.PathValue("id"))
		if k == nil {
			writeErr(w, r, auth.NewError(auth.CodeNotFound, "no such key"))
			return
		}
		f.mu.Lock()
		k.revoked = true
		f.mu.Unlock()
		writeJSON(w, 200, f.newKey(user, k.name, k.perms))
	})
	route("POST "+p+"/mfa/setup", true, func(w http.ResponseWriter, r *http.Request, _ string, _ map[string]any) {
		writeJSON(w, 200, map[string]any{"secret": "JBSWY3DPEHPK3PXP", "otpauth_url": "otpauth://totp/gatehouse:x?secret=JBSWY3DPEHPK3PXP",
			"qr_code": "data:image/png;base64,iVBOR", "backup_codes": []string{"backup-aaaa", "backup-bbbb"}})
	})
	route("POST "+p+"/mfa/verify", true, func(w http.ResponseWriter, r *http.Request, _ string, in map[string]any) {
		if in["code"] != "654321" {
			writeErr(w, r, auth.NewError(auth.CodeInvalidCredentials, "invalid code"))
			return
		}
		writeJSON(w, 200, map[string]any{"enabled": true})
	})
	route("POST "+p+"/mfa/disable", true, func(w http.ResponseWriter, r *http.Request, _ string, _ map[string]any) {
		writeJSON(w, 200, map[string]any{"enabled": false})
	})
	route("POST "+p+"/password/change", true, func(w http.ResponseWriter, r *http.Request, user string, in map[string]any) {
		f.mu.Lock()
		u := f.users[user]
		if in["old_password"] != u.password {
			f.mu.Unlock()
			writeErr(w, r, auth.NewError(auth.CodeInvalidCredentials, "wrong password"))
			return
		}
		u.password, _ = in["new_password"].(string)
		for _, a := range f.access {
			if a.user == user {
				a.revoked = true
			}
		}
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	route("GET "+p+"/sessions", true, func(w http.ResponseWriter, r *http.Request, _ string, _ map[string]any) {
		f.mu.Lock()
		s := f.sessions
		f.mu.Unlock()
		writeJSON(w, 200, s)
	})
	route("DELETE "+p+"/sessions/{id}", true, func(w http.ResponseWriter, r *http.Request, _ string, _ map[string]any) {
		f.mu.Lock()
		f.sessions = nil
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	route("/api/v1/data", true, func(w http.ResponseWriter, r *http.Request, user string, in map[string]any) {
		f.dataHits.Add(1)
		writeJSON(w, 200, map[string]any{"user": user, "method": r.Method, "body": in})
	})
	return mux
}

// authenticate checks a Bearer token or an API key, answering token_expired
// for an expired access token.
func (f *fakeAPI) authenticate(r *http.Request) (string, error) {
	if key := r.Header.Get("X-API-Key"); key != "" {
		f.mu.Lock()
		defer f.mu.Unlock()
		if k := f.keys[key]; k != nil && !k.revoked {
			return k.user, nil
		}
		return "", auth.NewError(auth.CodeInvalidCredentials, "invalid API key")
	}
	tok, err := auth.BearerToken(r)
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	a := f.access[tok]
	var expired bool
	if a != nil {
		expired = a.expired || !time.Now().Before(a.exp)
	}
	f.mu.Unlock()
	switch {
	case a == nil:
		return "", auth.NewError(auth.CodeInvalidToken, "unknown token")
	case a.revoked:
		return "", auth.NewError(auth.CodeTokenRevoked, "")
	case expired:
		if strings.HasPrefix(r.URL.Path, "/api/v1/data") {
			f.expired401.Add(1)
			if f.onExpired != nil {
				f.onExpired()
			}
		}
		return "", auth.NewError(auth.CodeTokenExpired, "")
	}
	return a.user, nil
}

// issue writes a new token pair for user, in refresh family fam (0: new).
func (f *fakeAPI) issue(w http.ResponseWriter, user string, fam int) {
	f.mu.Lock()
	f.seq++
	if fam == 0 {
		fam = f.seq
	}
	at := fmt.Sprintf("at-%d.%s", f.seq, user)
	rt := fmt.Sprintf("rt-%d.%s", f.seq, user)
	now := time.Now()
	f.access[at] = &fakeAccess{user: user, exp: now.Add(f.accessTTL)}
	f.refresh[rt] = &fakeRefresh{user: user, family: fam, exp: now.Add(f.refreshTTL)}
	f.mu.Unlock()
	writeJSON(w, 200, map[string]any{"access_token": at, "refresh_token": rt, "token_type": "Bearer",
		"expires_in": int(f.accessTTL / time.Second), "refresh_expires_in": int(f.refreshTTL / time.Second)})
}

func (f *fakeAPI) newKey(user, name string, perms []string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	id := fmt.Sprintf("k%d", f.seq)
	plain := fmt.Sprintf("gk_%s_s3cr3tK3yMaterial", id)
	f.keys[plain] = &fakeKey{id: id, user: user, name: name, perms: perms}
	return map[string]any{"api_key": plain, "id": id, "name": name, "prefix": "gk_" + id,
		"permissions": perms, "created_at": "2026-11-22T08:00:00Z", "expires_at": nil}
}

func (f *fakeAPI) keyByID(user, id string) *fakeKey {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range f.keys {
		if k.id == id && k.user == user {
			return k
		}
	}
	return nil
}

// addKey registers a plaintext key for user, as if created earlier.
func (f *fakeAPI) addKey(user, plain string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[plain] = &fakeKey{id: "kx", user: user, name: "preset"}
}

func writeErr(w http.ResponseWriter, r *http.Request, err error) { middleware.WriteError(w, r, err) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// handlerTransport serves requests in memory with h: no sockets, so a
// synctest bubble sees every goroutine block durably and its fake clock
// advances through waits at once.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	sr := r.Clone(r.Context())
	sr.RequestURI = r.URL.RequestURI()
	sr.RemoteAddr = "192.0.2.1:40000"
	if sr.Body == nil {
		sr.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, sr)
	if r.Body != nil {
		_ = r.Body.Close()
	}
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// recordingTransport counts the requests a base transport sends, by
// method and path, and remembers their headers.
type recordingTransport struct {
	next http.RoundTripper
	mu   sync.Mutex // guards seen
	seen []*http.Request
}

func (t *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.mu.Lock()
	t.seen = append(t.seen, r.Clone(r.Context()))
	t.mu.Unlock()
	return t.next.RoundTrip(r)
}

func (t *recordingTransport) requests() []*http.Request {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]*http.Request(nil), t.seen...)
}
