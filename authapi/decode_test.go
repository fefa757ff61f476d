package authapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
)

type loginBody struct {
	Username string  `json:"username"`
	Password string  `json:"password"`
	MFACode  *string `json:"mfa_code,omitempty"`
	Session  bool    `json:"session,omitempty"`
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name, ct, body string
		status         int    // 0: success
		desc           string // substring of the description
	}{
		{"valid", "application/json", `{"username":"a","password":"b"}`, 0, ""},
		{"charset utf-8", "application/json; charset=UTF-8", `{"username":"a"}`, 0, ""},
		{"form encoded", "application/x-www-form-urlencoded", `username=a`, 415, "must be JSON"},
		{"no content type", "", `{"username":"a"}`, 415, "must be JSON"},
		{"json lookalike type", "application/jsonp", `{}`, 415, "must be JSON"},
		{"latin1 charset", "application/json; charset=latin1", `{}`, 415, "must be JSON"},
		{"unknown field", "application/json", `{"username":"a","is_admin":true}`, 400, `unknown field "is_admin"`},
		{"wrong type", "application/json", `{"username":1}`, 400, `field "username" must be of type string`},
		{"array instead of object", "application/json", `[]`, 400, "JSON object"},
		{"two objects", "application/json", `{"username":"a"}{"username":"b"}`, 400, "exactly one"},
		{"trailing garbage", "application/json", `{"username":"a"} x`, 400, ""},
		{"truncated", "application/json", `{"username":"a"`, 400, "truncated"},
		{"empty body", "application/json", ``, 400, "empty"},
		{"syntax error", "application/json", `{"username":}`, 400, "malformed JSON"},
		{"oversized", "application/json", `{"username":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, 413, "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/login", strings.NewReader(tt.body))
			if tt.ct != "" {
				r.Header.Set("Content-Type", tt.ct)
			}
			var dst loginBody
			err := decodeJSON(httptest.NewRecorder(), r, &dst, false)
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			w := httptest.NewRecorder()
			writeAPIError(w, r, err)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			if !errors.Is(err, auth.ErrInvalidRequest) {
				t.Fatalf("err %v is not invalid_request", err)
			}
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if body.Error != "invalid_request" || !strings.Contains(body.Description, tt.desc) {
				t.Fatalf("body %s lacks %q", w.Body.String(), tt.desc)
			}
		})
	}
}

func TestDecodeJSONAllowEmpty(t *testing.T) {
	r := httptest.NewRequest("POST", "/revoke-all", http.NoBody)
	var dst struct{}
	if err := decodeJSON(httptest.NewRecorder(), r, &dst, true); err != nil {
		t.Fatalf("empty body with allowEmpty: %v", err)
	}
}

// FuzzDecodeRequests feeds arbitrary bodies to the decoders of every request
// type: they must never panic and must either fail with invalid_request or
// produce a value that encodes back to JSON.
func FuzzDecodeRequests(f *testing.F) {
	for _, s := range []string{
		`{"username":"operator_001","password":"x","mfa_code":"123456"}`,
		`{"refresh_token":"abc"}`,
		`{"name":"scada","permissions":["predictions:read"],"expires_at":"2027-01-01T00:00:00Z"}`,
		`{"mfa_token":"t","code":"12345678"}`,
		`{"method":"totp"}`, `{}`, `[]`, `null`, `{"a":1}`, `{"username":"\ud800"}`,
		`{"expires_at":"not a time"}`, `{"permissions":"predictions:read"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, dst := range requestTypes() {
			err := decodeBody(body, dst, false)
			if err != nil && !errors.Is(err, auth.ErrInvalidRequest) {
				t.Fatalf("decode error %v is not invalid_request", err)
			}
		}
	})
}
