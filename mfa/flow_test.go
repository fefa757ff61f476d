package mfa_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/internal/secure"
	"github.com/gatehouse-auth/gatehouse/mfa"
	"github.com/gatehouse-auth/gatehouse/middleware"
)

// loginServer is a test-only host: a stubbed password step, the MFA
// challenge, opaque bearer tokens carrying the principal, and a deploy route
// behind RequireRecentMFA.
type loginServer struct {
	m     *mfa.Manager
	clock *clock
	users map[string]mfa.User // by username
	pass  map[string]string   // username -> password

	mu     sync.Mutex // guards tokens
	tokens map[string]*auth.Principal
}

func (s *loginServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /login/mfa", s.loginMFA)
	bearer := auth.AuthenticatorFunc(func(r *http.Request) (*auth.Principal, error) {
		tok, err := auth.BearerToken(r)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if p, ok := s.tokens[tok]; ok {
			return p, nil
		}
		return nil, auth.NewError(auth.CodeInvalidToken, "")
	})
	deploy := middleware.RequireRecentMFA(5*time.Minute, middleware.MFANow(s.clock.Now))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"deployed":true}`) }))
	mux.Handle("POST /api/v1/models/deploy", middleware.Authenticate([]auth.Authenticator{bearer})(deploy))
	return mux
}

func (s *loginServer) issue(w http.ResponseWriter, u mfa.User, st auth.MFAState, extra map[string]any) {
	tok := secure.Token(32)
	s.mu.Lock()
	s.tokens[tok] = &auth.Principal{Subject: u.ID, Username: u.Name, Roles: u.Roles, Method: auth.MethodJWT, MFA: st}
	s.mu.Unlock()
	body := map[string]any{"access_token": tok, "amr": st.Methods}
	if st.Verified {
		body["auth_time"] = st.VerifiedAt.Unix()
	}
	for k, v := range extra {
		body[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func (s *loginServer) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
		MFACode  string `json:"mfa_code"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		middleware.WriteError(w, r, auth.NewError(auth.CodeInvalidRequest, ""))
		return
	}
	u, ok := s.users[in.Username]
	if !ok || !secure.Equal(s.pass[in.Username], in.Password) {
		middleware.WriteError(w, r, auth.NewError(auth.CodeInvalidCredentials, ""))
		return
	}
	ctx := r.Context()
	d, err := s.m.Decide(ctx, u)
	switch {
	case err != nil:
		middleware.WriteError(w, r, err)
	case d.GraceExpired:
		middleware.WriteError(w, r, auth.NewError(auth.CodeMFARequired, "enrol a second factor first"))
	case d.Challenge && in.MFACode != "":
		res, err := s.m.Verify(ctx, u.ID, in.MFACode, "pwd")
		if err != nil {
			middleware.WriteError(w, r, err)
			return
		}
		s.issue(w, u, res.MFA, nil)
	case d.Challenge:
		ch, err := s.m.Challenge(ctx, u, "pwd")
		if err != nil {
			middleware.WriteError(w, r, err)
			return
		}
		middleware.WriteError(w, r, ch.AuthError())
	default:
		var extra map[string]any
		if d.MustEnroll {
			extra = map[string]any{"mfa_enroll_by": d.EnrollBy.Format(time.RFC3339)}
		}
		s.issue(w, u, auth.MFAState{Methods: []string{"pwd"}}, extra)
	}
}

