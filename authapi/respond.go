package authapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/middleware"
)

// writeJSON writes v as the JSON body of a response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// writeAPIError writes err in the API's error shape. Errors that carry their
// own status (415, 413) keep it; everything else goes through
// middleware.WriteError.
func writeAPIError(w http.ResponseWriter, r *http.Request, err error) {
	var se *statusError
	if errors.As(err, &se) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(se.status)
		_ = json.NewEncoder(w).Encode(map[string]string{
			"error":             string(se.err.Code),
			"error_description": se.err.ClientDescription(),
		})
		return
	}
	middleware.WriteError(w, r, err)
}

// invalid returns an invalid_request error with a client-safe description.
func invalid(description string) error {
	return auth.NewError(auth.CodeInvalidRequest, description)
}
