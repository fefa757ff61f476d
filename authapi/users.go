package authapi

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/basic"
)

type userBody struct {
	ID         string    `json:"id"`
	Username   string    `json:"username"`
	Email      string    `json:"email"`
	Roles      []string  `json:"roles"`
	Disabled   bool      `json:"disabled"`
	MFAEnabled bool      `json:"mfa_enabled"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func (a *API) userBody(r *http.Request, u *basic.User) (userBody, error) {
	b := userBody{ID: u.ID, Username: u.Username, Email: u.Email, Roles: nonNil(u.Roles),
		Disabled: u.Disabled, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}
	if a.mfa != nil {
		on, err := a.mfaEnabled(r, u.ID)
		if err != nil {
			return b, err
		}
		b.MFAEnabled = on
	}
	return b, nil
}

func notFoundUser(err error) error {
	if errors.Is(err, basic.ErrNotFound) {
		return auth.NewError(auth.CodeNotFound, "no such user")
	}
	return err
}

// GET /users?limit=&cursor= (users:read)
func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	limit := 50
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			writeAPIError(w, r, invalid("limit must be an integer from 1 to 100"))
			return
		}
		limit = n
	}
	cursor := r.URL.Query().Get("cursor")
	if len(cursor) > 256 {
		writeAPIError(w, r, invalid("cursor is malformed"))
		return
	}
	users, next, err := a.users.List(r.Context(), cursor, limit)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	out := make([]userBody, 0, len(users))
	for _, u := range users {
		b, err := a.userBody(r, u)
		if err != nil {
			writeAPIError(w, r, err)
			return
		}
		out = append(out, b)
	}
	var nextCursor *string
	if next != "" {
		nextCursor = &next
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out, "next_cursor": nextCursor})
}

// POST /users (users:write). Granting roles is itself guarded: a caller may
// only give roles whose every permission it holds, so users:write alone does
// not let a supervisor create an administrator.
func (a *API) createUser(w http.ResponseWriter, r *http.Request) {
	var req createUserRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		writeAPIError(w, r, err)
		return
	}
	if req.Username == "" || req.Password == "" {
		writeAPIError(w, r, invalid("username and password are required"))
		return
	}
	if len(req.Password) > maxPasswordBytes {
		writeAPIError(w, r, invalid("password is too long"))
		return
	}
	if err := a.mayGrant(r, req.Roles); err != nil {
		writeAPIError(w, r, err)
		return
	}
	u, err := a.users.Create(r.Context(), basic.NewUser{Username: req.Username, Email: req.Email, Password: req.Password, Roles: req.Roles})
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	b, err := a.userBody(r, u)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, b)
}

// mayGrant refuses roles the caller could not exercise itself.
func (a *API) mayGrant(r *http.Request, roles []string) error {
	p := caller(r)
	for _, role := range roles {
		if !a.policy.HasRole(p, role) {
			return auth.WrapError(auth.CodeInsufficientPermissions, "you cannot grant a role you do not hold",
				errors.New("authapi: grant of role "+strconv.Quote(role)+" refused"))
		}
	}
	return nil
}

// GET /users/{id} (users:read)
func (a *API) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := a.users.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		writeAPIError(w, r, notFoundUser(err))
		return
	}
	b, err := a.userBody(r, u)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

// PATCH /users/{id} (users:write)
func (a *API) updateUser(w http.ResponseWriter, r *http.Request) {
	var req updateUserRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		writeAPIError(w, r, err)
		return
	}
	if req.Email == nil && req.Roles == nil && req.Disabled == nil {
		writeAPIError(w, r, invalid("nothing to update: give email, roles or disabled"))
		return
	}
	if err := a.mayGrant(r, req.Roles); err != nil {
		writeAPIError(w, r, err)
		return
	}
	id := r.PathValue("id")
	if req.Disabled != nil && *req.Disabled && id == caller(r).Subject {
		writeAPIError(w, r, auth.NewError(auth.CodeConflict, "you cannot disable your own account"))
		return
	}
	u, err := a.users.Update(r.Context(), id, basic.UserUpdate{Email: req.Email, Roles: req.Roles, Disabled: req.Disabled})
	if err != nil {
		writeAPIError(w, r, notFoundUser(err))
		return
	}
	b, err := a.userBody(r, u)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

// DELETE /users/{id} (users:delete)
func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == caller(r).Subject {
		writeAPIError(w, r, auth.NewError(auth.CodeConflict, "you cannot delete your own account"))
		return
	}
	if err := a.users.Delete(r.Context(), id); err != nil {
		writeAPIError(w, r, notFoundUser(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
