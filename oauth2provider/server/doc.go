// Package server is an OAuth 2.0 authorization server for third-party
// integrations, built to the OAuth security BCP (RFC 9700) rather than to
// the bare RFC 6749: the authorization code grant with PKCE, refresh token
// rotation, client credentials, revocation (RFC 7009), introspection (RFC
// 7662), metadata (RFC 8414), a JWK Set and, with an ID token key, OpenID
// Connect (ID tokens, discovery, userinfo).
//
// Access tokens are RFC 9068 JWTs of a [jwtprovider.Provider]. Their "scope"
// claim holds Gatehouse permission strings ("predictions:read"): the
// provider's authenticator turns it into auth.Principal.Scopes, so in the
// host's middleware chain an OAuth token grants the intersection of the
// user's roles and the scopes the user approved. Client-credentials tokens
// have the client ID as subject and the client's service roles.
//
// # What it protects against
//
// Redirect URIs are compared byte for byte with the registered ones (RFC
// 9700 §4.1.3); only the port of an http URI on 127.0.0.1, [::1] or
// localhost may differ (RFC 8252 §7.3). An unknown client_id or an
// unregistered redirect_uri is shown to the user as an error page and never
// redirected to, so the endpoint is no open redirector. Only
// response_type=code exists: no implicit grant, no password grant. PKCE
// with S256 is required for public clients (and for confidential ones
// registered with RequirePKCE); "plain" is refused unless
// Config.InsecureAllowPlainPKCE; a code_verifier for a code issued without a
// challenge is refused (PKCE downgrade, RFC 9700 §2.1.1). Authorization
// responses carry "iss" (RFC 9207) against mix-up attacks.
//
// A code is redeemed once, by the client it was issued to, with the
// redirect_uri of its request, within Config.CodeTTL (1 minute). A second
// redemption fails and revokes the grant with every access and refresh
// token issued from it; of two concurrent redemptions one wins and then
// loses its tokens too. Refresh tokens are opaque, 256-bit, stored as
// SHA-256 hashes, bound to their client and grant, and rotated at every use:
// presenting a rotated-away token revokes the grant and its access tokens
// and emits refresh_reuse_detected (RFC 9700 §4.14.2). A refresh may narrow
// the scope, never widen it. Grants end Config.GrantLifetime (30 days) after
// approval. Access tokens are revoked by their "jti" in the provider's
// revocation store (Config.Revocations).
//
// Client secrets are 256-bit random values stored as SHA-256 hashes and
// compared in constant time; an unknown client costs the same hash. A client
// authenticates with its one registered method (client_secret_basic,
// client_secret_post or none), never two at once. Public clients cannot use
// client credentials nor introspect.
//
// Token responses and errors carry Cache-Control: no-store; every token
// endpoint failure is an RFC 6749 §5.2 JSON error (invalid_client is a 401
// with a Basic challenge). The authorization endpoint, including the host's
// login and consent pages, is sent with X-Frame-Options: DENY and
// frame-ancestors 'none'; a POST to it from another origin is refused; the
// redirect after a POST is a 303, so a form with credentials is never
// re-posted to the client.
//
// # Refresh tokens
//
// The server keeps its own refresh tokens in its [GrantStore] instead of
// using jwtprovider's refresh families: a refresh token must be bound to a
// client and a grant, must allow narrowing the scope per request, and the
// grant must know every access token issued from it so that a replayed code
// or a reused refresh token revokes all of them. The store rotates
// atomically (RotateRefresh is one operation) and remembers the hashes of
// rotated-away tokens, so that reuse is told apart from a forged token.
// Clients must serialise their refreshes: the loser of two concurrent
// refreshes with one token ends the grant.
//
// # What this package does not check
//
// It does not authenticate users or render pages: the Config.Authorize
// hook logs the user in, asks for consent, protects its forms against
// CSRF, and honours prompt and max_age if it wants to (they are not
// interpreted here). It does not rate-limit the token endpoint: put a
// limiter in front of it. It implements neither dynamic client registration,
// private_key_jwt, mutual TLS, DPoP, PAR nor request objects. The access
// tokens carry the user's roles, username and email at approval time unless
// Config.ReloadSubject refreshes them; revoking a user's sessions does not
// revoke their grants (revoke them through the store or wait for
// Config.GrantLifetime). CORS for browser-based clients is the host's.
// The in-memory store serves one process only.
package server
