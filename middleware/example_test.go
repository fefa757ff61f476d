package middleware_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/middleware"
)

// A chain with one authenticator, an exempt health check, and an attempt to
// reach a protected path through the exempt one.
func ExampleAuthenticate() {
	staticToken := auth.AuthenticatorFunc(func(r *http.Request) (*auth.Principal, error) {
		tok, err := auth.BearerToken(r)
		if err != nil {
			return nil, err // ErrNoCredentials: try the next authenticator
		}
		if tok != "s3cr3t-operator-token" {
			return nil, auth.NewError(auth.CodeInvalidToken, "")
		}
		return &auth.Principal{Subject: "user-1", Username: "operator_001", Method: auth.MethodJWT}, nil
	})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	mux.HandleFunc("GET /api/v1/alerts", func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		fmt.Fprintf(w, "alerts for %s", p.Username)
	})
	srv := httptest.NewServer(middleware.RequestID(
		middleware.Authenticate([]auth.Authenticator{staticToken}, middleware.Exempt("/healthz"))(mux)))
	defer srv.Close()

	get := func(path, token string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.URL.Opaque = path // send the path exactly as written
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Printf("%s -> %d %s", path, resp.StatusCode, body)
		if resp.StatusCode < 400 {
			fmt.Println()
		}
	}
	get("/healthz", "")
	get("/healthz/../api/v1/alerts", "")
	get("/api/v1/alerts", "wrong")
	get("/api/v1/alerts", "s3cr3t-operator-token")
	// Output:
	// /healthz -> 200 ok
	// /healthz/../api/v1/alerts -> 401 {"error":"invalid_credentials","error_description":"authentication required"}
	// /api/v1/alerts -> 401 {"error":"invalid_token","error_description":"the token is invalid"}
	// /api/v1/alerts -> 200 alerts for operator_001
}
