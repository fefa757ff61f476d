// Package authtest is the way a host application tests its own handlers
// against Gatehouse: a whole authentication stack in memory behind an
// httptest.Server, tokens minted on demand, a logged-in Go client, and a
// way to call a handler with a principal and no server at all.
//
// NewStack builds every component (users, JWTs, API keys, sessions, MFA,
// the RBAC policy), mounts the JSON auth API at AuthPath, and serves the
// host's routes, registered with Stack.Handle, behind the same
// authentication chain a production server uses: API keys, then JWTs, then
// the session cookie. The test's cleanup closes it.
//
//	func TestDeployNeedsEngineer(t *testing.T) {
//		s := authtest.NewStack(t)
//		s.Handle("POST /api/v1/models/deploy",
//			s.Authorizer.RequirePermission("models:deploy")(deployHandler))
//		s.CreateUser(t, "erin", "long-enough-passphrase", "engineer")
//		access, _ := s.Login(t, "erin", "long-enough-passphrase") // through POST /login
//		// send POST s.URL+"/api/v1/models/deploy" with "Authorization: Bearer "+access: 200
//		// with s.MintToken(t, "op-1", "operator"): 403; with no token: 401
//		s.Clock.Advance(16 * time.Minute) // the access token expires: 401 token_expired
//	}
//
// Every component reads the time from Stack.Clock, which moves only when
// the test moves it, so expiry, lockout and rate-limit windows are tested
// without sleeping. Every event is recorded synchronously (Stack.Events).
// For a unit test of one handler, WithPrincipal puts a principal (built with
// Principal) in a request's context, as the authentication middleware
// would.
//
// # What it protects against
//
// Tests that pass against a mock and fail against the real thing: apart
// from the settings listed below, the stack runs the production components
// with their secure defaults (password policy, lockout, token type and
// audience checks, refresh rotation and reuse detection, revocation, CSRF
// checks on cookie requests), so a host handler tested here sees the
// principals, errors and status codes it will see in production.
//
// # What this package does not check
//
// It is for tests only and must never be used in production: passwords are
// hashed with Argon2id at an insecurely low cost (64 KiB, one pass) so that
// tests are fast, the session cookie has neither the Secure attribute nor
// the "__Host-" prefix because the test server speaks plain HTTP, the
// signing key and keyring are generated per stack and never stored, every
// store lives in process memory, and the rate limit allows a million
// requests a minute. MintToken and Principal bypass login entirely: they
// show how a handler treats a principal, not that the principal could have
// logged in. Only the components follow the stack's clock: the server's
// sockets, the HTTP clients' timeouts and authclient's retry waits run in
// real time.
package authtest
