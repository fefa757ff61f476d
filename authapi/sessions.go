package authapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/session"
)

type sessionBody struct {
	ID         string      `json:"id"`
	CreatedAt  time.Time   `json:"created_at"`
	LastSeenAt time.Time   `json:"last_seen_at"`
	ExpiresAt  time.Time   `json:"expires_at"`
	ClientIP   string      `json:"client_ip"`
	UserAgent  string      `json:"user_agent"`
	AuthMethod auth.Method `json:"auth_method"`
	Current    bool        `json:"current"`
}

func (a *API) sessionsEnabled(w http.ResponseWriter, r *http.Request) bool {
	if a.sess == nil {
		writeAPIError(w, r, auth.NewError(auth.CodeNotFound, "sessions are not enabled on this server"))
		return false
	}
	return true
}

// GET /sessions lists the caller's sessions.
func (a *API) listSessions(w http.ResponseWriter, r *http.Request) {
	if !a.sessionsEnabled(w, r) {
		return
	}
	p := caller(r)
	list, err := a.sess.List(r.Context(), p.Subject)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	out := make([]sessionBody, 0, len(list))
	for _, s := range list {
		out = append(out, sessionBody{
			ID: s.ID, CreatedAt: s.CreatedAt.UTC(), LastSeenAt: s.LastSeenAt.UTC(), ExpiresAt: s.ExpiresAt.UTC(),
			ClientIP: s.ClientIP, UserAgent: s.UserAgent, AuthMethod: s.AuthMethod,
			Current: p.Method == auth.MethodSession && p.CredentialID == s.ID,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

// DELETE /sessions/{id} ends one of the caller's sessions; another user's
// session is not_found, exactly like an unknown one.
func (a *API) deleteSession(w http.ResponseWriter, r *http.Request) {
	if !a.sessionsEnabled(w, r) {
		return
	}
	p := caller(r)
	id := r.PathValue("id")
	err := a.sess.RevokeUserSession(r.Context(), p.Subject, id)
	if errors.Is(err, session.ErrNotFound) {
		err = auth.NewError(auth.CodeNotFound, "no such session")
	}
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	if p.Method == auth.MethodSession && p.CredentialID == id {
		_ = a.sess.Logout(w, r)
	}
	w.WriteHeader(http.StatusNoContent)
}
