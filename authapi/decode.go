package authapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// MaxBodyBytes caps every request body the API reads.
const MaxBodyBytes = 64 << 10

// statusError is an *auth.Error answered with a status other than its
// code's (415 and 413 carry the code invalid_request).
type statusError struct {
	status int
	err    *auth.Error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

var (
	errUnsupportedMediaType = &statusError{http.StatusUnsupportedMediaType,
		auth.NewError(auth.CodeInvalidRequest, "the request body must be JSON (Content-Type: application/json)")}
	errBodyTooLarge = &statusError{http.StatusRequestEntityTooLarge,
		auth.NewError(auth.CodeInvalidRequest, fmt.Sprintf("the request body exceeds %d bytes", MaxBodyBytes))}
)

// decodeJSON reads r's body into dst, which must be a pointer to a struct.
// The body must be a single JSON object of at most MaxBodyBytes with
// Content-Type application/json; unknown fields, trailing data and
// duplicate-free but mistyped fields are rejected with invalid_request and a
// description naming the problem. An empty body decodes as {} when
// allowEmpty is true.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any, allowEmpty bool) error {
	if r.ContentLength == 0 && allowEmpty && r.Header.Get("Content-Type") == "" {
		return nil
	}
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errBodyTooLarge
		}
		return auth.WrapError(auth.CodeInvalidRequest, "the request body could not be read", err)
	}
	return decodeBody(body, dst, allowEmpty)
}

func checkContentType(ct string) error {
	if ct == "" {
		return errUnsupportedMediaType
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return errUnsupportedMediaType
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return errUnsupportedMediaType
	}
	return nil
}

// decodeBody is the pure part of decodeJSON, shared with the fuzz target.
func decodeBody(body []byte, dst any, allowEmpty bool) error {
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return nil
		}
		return auth.NewError(auth.CodeInvalidRequest, "the request body is empty; a JSON object is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return auth.WrapError(auth.CodeInvalidRequest, describeJSONError(err), err)
	}
	if dec.More() {
		return auth.NewError(auth.CodeInvalidRequest, "the request body must hold exactly one JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return auth.NewError(auth.CodeInvalidRequest, "the request body must hold exactly one JSON object")
	}
	return nil
}

// describeJSONError turns a decoding error into a client-safe description.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q must be of type %s", typ.Field, jsonType(typ.Type.Kind().String()))
		}
		return "the request body must be a JSON object"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "truncated JSON"
	}
	return "malformed JSON"
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct", "ptr":
		return "object"
	}
	return "number"
}
