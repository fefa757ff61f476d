package authclient_test

import (
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/authclient"
)

func TestErrorsDecode(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		retryAfter  string
		body        string
		want        authclient.Error
		wantIs      error
		wantMessage string
	}{
		{"account locked with Retry-After", 429, "120",
			`{"error":"account_locked","error_description":"the account is temporarily locked"}`,
			authclient.Error{Status: 429, Code: "account_locked", Description: "the account is temporarily locked", RetryAfter: 2 * time.Minute},
			auth.ErrAccountLocked, "authclient: 429 account_locked: the account is temporarily locked"},
		{"insufficient permissions", 403, "",
			`{"error":"insufficient_permissions","error_description":"models:deploy required"}`,
			authclient.Error{Status: 403, Code: "insufficient_permissions", Description: "models:deploy required"},
			auth.ErrInsufficientPermissions, ""},
		{"HTML from a proxy", 502, "", `<html><body>Bad Gateway</body></html>`,
			authclient.Error{Status: 502}, nil, "authclient: 502 Bad Gateway"},
		{"description forging a log line", 400, "",
			`{"error":"invalid_request","error_description":"bad\r\nlevel=INFO msg=\"login ok\"\u2028x"}`,
			authclient.Error{Status: 400, Code: "invalid_request", Description: `badlevel=INFO msg="login ok"x`},
			auth.ErrInvalidRequest, ""},
		{"code that is not a code", 400, "", `{"error":"<script>alert(1)</script>","error_description":"x"}`,
			authclient.Error{Status: 400}, nil, ""},
		{"error member of the wrong type", 401, "", `{"error":{"code":"invalid_token"}}`,
			authclient.Error{Status: 401}, nil, ""},
		{"JSON array", 400, "", `["invalid_request"]`, authclient.Error{Status: 400}, nil, ""},
		{"negative Retry-After ignored", 503, "-5", `{"error":"unavailable"}`,
			authclient.Error{Status: 503, Code: "unavailable"}, auth.ErrUnavailable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			c := newClient(t, "http://localhost/auth", authclient.WithAPIKey("gk_test_key"),
				authclient.WithRetry(authclient.RetryPolicy{MaxAttempts: 1}),
				authclient.WithHTTPClient(&http.Client{Transport: handlerTransport{h}}))
			_, err := c.Me(t.Context())
			var e *authclient.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *authclient.Error", err)
			}
			if *e != tt.want {
				t.Errorf("got %+v\nwant %+v", *e, tt.want)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(err, %v) = false", tt.wantIs)
			}
			if tt.want.Code == "" && errors.Is(err, &authclient.Error{}) {
				t.Error("an error without a code matches the empty code")
			}
			if tt.wantMessage != "" && err.Error() != tt.wantMessage {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.wantMessage)
			}
		})
	}
}

func TestErrorIsComparesCodes(t *testing.T) {
	err := error(&authclient.Error{Status: 401, Code: "token_expired"})
	if !errors.Is(err, auth.ErrTokenExpired) || !errors.Is(err, &authclient.Error{Code: "token_expired"}) {
		t.Error("token_expired does not match its sentinels")
	}
	if errors.Is(err, auth.ErrTokenRevoked) || errors.Is(err, &authclient.Error{Code: "token_revoked"}) {
		t.Error("token_expired matches another code")
	}
}
