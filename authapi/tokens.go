package authapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/basic"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/gatehouse-auth/gatehouse/session"
)

// Limits on credential fields, checked before any hashing work.
const (
	maxUsernameBytes = 320
	maxPasswordBytes = 1024
	maxTokenBytes    = 8 << 10
	maxCodeBytes     = 64
)

// tokenPair is the body of a successful login or refresh.
type tokenPair struct {
	AccessToken      string `json:"access_token"`
	RefreshToken     string `json:"refresh_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
	// MFAEnrollBy is set when the policy requires a second factor the user
	// has not enrolled: the end of the grace period.
	MFAEnrollBy *time.Time `json:"mfa_enroll_by,omitempty"`
	// MFAEnrollmentRequired is set when the grace period is over: the
	// tokens grant no permission until a factor is enrolled.
	MFAEnrollmentRequired bool `json:"mfa_enrollment_required,omitempty"`
}

func (a *API) pairBody(p jwtprovider.Pair) tokenPair {
	now := a.now()
	return tokenPair{
		AccessToken:      p.Access.Value,
		RefreshToken:     p.Refresh.Value,
		TokenType:        "Bearer",
		ExpiresIn:        seconds(p.Access.ExpiresAt.Sub(now)),
		RefreshExpiresIn: seconds(p.Refresh.ExpiresAt.Sub(now)),
	}
}

func seconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// POST /login
func (a *API) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		writeAPIError(w, r, err)
		return
	}
	switch {
	case req.Username == "" || req.Password == "":
		writeAPIError(w, r, invalid("username and password are required"))
		return
	case len(req.Username) > maxUsernameBytes || len(req.Password) > maxPasswordBytes:
		writeAPIError(w, r, invalid("username or password is too long"))
		return
	case len(req.MFACode) > maxCodeBytes:
		writeAPIError(w, r, invalid("mfa_code is too long"))
		return
	}
	ctx := r.Context()
	user, err := a.users.Authenticate(ctx, req.Username, req.Password)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	state := auth.MFAState{Methods: []string{"pwd"}}
	if a.mfa != nil {
		st, challenge, err := a.secondFactor(r, user, req.MFACode)
		if err != nil {
			writeAPIError(w, r, err)
			return
		}
		if challenge != nil {
			writeAPIError(w, r, challenge)
			return
		}
		state = st
	}
	a.finishLogin(w, r, user, state, req.Session)
}

// finishLogin issues tokens (and, when asked, a session) for a user whose
// every due factor was verified.
func (a *API) finishLogin(w http.ResponseWriter, r *http.Request, user *basic.User, state auth.MFAState, withSession bool) {
	ctx := r.Context()
	var scopes []string
	var enrollBy time.Time
	if !state.Verified {
		var err error
		if scopes, enrollBy, err = a.enrollmentScopes(r, user); err != nil {
			writeAPIError(w, r, err)
			return
		}
	}
	pair, err := a.tokens.IssuePair(ctx, jwtprovider.Subject{
		ID: user.ID, Username: user.Username, Email: user.Email, Roles: user.Roles, Scopes: scopes, MFA: state,
	})
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	if withSession {
		if a.sess == nil {
			writeAPIError(w, r, invalid("sessions are not enabled on this server"))
			return
		}
		p := user.Principal(auth.MethodSession)
		p.MFA = state
		p.Scopes = scopes
		if _, err := a.sess.Create(ctx, w, p, session.Meta{AuthMethod: auth.MethodBasic}); err != nil {
			// The tokens were issued but not delivered: revoke them so that
			// nothing is left that the client never received.
			_ = a.tokens.Revoke(ctx, pair.Refresh.Value)
			_ = a.tokens.Revoke(ctx, pair.Access.Value)
			writeAPIError(w, r, err)
			return
		}
	}
	body := a.pairBody(pair)
	if !enrollBy.IsZero() {
		t := enrollBy.UTC()
		body.MFAEnrollBy = &t
		body.MFAEnrollmentRequired = scopes != nil
	}
	writeJSON(w, http.StatusOK, body)
}

// POST /refresh
func (a *API) refresh(w http.ResponseWriter, r *http.Request) {
	var req refreshRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		writeAPIError(w, r, err)
		return
	}
	if req.RefreshToken == "" || len(req.RefreshToken) > maxTokenBytes {
		writeAPIError(w, r, invalid("refresh_token is required"))
		return
	}
	pair, err := a.tokens.Refresh(r.Context(), req.RefreshToken)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.pairBody(pair))
}

// meBody is the body of GET /me.
type meBody struct {
	ID          string      `json:"id"`
	Username    string      `json:"username"`
	Email       string      `json:"email"`
	Roles       []string    `json:"roles"`
	Permissions []string    `json:"permissions"`
	AuthMethod  auth.Method `json:"auth_method"`
	MFA         mfaBody     `json:"mfa"`
}

type mfaBody struct {
	Enabled    bool       `json:"enabled"`
	Verified   bool       `json:"verified"`
	VerifiedAt *time.Time `json:"verified_at"`
	Methods    []string   `json:"methods"`
}

// GET /me
func (a *API) me(w http.ResponseWriter, r *http.Request) {
	p := caller(r)
	body := meBody{
		ID: p.Subject, Username: p.Username, Email: p.Email, Roles: nonNil(p.Roles),
		Permissions: a.policy.Permissions(p), AuthMethod: p.Method,
		MFA: mfaBody{Verified: p.MFA.Verified, Methods: nonNil(p.MFA.Methods)},
	}
	if p.MFA.Verified && !p.MFA.VerifiedAt.IsZero() {
		t := p.MFA.VerifiedAt.UTC()
		body.MFA.VerifiedAt = &t
	}
	if a.mfa != nil {
		enabled, err := a.mfaEnabled(r, p.Subject)
		if err != nil {
			writeAPIError(w, r, err)
			return
		}
		body.MFA.Enabled = enabled
	}
	writeJSON(w, http.StatusOK, body)
}

// GET /token/info: only for bearer JWTs (the route's chain accepts no other
// method).
func (a *API) tokenInfo(w http.ResponseWriter, r *http.Request) {
	tok, err := auth.BearerToken(r)
	if err != nil {
		writeAPIError(w, r, auth.NewError(auth.CodeInvalidToken, "a bearer access token is required"))
		return
	}
	info, err := a.tokens.TokenInfo(r.Context(), tok)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// POST /revoke revokes the access or refresh token in the body. Possession of
// the token is the authorization. Unknown and invalid tokens get the same 200
// (RFC 7009 §2.2); only a failure to record the revocation is an error.
func (a *API) revoke(w http.ResponseWriter, r *http.Request) {
	var req revokeRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		writeAPIError(w, r, err)
		return
	}
	if req.Token == "" || len(req.Token) > maxTokenBytes {
		writeAPIError(w, r, invalid("token is required"))
		return
	}
	if err := a.tokens.Revoke(r.Context(), req.Token); err != nil {
		var ae *auth.Error
		if !errors.As(err, &ae) || ae.Code == auth.CodeUnavailable {
			writeAPIError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]bool{"revoked": true})
}

// POST /revoke-all revokes every token and session of the caller. API keys
// are credentials of their own and are revoked through /api-keys.
func (a *API) revokeAll(w http.ResponseWriter, r *http.Request) {
	var req emptyRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		writeAPIError(w, r, err)
		return
	}
	p := caller(r)
	if err := RevokeUser(a.tokens, a.sess)(r.Context(), p.Subject); err != nil {
		writeAPIError(w, r, err)
		return
	}
	if a.sess != nil && p.Method == auth.MethodSession {
		_ = a.sess.Logout(w, r)
	}
	writeJSON(w, http.StatusOK, map[string]bool{"revoked": true})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
