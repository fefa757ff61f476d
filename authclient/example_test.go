package authclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/authclient"
	"github.com/gatehouse-auth/gatehouse/middleware"
)

// exampleServer is a stand-in for a host mounting the auth API under
// /api/v1/auth: its first access token expires after one use, so the client
// has to refresh.
func exampleServer() (srv *httptest.Server, counts func() (logins, refreshes int)) {
	var mu sync.Mutex // guards logins, refreshes and uses
	var logins, refreshes int
	uses := map[string]int{}
	pair := func(w http.ResponseWriter, n int) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"access_token": fmt.Sprintf("access-%d", n), "refresh_token": fmt.Sprintf("refresh-%d", n),
			"token_type": "Bearer", "expires_in": 900, "refresh_expires_in": 86400})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/auth/login", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		logins++
		mu.Unlock()
		pair(w, 1)
	})
	mux.HandleFunc("POST /api/v1/auth/refresh", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		refreshes++
		mu.Unlock()
		pair(w, 2)
	})
	mux.HandleFunc("GET /api/v1/predictions", func(w http.ResponseWriter, r *http.Request) {
		tok, _ := auth.BearerToken(r)
		mu.Lock()
		uses[tok]++
		expired := tok == "access-1" && uses[tok] > 1
		mu.Unlock()
		if expired {
			middleware.WriteError(w, r, auth.NewError(auth.CodeTokenExpired, ""))
			return
		}
		io.WriteString(w, `{"heat":"H-1042","defect_probability":0.07}`)
	})
	mux.HandleFunc("POST /api/v1/auth/api-keys", func(w http.ResponseWriter, r *http.Request) {
		middleware.WriteError(w, r, auth.NewError(auth.CodeInsufficientPermissions,
			"the key may not have permissions the caller lacks: models:deploy"))
	})
	return httptest.NewServer(mux), func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return logins, refreshes
	}
}

// A service account logs in lazily, and its token is refreshed when the
// server reports it expired; the host's code only sees 200s.
func ExampleNew() {
	srv, counts := exampleServer()
	defer srv.Close()

	client, err := authclient.New(srv.URL+"/api/v1/auth",
		authclient.WithPassword("operator_001", "correct horse battery"))
	if err != nil {
		panic(err)
	}
	hc := client.HTTPClient()
	for range 3 {
		resp, err := hc.Get(srv.URL + "/api/v1/predictions")
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(body))
	}
	logins, refreshes := counts()
	fmt.Println("logins:", logins, "refreshes:", refreshes)
	// Output:
	// 200 {"heat":"H-1042","defect_probability":0.07}
	// 200 {"heat":"H-1042","defect_probability":0.07}
	// 200 {"heat":"H-1042","defect_probability":0.07}
	// logins: 1 refreshes: 1
}

// An operator's key may not carry a permission the operator lacks. The
// API's refusal decodes into *authclient.Error, which errors.Is also
// compares with the auth package's sentinels by code.
func ExampleError() {
	srv, _ := exampleServer()
	defer srv.Close()
	client, _ := authclient.New(srv.URL+"/api/v1/auth",
		authclient.WithPassword("operator_001", "correct horse battery"))

	_, err := client.APIKeys.Create(context.Background(), authclient.CreateAPIKeyRequest{
		Name:        "deploy bot",
		Permissions: []string{"predictions:read", "models:deploy"},
	})
	var apiErr *authclient.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, apiErr.Code)
		fmt.Println(apiErr.Description)
	}
	fmt.Println(errors.Is(err, auth.ErrInsufficientPermissions))
	// Output:
	// 403 insufficient_permissions
	// the key may not have permissions the caller lacks: models:deploy
	// true
}
