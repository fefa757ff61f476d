package oauth2provider_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testClock is a settable clock shared by the fake IdP and the provider.
type testClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newClock() *testClock {
	return &testClock{t: time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeUser is the user the fake IdP logs in.
type fakeUser struct {
	Sub, Email, Name, Login string
	EmailVerified           bool
	Groups                  []string // nil: no groups claim
}

// grant is an issued authorization code.
type grant struct {
	redirectURI, challenge, nonce string
}

// fakeIdP is a small OpenID Connect provider on an httptest TLS server:
// discovery, JWKS (one RSA key), an authorization endpoint that logs the
// user in at once, a token endpoint that checks the client, the code, the
// redirect URI and the PKCE verifier, and userinfo. It also answers on
// GitHub's paths (plain OAuth 2.0, no ID token). Its knobs let tests make it
// misbehave the way a hostile or broken IdP would.
type fakeIdP struct {
	srv          *httptest.Server
	key          *rsa.PrivateKey
	kid          string
	clientID     string
	clientSecret string
	redirectURI  string
	clock        *testClock

	mu sync.Mutex // guards everything below
	// user is who logs in.
	user fakeUser
	// authorizeError, when set, is returned by the authorization endpoint
	// as error=..., with authorizeErrorDesc.
	authorizeError, authorizeErrorDesc string
	// callbackExtra is appended to the redirect back to the client.
	callbackExtra url.Values
	// idTokenClaims edits the ID token's claims before signing.
	idTokenClaims func(jwt.MapClaims)
	// signIDToken, when set, replaces the signing of the ID token.
	signIDToken func(claims jwt.MapClaims) string
	// omitIDToken drops the ID token from the token response.
	omitIDToken bool
	// userinfoSub, when set, replaces the sub of the userinfo response.
	userinfoSub string
	// discoveryDown makes discovery answer 503.
	discoveryDown bool

	codes        map[string]grant
	accessTokens map[string]bool
	tokenCalls   int
	lastAuthz    url.Values
}

func newFakeIdP(t *testing.T, clock *testClock) *fakeIdP {
	t.Helper()
	f := startFakeIdP(clock)
	t.Cleanup(f.srv.Close)
	return f
}

// startFakeIdP starts the fake IdP; the caller closes f.srv.
func startFakeIdP(clock *testClock) *fakeIdP {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	f := &fakeIdP{
		key: key, kid: "key-1", clientID: "steelplant", clientSecret: "s3cret-of-the-client", clock: clock,
		user: fakeUser{
			Sub: "00u1ab2cd3", Email: "ada@plant.example", EmailVerified: true, Name: "Ada Lovelace",
			Login: "ada", Groups: []string{"Engineering"},
		},
		codes: map[string]grant{}, accessTokens: map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", f.discovery)
	mux.HandleFunc("GET /jwks", f.jwks)
	mux.HandleFunc("GET /authorize", f.authorize)
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("GET /userinfo", f.userinfo)
	mux.HandleFunc("GET /login/oauth/authorize", f.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", f.token)
	mux.HandleFunc("GET /api/v3/user", f.githubUser)
	mux.HandleFunc("GET /api/v3/user/emails", f.githubEmails)
	mux.HandleFunc("GET /api/v3/user/teams", f.githubTeams)
	f.srv = httptest.NewTLSServer(mux)
	return f
}

func (f *fakeIdP) URL() string { return f.srv.URL }

func (f *fakeIdP) set(fn func(f *fakeIdP)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeIdP) TokenCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenCalls
}

func (f *fakeIdP) LastAuthorize() url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastAuthz
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeIdP) discovery(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	down := f.discoveryDown
	f.mu.Unlock()
	if down {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	}
	u := f.srv.URL
	writeJSON(w, 200, map[string]any{
		"issuer":                                u,
		"authorization_endpoint":                u + "/authorize",
		"token_endpoint":                        u + "/token",
		"userinfo_endpoint":                     u + "/userinfo",
		"jwks_uri":                              u + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

func (f *fakeIdP) jwks(w http.ResponseWriter, r *http.Request) {
	pub := f.key.PublicKey
	writeJSON(w, 200, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": f.kid, "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func randomString() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (f *fakeIdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastAuthz = q
	if q.Get("client_id") != f.clientID || q.Get("redirect_uri") != f.redirectURI || q.Get("response_type") != "code" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	back, _ := url.Parse(f.redirectURI)
	v := url.Values{}
	if st, ok := q["state"]; ok {
		v["state"] = st
	}
	if f.authorizeError != "" {
		v.Set("error", f.authorizeError)
		if f.authorizeErrorDesc != "" {
			v.Set("error_description", f.authorizeErrorDesc)
		}
	} else {
		if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
			http.Error(w, "PKCE S256 required", http.StatusBadRequest)
			return
		}
		code := randomString()
		f.codes[code] = grant{redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), nonce: q.Get("nonce")}
		v.Set("code", code)
	}
	for k, vs := range f.callbackExtra {
		v[k] = append(v[k], vs...)
	}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (f *fakeIdP) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, 400, map[string]string{"error": "invalid_request"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenCalls++
	if id != f.clientID || secret != f.clientSecret {
		writeJSON(w, 401, map[string]string{"error": "invalid_client"})
		return
	}
	code := r.PostForm.Get("code")
	g, found := f.codes[code]
	delete(f.codes, code)
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if r.PostForm.Get("grant_type") != "authorization_code" || !found || r.PostForm.Get("redirect_uri") != g.redirectURI ||
		base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "code, redirect URI or verifier wrong"})
		return
	}
	at := randomString()
	f.accessTokens[at] = true
	resp := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-" + randomString()}
	if !f.omitIDToken && !strings.HasPrefix(r.URL.Path, "/login/") {
		now := f.clock.Now()
		claims := jwt.MapClaims{
			"iss": f.srv.URL, "sub": f.user.Sub, "aud": f.clientID,
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			"email": f.user.Email, "email_verified": f.user.EmailVerified, "name": f.user.Name,
			"preferred_username": f.user.Login,
		}
		if g.nonce != "" {
			claims["nonce"] = g.nonce
		}
		if f.user.Groups != nil {
			claims["groups"] = f.user.Groups
		}
		if f.idTokenClaims != nil {
			f.idTokenClaims(claims)
		}
		if f.signIDToken != nil {
			resp["id_token"] = f.signIDToken(claims)
		} else {
			resp["id_token"] = signRS256(f.key, f.kid, claims)
		}
	}
	writeJSON(w, 200, resp)
}

// signRS256 signs claims with key under kid.
func signRS256(key *rsa.PrivateKey, kid string, claims jwt.MapClaims) string {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = kid
	s, err := t.SignedString(key)
	if err != nil {
		panic(err)
	}
	return s
}

// bearer returns whether r carries an access token the IdP issued.
func (f *fakeIdP) bearer(r *http.Request) bool {
	at, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	defer f.mu.Unlock()
	return ok && f.accessTokens[at]
}

func (f *fakeIdP) userinfo(w http.ResponseWriter, r *http.Request) {
	if !f.bearer(r) {
		writeJSON(w, 401, map[string]string{"error": "invalid_token"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	sub := f.user.Sub
	if f.userinfoSub != "" {
		sub = f.userinfoSub
	}
	c := map[string]any{"sub": sub, "email": f.user.Email, "email_verified": f.user.EmailVerified, "name": f.user.Name}
	if f.user.Groups != nil {
		c["groups"] = f.user.Groups
	}
	writeJSON(w, 200, c)
}

func (f *fakeIdP) githubUser(w http.ResponseWriter, r *http.Request) {
	if !f.bearer(r) {
		writeJSON(w, 401, map[string]string{"message": "Bad credentials"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// GitHub's public email may be anything the user typed; only
	// /user/emails says what is verified.
	writeJSON(w, 200, map[string]any{"id": 583231, "login": f.user.Login, "name": f.user.Name, "email": "public@elsewhere.example"})
}

func (f *fakeIdP) githubEmails(w http.ResponseWriter, r *http.Request) {
	if !f.bearer(r) {
		writeJSON(w, 401, map[string]string{"message": "Bad credentials"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	writeJSON(w, 200, []map[string]any{
		{"email": "old@plant.example", "primary": false, "verified": true},
		{"email": f.user.Email, "primary": true, "verified": f.user.EmailVerified},
	})
}

func (f *fakeIdP) githubTeams(w http.ResponseWriter, r *http.Request) {
	if !f.bearer(r) {
		writeJSON(w, 401, map[string]string{"message": "Bad credentials"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var teams []map[string]any
	for _, g := range f.user.Groups {
		org, slug, _ := strings.Cut(g, "/")
		teams = append(teams, map[string]any{"slug": slug, "organization": map[string]string{"login": org}})
	}
	writeJSON(w, 200, teams)
}
