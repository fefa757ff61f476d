package authapi

import (
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/basic"
	"github.com/gatehouse-auth/gatehouse/mfa"
)

// mfaUser describes a user to the mfa package.
func mfaUser(u *basic.User) mfa.User {
	return mfa.User{ID: u.ID, Name: u.Username, Roles: u.Roles, CreatedAt: u.CreatedAt}
}

// secondFactor decides, after a correct password, whether a second factor is
// due. It returns the MFA state for the tokens, or the mfa_required answer
// carrying a challenge when a factor is due and no code came with the
// request. A code sent with the request (mfa_code) is verified at once.
func (a *API) secondFactor(r *http.Request, user *basic.User, code string) (auth.MFAState, *auth.Error, error) {
	ctx := r.Context()
	pwd := auth.MFAState{Methods: []string{"pwd"}}
	mu := mfaUser(user)
	d, err := a.mfa.Decide(ctx, mu)
	if err != nil {
		return pwd, nil, err
	}
	if !d.Challenge {
		return pwd, nil, nil
	}
	if code != "" {
		res, err := a.mfa.Verify(ctx, user.ID, code, "pwd")
		if err != nil {
			return pwd, nil, err
		}
		return res.MFA, nil, nil
	}
	ch, err := a.mfa.Challenge(ctx, mu, "pwd")
	if err != nil {
		return pwd, nil, err
	}
	return pwd, ch.AuthError(), nil
}

// enrollmentScopes returns the scopes of a login whose user must enrol a
// second factor and whose grace period is over: a non-nil empty list, which
// grants no permission. Such a caller can still reach the routes that need
// no permission (/me, /mfa/setup, /mfa/verify) and so enrol.
func (a *API) enrollmentScopes(r *http.Request, user *basic.User) ([]string, time.Time, error) {
	if a.mfa == nil {
		return nil, time.Time{}, nil
	}
	d, err := a.mfa.Decide(r.Context(), mfaUser(user))
	if err != nil {
		return nil, time.Time{}, err
	}
	if d.GraceExpired {
		return []string{}, d.EnrollBy, nil
	}
	return nil, d.EnrollBy, nil
}

func (a *API) mfaEnabled(r *http.Request, userID string) (bool, error) {
	st, err := a.mfa.Status(r.Context(), userID)
	if err != nil {
		return false, err
	}
	return st.Enabled, nil
}

// POST /login/mfa completes a login challenge with a TOTP, backup or sent
// code.
func (a *API) loginMFA(w http.ResponseWriter, r *http.Request) {
	if !a.mfaOn(w, r) {
		return
	}
	var req loginMFARequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		writeAPIError(w, r, err)
		return
	}
	if req.MFAToken == "" || req.Code == "" {
		writeAPIError(w, r, invalid("mfa_token and code are required"))
		return
	}
	if len(req.MFAToken) > maxTokenBytes || len(req.Code) > maxCodeBytes {
		writeAPIError(w, r, auth.NewError(auth.CodeInvalidToken, "the mfa_token is invalid or expired"))
		return
	}
	res, err := a.mfa.Complete(r.Context(), req.MFAToken, req.Code)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	user, err := a.users.Get(r.Context(), res.UserID)
	if err != nil || user.Disabled {
		writeAPIError(w, r, auth.WrapError(auth.CodeInvalidCredentials, "", err))
		return
	}
	a.finishLogin(w, r, user, res.MFA, req.Session)
}

func (a *API) mfaOn(w http.ResponseWriter, r *http.Request) bool {
	if a.mfa == nil {
		writeAPIError(w, r, auth.NewError(auth.CodeNotFound, "MFA is not enabled on this server"))
		return false
	}
	return true
}

// callerUser loads the account of the caller for the MFA routes. API keys
// may not manage their owner's second factor.
func (a *API) callerUser(w http.ResponseWriter, r *http.Request) (*basic.User, bool) {
	p := caller(r)
	if p.Method == auth.MethodAPIKey {
		writeAPIError(w, r, auth.NewError(auth.CodeInsufficientPermissions, "API keys cannot manage a second factor"))
		return nil, false
	}
	u, err := a.users.Get(r.Context(), p.Subject)
	if err != nil {
		writeAPIError(w, r, notFoundUser(err))
		return nil, false
	}
	return u, true
}

// POST /mfa/setup starts a TOTP enrolment: the secret, otpauth URL, QR code
// and backup codes are shown once.
func (a *API) mfaSetup(w http.ResponseWriter, r *http.Request) {
	if !a.mfaOn(w, r) {
		return
	}
	var req mfaSetupRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		writeAPIError(w, r, err)
		return
	}
	if req.Method != "" && req.Method != "totp" {
		writeAPIError(w, r, invalid(`method must be "totp"`))
		return
	}
	u, ok := a.callerUser(w, r)
	if !ok {
		return
	}
	e, err := a.mfa.Setup(r.Context(), mfaUser(u))
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"secret": e.Secret, "otpauth_url": e.URL, "qr_code": e.QRCodeDataURL, "backup_codes": nonNil(e.BackupCodes),
	})
}

// POST /mfa/verify confirms the pending enrolment with a code from the app.
func (a *API) mfaVerify(w http.ResponseWriter, r *http.Request) {
	if !a.mfaOn(w, r) {
		return
	}
	var req mfaCodeRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		writeAPIError(w, r, err)
		return
	}
	if req.Code == "" || len(req.Code) > maxCodeBytes {
		writeAPIError(w, r, invalid("code is required"))
		return
	}
	u, ok := a.callerUser(w, r)
	if !ok {
		return
	}
	if err := a.mfa.Confirm(r.Context(), mfaUser(u), req.Code); err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"mfa_enabled": true})
}

// POST /mfa/disable turns the second factor off. It needs fresh proof: a
// current code, or the password.
func (a *API) mfaDisable(w http.ResponseWriter, r *http.Request) {
	if !a.mfaOn(w, r) {
		return
	}
	var req mfaDisableRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		writeAPIError(w, r, err)
		return
	}
	if (req.Code == "") == (req.Password == "") {
		writeAPIError(w, r, invalid("give exactly one of code and password"))
		return
	}
	if len(req.Code) > maxCodeBytes || len(req.Password) > maxPasswordBytes {
		writeAPIError(w, r, invalid("code or password is too long"))
		return
	}
	u, ok := a.callerUser(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	st, err := a.mfa.Status(ctx, u.ID)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	if !st.Enabled && !st.Pending {
		writeJSON(w, http.StatusOK, map[string]bool{"mfa_enabled": false})
		return
	}
	if req.Code != "" {
		_, err = a.mfa.Verify(ctx, u.ID, req.Code)
	} else {
		_, err = a.users.Authenticate(ctx, u.Username, req.Password)
	}
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	if err := a.mfa.Disable(ctx, mfaUser(u)); err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"mfa_enabled": false})
}
