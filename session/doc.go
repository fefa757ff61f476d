// Package session provides server-side sessions for browsers: a [Manager]
// that sets a session cookie at login, authenticates requests by it (as an
// auth.Authenticator for the middleware chain), renews and revokes sessions,
// lists them for their owner, and keeps a small data bag per session.
//
// # What it protects against
//
//   - Stolen stores: the cookie holds 256 random bits from crypto/rand; the
//     store holds only their SHA-256 ([Record.ID]), which is also the public
//     session ID used for listing, revoking and as the principal's
//     CredentialID. Reading the store or the logs does not let anyone present
//     a session.
//   - Cookie theft and injection: cookies are Secure, HttpOnly,
//     SameSite=Strict and named with the "__Host-" prefix (Path=/, no
//     Domain), so scripts cannot read them, plain HTTP never carries them,
//     and a sibling subdomain cannot set or shadow them. SameSite=Lax is
//     available; plain HTTP only through Config.InsecureCookie.
//   - Session fixation: [Manager.Create] always issues a fresh ID, and
//     [Manager.Renew] replaces the ID (keeping the data) when privileges
//     change; the old ID dies in the same store operation.
//   - Cross-site request forgery: an unsafe request (POST, PUT, PATCH,
//     DELETE, ...) that the session cookie authenticates is rejected with
//     403 when the browser marks it cross-origin (Sec-Fetch-Site, or an
//     Origin that is neither the request's host nor in
//     Config.TrustedOrigins), using http.CrossOriginProtection. Requests
//     that carry an Authorization header are never authenticated by the
//     cookie, so token-authenticated API calls are not subject to the check.
//   - Long-lived and forgotten sessions: an idle timeout (30 minutes,
//     sliding) and an absolute timeout (12 hours, not extended by use or
//     renewal); at most 5 sessions per user, the oldest revoked first (or new
//     ones refused); every session listable and revocable by its owner, one
//     at a time, all but the current one, or all.
//
// # Timeouts and store writes
//
// Using a session does not write to the store on every request: the idle
// deadline moves only when the last recorded use is at least
// Config.TouchInterval old (1 minute by default), so a busy session costs
// one write per minute. The idle timeout is therefore honoured to within
// TouchInterval: a session expires between IdleTimeout-TouchInterval and
// IdleTimeout after its last request. The absolute timeout is exact.
//
// # Storage
//
// A [Store] has five methods; [Store.Create] applies the per-user cap and
// the replacement of a renewed session atomically, so PostgreSQL and Redis
// adapters stay race-free. Callers pass the time to every liveness decision.
// [MemoryStore] is the embedded default; package sessiontest is the
// conformance suite every adapter runs.
//
// # Events
//
// session_created, session_renewed (attr previous_session_id),
// session_revoked (reasons logout, revoked, revoke_all, revoke_others,
// session_limit, replaced) and session_expired (idle_timeout,
// absolute_timeout) carry the session ID in the attr session_id. Expiry is
// reported when a request presents an expired session, and by the sweeper of
// the in-memory store the manager builds itself; a host store that deletes
// expired records on its own (Redis key expiry) reports nothing for them.
//
// # What this package does not check
//
// It does not authenticate users: the host verifies the password or the
// second factor and then calls [Manager.Create]. It does not protect the
// login request itself against CSRF (send it as JSON, which a cross-site
// form cannot), nor safe methods (GET, HEAD, OPTIONS), which must not change
// state. Requests with neither Sec-Fetch-Site nor Origin (non-browser
// clients, browsers older than 2023) pass the cross-origin check; SameSite
// keeps the cookie off cross-site requests in those browsers. It does not
// bind sessions to an IP address or User-Agent, which change legitimately;
// they are recorded for the owner to see. It does not encrypt the data bag:
// keep secrets out of it. Principal claims are not stored with a session.
package session
