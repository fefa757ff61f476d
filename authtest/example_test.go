package authtest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/authtest"
	"github.com/gatehouse-auth/gatehouse/middleware"
)

// A host handler that records a defect prediction for the caller.
func createPrediction(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "stored", "by": p.Username})
}

// Unit-test a handler and its permission requirement without a server: the
// principal goes straight into the request's context.
func ExampleWithPrincipal() {
	authz := middleware.NewAuthorizer(authtest.DefaultPolicy(), middleware.AuthorizerConfig{})
	h := authz.RequirePermission("predictions:write")(http.HandlerFunc(createPrediction))

	for _, p := range []*auth.Principal{
		authtest.Principal("erin", "engineer"), // engineers write predictions
		authtest.Principal("otto", "operator"), // operators only read them
		nil,                                    // nobody authenticated
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/api/v1/predictions", nil)
		h.ServeHTTP(rec, authtest.WithPrincipal(req, p))
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	// Output:
	// 201 {"by":"erin","status":"stored"}
	// 403 {"error":"insufficient_permissions","error_description":"insufficient permissions"}
	// 401 {"error":"invalid_credentials","error_description":"authentication required"}
}
