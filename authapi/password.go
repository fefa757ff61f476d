package authapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// POST /password/change. The user's tokens and sessions are revoked, this
// request's included: the client logs in again with the new password. If
// the password was changed but revoking failed, the answer is 503 and the
// client should call /revoke-all (its token still works then).
func (a *API) passwordChange(w http.ResponseWriter, r *http.Request) {
	var req passwordChangeRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		writeAPIError(w, r, err)
		return
	}
	if req.OldPassword == "" || req.NewPassword == "" {
		writeAPIError(w, r, invalid("old_password and new_password are required"))
		return
	}
	if len(req.OldPassword) > maxPasswordBytes || len(req.NewPassword) > maxPasswordBytes {
		writeAPIError(w, r, invalid("password is too long"))
		return
	}
	p := caller(r)
	if err := a.users.ChangePassword(r.Context(), p.Subject, req.OldPassword, req.NewPassword); err != nil {
		writeAPIError(w, r, err)
		return
	}
	if err := RevokeUser(a.tokens, a.sess)(r.Context(), p.Subject); err != nil {
		writeAPIError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// POST /password/forgot answers 202 whether or not the address belongs to an
// account. Delivery happens after the response, on its own goroutine, so that
// the time to answer does not tell either.
func (a *API) passwordForgot(w http.ResponseWriter, r *http.Request) {
	var req passwordForgotRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		writeAPIError(w, r, err)
		return
	}
	if req.Email == "" || len(req.Email) > 320 {
		writeAPIError(w, r, invalid("email is required"))
		return
	}
	ticket, err := a.users.InitiatePasswordReset(r.Context(), req.Email)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	if ticket.Token != "" && a.cfg.DeliverPasswordReset != nil {
		ctx := context.WithoutCancel(r.Context())
		go func() {
			ctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			if err := a.cfg.DeliverPasswordReset(ctx, ticket); err != nil {
				a.logger.ErrorContext(ctx, "authapi: delivering a password reset failed", "user_id", ticket.UserID, "error", err)
			}
		}()
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted"})
}

// POST /password/reset completes a reset with the delivered token; the
// user's existing tokens and sessions are revoked.
func (a *API) passwordReset(w http.ResponseWriter, r *http.Request) {
	var req passwordResetRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		writeAPIError(w, r, err)
		return
	}
	if req.Token == "" || req.NewPassword == "" {
		writeAPIError(w, r, invalid("token and new_password are required"))
		return
	}
	if len(req.Token) > maxTokenBytes || len(req.NewPassword) > maxPasswordBytes {
		writeAPIError(w, r, auth.NewError(auth.CodeInvalidToken, "the reset token is invalid or expired"))
		return
	}
	if err := a.users.CompletePasswordReset(r.Context(), req.Token, req.NewPassword); err != nil {
		writeAPIError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