func (s *loginServer) loginMFA(w http.ResponseWriter, r *http.Request) {
	var in struct {
		MFAToken string `json:"mfa_token"`
		Code     string `json:"code"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		middleware.WriteError(w, r, auth.NewError(auth.CodeInvalidRequest, ""))
		return
	}
	res, err := s.m.Complete(r.Context(), in.MFAToken, in.Code)
	if err != nil {
		middleware.WriteError(w, r, err)
		return
	}
	for _, u := range s.users {
		if u.ID == res.UserID {
			s.issue(w, u, res.MFA, nil)
			return
		}
	}
	middleware.WriteError(w, r, errors.New("user vanished"))
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func post(t *testing.T, srv *httptest.Server, path, token string, in any) answer {
	t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(string(b)))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s: undecodable body: %v", path, err)
	}
	return answer{resp.StatusCode, resp.Header, body}
}

func (a answer) want(t *testing.T, status int, code string) {
	t.Helper()
	if a.status != status || (code != "" && a.body["error"] != code) {
		t.Fatalf("got %d %v, want %d %s", a.status, a.body, status, code)
	}
}

func TestLoginChallengeOverHTTP(t *testing.T) {
	e := newEnv(t, func(c *mfa.Config) {
		c.Policy = mfa.Policy{RequiredForRoles: []string{"admin", "supervisor"}, GracePeriod: 7 * 24 * time.Hour}
	})
	otto := mfa.User{ID: "u-otto", Name: "otto", Roles: []string{"operator"}, CreatedAt: start.Add(-time.Hour)}
	nina := mfa.User{ID: "u-nina", Name: "nina", Roles: []string{"admin"}, CreatedAt: start.Add(-time.Hour)}
	s := &loginServer{
		m: e.m, clock: e.clock, tokens: map[string]*auth.Principal{},
		users: map[string]mfa.User{"mira": mira, "otto": otto, "nina": nina},
		pass:  map[string]string{"mira": "correct horse battery", "otto": "staple gun 42", "nina": "new admin pass"},
	}
	srv := httptest.NewServer(s.handler())
	defer srv.Close()
	user := e.enroll(t, mira)

	// A wrong password never reaches the second factor.
	post(t, srv, "/login", "", map[string]string{"username": "mira", "password": "wrong"}).want(t, 401, "invalid_credentials")

	// The right password: mfa_required with a token and the methods.
	a := post(t, srv, "/login", "", map[string]string{"username": "mira", "password": "correct horse battery"})
	a.want(t, 401, "mfa_required")
	token, _ := a.body["mfa_token"].(string)
	if len(token) < 40 || a.body["expires_in"] != float64(300) || !sameMethods(a.body["methods"], "totp", "backup_code") {
		t.Fatalf("challenge body %v", a.body)
	}
	if e.events.count(auth.EventMFAChallenge) != 1 {
		t.Fatal("no mfa_challenge event")
	}

	// A wrong code leaves the token usable; the right one completes.
	post(t, srv, "/login/mfa", "", map[string]string{"mfa_token": token, "code": "12345"}).want(t, 401, "invalid_credentials")
	e.clock.Advance(2 * time.Second)
	code := user.code(t, e.clock.Now())
	a = post(t, srv, "/login/mfa", "", map[string]string{"mfa_token": token, "code": code})
	a.want(t, 200, "")
	if !sameMethods(a.body["amr"], "pwd", "otp", "mfa") || a.body["auth_time"] != float64(e.clock.Now().Unix()) {
		t.Fatalf("login body %v", a.body)
	}
	access := a.body["access_token"].(string)

	// The token is single use, even with another valid factor.
	post(t, srv, "/login/mfa", "", map[string]string{"mfa_token": token, "code": user.backup[0]}).want(t, 401, "invalid_token")

	// Step-up: the fresh factor opens the deploy route, for five minutes.
	post(t, srv, "/api/v1/models/deploy", access, nil).want(t, 200, "")
	e.clock.Advance(5*time.Minute + time.Second)
	a = post(t, srv, "/api/v1/models/deploy", access, nil)
	a.want(t, 401, "mfa_required")
	if !strings.Contains(a.header.Get("WWW-Authenticate"), "insufficient_user_authentication") {
		t.Fatalf("step-up challenge %q", a.header.Get("WWW-Authenticate"))
	}

	// A code sent with the password completes at once.
	a = post(t, srv, "/login", "", map[string]string{"username": "mira", "password": "correct horse battery", "mfa_code": user.code(t, e.clock.Now())})
	a.want(t, 200, "")
	post(t, srv, "/api/v1/models/deploy", a.body["access_token"].(string), nil).want(t, 200, "")

	// A challenge expires after five minutes.
	a = post(t, srv, "/login", "", map[string]string{"username": "mira", "password": "correct horse battery"})
	late, _ := a.body["mfa_token"].(string)
	e.clock.Advance(5 * time.Minute)
	post(t, srv, "/login/mfa", "", map[string]string{"mfa_token": late, "code": user.code(t, e.clock.Now())}).want(t, 401, "invalid_token")
	post(t, srv, "/login/mfa", "", map[string]string{"mfa_token": "not a token!", "code": "123456"}).want(t, 401, "invalid_token")

	// An operator without MFA logs in with the password alone, but cannot deploy.
	a = post(t, srv, "/login", "", map[string]string{"username": "otto", "password": "staple gun 42"})
	a.want(t, 200, "")
	post(t, srv, "/api/v1/models/deploy", a.body["access_token"].(string), nil).want(t, 401, "mfa_required")

	// A new admin without MFA is let in during the grace period and told to enrol.
	a = post(t, srv, "/login", "", map[string]string{"username": "nina", "password": "new admin pass"})
	a.want(t, 200, "")
	if a.body["mfa_enroll_by"] != nina.CreatedAt.Add(7*24*time.Hour).Format(time.RFC3339) {
		t.Fatalf("grace login body %v", a.body)
	}
	e.clock.Advance(8 * 24 * time.Hour)
	post(t, srv, "/login", "", map[string]string{"username": "nina", "password": "new admin pass"}).want(t, 401, "mfa_required")
}

func TestLoginChallengeWithAnEmailCode(t *testing.T) {
	e := newEnv(t, func(c *mfa.Config) {
		c.Policy = mfa.Policy{RequiredForAll: true, Methods: []mfa.Method{mfa.MethodTOTP, mfa.MethodEmail}}
	})
	ctx := t.Context()
	ch, err := e.m.Challenge(ctx, mira, "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ch.Methods, []mfa.Method{mfa.MethodEmail}) {
		t.Fatalf("methods %v", ch.Methods)
	}
	if strings.Contains(ch.String()+ch.GoString(), ch.Token) {
		t.Fatal("formatting a Challenge leaks its token")
	}
	if _, err := e.m.SendChallengeCode(ctx, ch.Token, mfa.MethodSMS); !errors.Is(err, mfa.ErrMethodNotAllowed) {
		t.Fatalf("SMS not in the policy: %v", err)
	}
	if _, err := e.m.SendChallengeCode(ctx, ch.Token, mfa.MethodEmail); err != nil {
		t.Fatal(err)
	}
	res, err := e.m.Complete(ctx, ch.Token, e.sender.lastCode(t))
	if err != nil || res.UserID != mira.ID || res.Method != mfa.MethodEmail ||
		!slices.Equal(res.MFA.Methods, []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("Complete = %+v, %v", res, err)
	}
	if _, err := e.m.SendChallengeCode(ctx, ch.Token, mfa.MethodEmail); !errors.Is(err, mfa.ErrInvalidToken) {
		t.Fatalf("sending for a spent token: %v", err)
	}
}

func TestChallengeWithoutAFactor(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.m.Challenge(t.Context(), mira, "pwd")
	wantAuthError(t, err, auth.CodeMFARequired, mfa.ErrNoMethod)
}

func sameMethods(v any, want ...string) bool {
	list, ok := v.([]any)
	if !ok || len(list) != len(want) {
		return false
	}
	for i, x := range list {
		if x != want[i] {
			return false
		}
	}
	return true
}
