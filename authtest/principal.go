package authtest

import (
	_ "embed"
	"fmt"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/rbac"
)

// rolesJSON is the default policy: the four roles of the steel-plant
// reference server.
//
//go:embed roles.json
var rolesJSON []byte

// DefaultPolicy returns a new copy of the policy a Stack uses unless
// WithPolicy replaces it: the four roles of the reference server, each
// inheriting the one before,
//
//	operator:   dashboard:read predictions:read alerts:read alerts:acknowledge
//	supervisor: + reports:read analytics:read users:read alerts:manage
//	engineer:   + models:read models:deploy system:configure predictions:write
//	admin:      + users:write users:delete system:admin api_keys:manage
//
// Use it with middleware.NewAuthorizer to unit-test handlers without a
// Stack.
func DefaultPolicy() *rbac.Policy {
	p, err := rbac.ParseJSON(rolesJSON)
	if err != nil {
		// The embedded policy is fixed at build time and checked by the
		// package's tests: failing here means the source tree is broken.
		panic(fmt.Sprintf("authtest: embedded policy: %v", err))
	}
	return p
}

// WithPrincipal returns a shallow copy of r whose context carries p, as
// if the authentication middleware had accepted it. It lets a test call a
// host handler, or the handler wrapped in an Authorizer's middleware,
// directly with an httptest.ResponseRecorder: no server, no token.
//
// A nil p returns r's copy without a principal, which the Authorizer
// answers 401.
func WithPrincipal(r *http.Request, p *auth.Principal) *http.Request {
	if p == nil {
		return r.WithContext(r.Context())
	}
	return r.WithContext(auth.NewContext(r.Context(), p))
}

// Principal returns a principal for subject holding roles, as a JWT
// authenticator would produce it for a user: Username is subject, Method is
// auth.MethodJWT, Scopes is nil (not narrowed) and no second factor is
// verified. Set fields of the result for other cases, before the principal
// is put in a request.
func Principal(subject string, roles ...string) *auth.Principal {
	return &auth.Principal{
		Subject:      subject,
		Username:     subject,
		Roles:        append([]string(nil), roles...),
		Method:       auth.MethodJWT,
		CredentialID: "authtest-" + subject,
		MFA:          auth.MFAState{Methods: []string{"pwd"}},
	}
}
