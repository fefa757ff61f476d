// Package authapi is the mountable JSON auth API: login (with a second
// factor when one is due), refresh with rotation, the caller's identity and
// token, revocation, API keys, MFA enrolment, password change and reset,
// sessions and user administration. It wires the other Gatehouse packages
// together; docs/openapi.yaml describes every route.
//
// Mount it under a prefix:
//
//	api, err := authapi.New(authapi.Config{Users: users, Tokens: tokens, Policy: policy,
//		Authenticators: []auth.Authenticator{keyAuth, tokens, sessions}, ...})
//	mux.Handle("/api/v1/auth/", http.StripPrefix("/api/v1/auth", api))
//
// and wire password changes to revocation, so that a changed, reset or
// disabled password ends the user's tokens and sessions:
//
//	basic.Config{OnCredentialsChanged: authapi.RevokeUser(tokens, sessions), ...}
//
// # What it protects against
//
// Request bodies must be JSON (415 otherwise), at most 64 KiB (413), one
// object with no unknown fields (400 invalid_request naming the field).
// Login, login/mfa, refresh, revoke, MFA and password routes are rate
// limited per client IP and answer with the X-RateLimit-* headers; login
// goes through the account lockout of package basic, which answers the same
// while locked whatever the password. An unknown email and a known one get
// the same 202 from /password/forgot, with delivery after the response. API
// keys may not carry permissions their creator lacks, and administrators may
// not grant roles they do not hold. Another user's API key or session is
// not_found, exactly like an unknown one. When the MFA policy's grace period
// is over for a user without a second factor, login issues tokens that grant
// no permission until a factor is enrolled.
//
// Nothing is left half-done on a failure: tokens issued for a login whose
// session could not be created are revoked before the error is returned; a
// key rotation is one store operation; a password change that was stored but
// whose revocations failed answers 503, and the client then calls /revoke-all.
//
// # What this package does not check
//
// It does not verify credentials itself: the configured authenticators and
// components do. CSRF protection of cookie-authenticated requests is the
// session package's. Delivering reset tokens (email) is the host's
// DeliverPasswordReset.
package authapi
