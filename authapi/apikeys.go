package authapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/apikey"
	"github.com/gatehouse-auth/gatehouse/auth"
)

// apiKeyBody is the JSON form of a key record; Key is set only in the
// response that creates the key (shown once).
type apiKeyBody struct {
	Key         string            `json:"api_key,omitempty"`
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Prefix      string            `json:"prefix"`
	Permissions []string          `json:"permissions"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	ExpiresAt   *time.Time        `json:"expires_at"`
	LastUsedAt  *time.Time        `json:"last_used_at"`
	LastUsedIP  *string           `json:"last_used_ip"`
	RevokedAt   *time.Time        `json:"revoked_at"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func keyBody(k *apikey.Key, plaintext string) apiKeyBody {
	b := apiKeyBody{
		Key: plaintext, ID: k.ID, Name: k.Name, Description: k.Description, Prefix: k.Prefix,
		Permissions: nonNil(k.Permissions), Metadata: k.Metadata, CreatedAt: k.CreatedAt.UTC(),
		ExpiresAt: optTime(k.ExpiresAt), LastUsedAt: optTime(k.LastUsedAt), RevokedAt: optTime(k.RevokedAt),
	}
	if k.LastUsedIP != "" {
		ip := k.LastUsedIP
		b.LastUsedIP = &ip
	}
	return b
}

func (a *API) keysEnabled(w http.ResponseWriter, r *http.Request) bool {
	if a.keys == nil {
		writeAPIError(w, r, auth.NewError(auth.CodeNotFound, "API keys are not enabled on this server"))
		return false
	}
	return true
}

// POST /api-keys. The key's permissions may not exceed the caller's: the
// manager refuses them with insufficient_permissions.
func (a *API) createAPIKey(w http.ResponseWriter, r *http.Request) {
	if !a.keysEnabled(w, r) {
		return
	}
	var req createAPIKeyRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		writeAPIError(w, r, err)
		return
	}
	if req.Name == "" {
		writeAPIError(w, r, invalid("name is required"))
		return
	}
	if req.Permissions == nil {
		writeAPIError(w, r, invalid("permissions is required (an empty list makes a key that grants nothing)"))
		return
	}
	p := caller(r)
	if p.Method == auth.MethodAPIKey {
		writeAPIError(w, r, auth.NewError(auth.CodeInsufficientPermissions, "an API key cannot create API keys"))
		return
	}
	params := apikey.Params{Name: req.Name, Description: req.Description, Permissions: req.Permissions, Metadata: req.Metadata}
	if req.ExpiresAt != nil {
		if !req.ExpiresAt.After(a.now()) {
			writeAPIError(w, r, invalid("expires_at must be in the future"))
			return
		}
		params.ExpiresAt = *req.ExpiresAt
	}
	plaintext, key, err := a.keys.Create(r.Context(), p, params)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, keyBody(key, plaintext))
}

// GET /api-keys lists the caller's keys, never their secrets.
func (a *API) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	if !a.keysEnabled(w, r) {
		return
	}
	keys, err := a.keys.List(r.Context(), caller(r).Subject)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	out := make([]apiKeyBody, 0, len(keys))
	for _, k := range keys {
		out = append(out, keyBody(k, ""))
	}
	writeJSON(w, http.StatusOK, map[string]any{"api_keys": out})
}

// ownedKey loads key {id} when the caller owns it or holds api_keys:manage.
// Anyone else gets the same not_found as for an unknown ID.
func (a *API) ownedKey(w http.ResponseWriter, r *http.Request) (*apikey.Key, bool) {
	if !a.keysEnabled(w, r) {
		return nil, false
	}
	k, err := a.keys.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, apikey.ErrNotFound) {
		err = auth.NewError(auth.CodeNotFound, "no such API key")
	}
	if err != nil {
		writeAPIError(w, r, err)
		return nil, false
	}
	p := caller(r)
	if k.OwnerID != p.Subject && !a.policy.Has(p, "api_keys:manage") {
		writeAPIError(w, r, auth.NewError(auth.CodeNotFound, "no such API key"))
		return nil, false
	}
	return k, true
}

// GET /api-keys/{id}
func (a *API) getAPIKey(w http.ResponseWriter, r *http.Request) {
	if k, ok := a.ownedKey(w, r); ok {
		writeJSON(w, http.StatusOK, keyBody(k, ""))
	}
}

// DELETE /api-keys/{id} revokes the key; revoking twice is not an error.
func (a *API) deleteAPIKey(w http.ResponseWriter, r *http.Request) {
	k, ok := a.ownedKey(w, r)
	if !ok {
		return
	}
	if err := a.keys.Revoke(r.Context(), k.ID); err != nil {
		writeAPIError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// POST /api-keys/{id}/rotate returns a new key with the same permissions;
// the old one keeps working for grace_seconds (default 0: it stops now).
func (a *API) rotateAPIKey(w http.ResponseWriter, r *http.Request) {
	k, ok := a.ownedKey(w, r)
	if !ok {
		return
	}
	var req rotateAPIKeyRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		writeAPIError(w, r, err)
		return
	}
	var grace time.Duration
	if req.GraceSeconds != nil {
		if *req.GraceSeconds < 0 || *req.GraceSeconds > 30*24*3600 {
			writeAPIError(w, r, invalid("grace_seconds must be between 0 and 2592000"))
			return
		}
		grace = time.Duration(*req.GraceSeconds) * time.Second
	}
	plaintext, nk, err := a.keys.Rotate(r.Context(), k.ID, grace)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, keyBody(nk, plaintext))
}
