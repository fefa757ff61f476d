// Package middleware authenticates and authorizes net/http requests.
//
// [Authenticate] runs a chain of auth.Authenticators: the first that finds a
// credential of its kind decides. A missing credential moves on to the next
// authenticator; a bad credential stops the chain with 401 (a bad token never
// falls through to a weaker method); a store or network failure answers 503
// unavailable, never 401. Paths exempted from authentication are matched on
// the canonical path only: any path that is not already in the clean form the
// mux routes (dot segments, doubled slashes, encoded slashes, ';' parameters)
// is never exempt.
//
// Behind the chain, an [Authorizer] guards routes with RequirePermission,
// RequireAll, RequireAny and RequireRole over an RBAC policy (401 without a
// principal, 403 insufficient_permissions otherwise), and [RequireRecentMFA]
// demands a second factor verified recently for sensitive operations
// (step-up).
//
// Errors are written in one JSON shape by [WriteError]; internal error text
// never reaches a client. [RequestID], [SecurityHeaders] and [CORS] are the
// usual companions of the chain.
//
// # What this package does not check
//
// It verifies no credential itself: that is the authenticators' work. It does
// not rate-limit (see package ratelimit) and does not protect cookie-based
// requests against CSRF (see package session).
package middleware
