// Package authclient is a Go client of the Gatehouse JSON auth API (package
// authapi). A [Client] holds one identity, a password login ([WithPassword])
// or an API key ([WithAPIKey]), and lends it to the host's requests through
// [Client.HTTPClient] or [Client.Transport]. Typed calls cover the API's
// routes: [Client.Me], [Client.TokenInfo], [Client.Logout], [Client.Revoke],
// [Client.RevokeAll], and the services [Client.APIKeys], [Client.MFA],
// [Client.Password] and [Client.Sessions].
//
// # What the transport does
//
// With a password, the first request logs in (POST /login) and every
// request carries "Authorization: Bearer <access token>". When the server
// answers 401 token_expired, the client refreshes the pair (POST /refresh)
// and sends the request once more; a refresh refused with 401 (expired,
// revoked, or reused so that the server revoked its family) falls back to
// logging in with the password. A 401 invalid_token or token_revoked leads
// straight to a new login, so a client survives a server restart or a
// revocation as long as its password is good. However many requests find
// their token expired at once, one refresh or login is sent and they all
// wait for it (single flight). Tokens are also refreshed in the last tenth
// of their lifetime (at most the last minute) without waiting for a 401.
// A request is sent again only when its body can be replayed (it has none,
// or http.Request.GetBody is set, as http.NewRequest does for in-memory
// bodies); otherwise the 401 is returned, and the pair is renewed for the
// requests that follow.
//
// When a login is answered 401 mfa_required, the callback given to
// [WithMFA] receives the [MFAChallenge] and returns a code, which completes
// the login (POST /login/mfa). Without a callback the login fails with an
// error matching [ErrNoMFACallback] and auth.ErrMFARequired.
//
// With an API key, every request carries "X-API-Key: <key>"; the client
// never logs in.
//
// Idempotent requests (GET, HEAD, OPTIONS, TRACE, PUT, DELETE, and any
// request with an Idempotency-Key header) answered 429 or 503 are retried,
// at most [RetryPolicy].MaxAttempts times in all. The wait is what
// Retry-After asks for (delta-seconds or an HTTP-date, RFC 9110 §10.2.3),
// or an exponential backoff with jitter when it is absent; a Retry-After
// longer than MaxDelay is not waited for and the response is returned. Waits
// end early when the request's context is done. Other requests, POST above
// all, are never retried: a login, a refresh or a key creation is sent once.
//
// Errors answered by the API decode into *[Error] (status, code,
// description, Retry-After); errors.Is compares its code with both *Error
// and *auth.Error values, so errors.Is(err, auth.ErrAccountLocked) works.
//
// # Security defaults
//
// Credentials are attached only to requests for the origin of the base URL
// and the origins given to [WithTrustedOrigins]: a request elsewhere, or a
// redirect to another host, goes out without them. A request that already
// carries an Authorization or X-API-Key header is sent as it is. Plain http
// is refused except for loopback hosts unless [WithInsecureHTTP] is given.
// Login, refresh and the typed calls never follow redirects, so a password
// or refresh token is never replayed to another URL. The client logs
// nothing; its errors never contain a password, token, key or mfa_token,
// and the types that hold secrets ([MFAChallenge], [IssuedAPIKey],
// [MFASetup]) leave them out when printed with fmt or logged with log/slog.
// Text the server sends back (error descriptions, method names) is cut
// short and stripped of control characters.
//
// # Concurrency
//
// A Client, its services and its transport are safe for concurrent use by
// multiple goroutines. The token pair is guarded by one mutex, never held
// while a request is sent or the MFA callback runs. A login or refresh runs
// on its own goroutine, bounded by [WithAuthTimeout], so that one caller
// cancelling does not fail the others waiting for it.
//
// # What this package does not check
//
// It does not verify tokens: the access token is opaque to it, and
// token_type, expires_in and the error bodies are taken from the server as
// sent, so the server must be reached over TLS that the host's transport
// verifies. It does not store tokens anywhere but in memory, and it does not
// revoke them when the process exits: call [Client.Logout]. It does not
// rate-limit its own logins beyond the single flight: with a wrong password
// each burst of requests sends one login, which may lock the account. It
// trusts the host's clock for early refresh (a clock that runs slow only
// makes it rely on the 401 path). Rotating the API key it was built with
// does not switch the client to the new key.
package authclient
