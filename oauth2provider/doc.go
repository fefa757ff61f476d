// Package oauth2provider logs users in through an external OAuth 2.0 or
// OpenID Connect identity provider (Okta, Google, GitHub, Keycloak, ...) and
// turns them into Gatehouse principals with local roles.
//
// A [Provider] serves two handlers: [Provider.LoginHandler] redirects the
// browser to the IdP, and [Provider.CallbackHandler], at the registered
// redirect URL, completes the login: it checks the flow, exchanges the
// authorization code, verifies the ID token with github.com/coreos/go-oidc,
// reads userinfo when configured, maps the user's IdP groups to local roles
// (Config.GroupRoleMapping), asks the host to find or create the local
// account (Config.Accounts) and lets the host start a session or issue
// tokens (Config.OnLogin). [Google], [GitHub], [Okta] and [OIDC] return
// Config templates for common IdPs.
//
// # What it protects against
//
//   - Login CSRF and injected callbacks (RFC 6749 §10.12): the login
//     handler puts 256 random bits of state in the redirect and in a flow
//     cookie; the callback refuses a state that differs (constant-time
//     comparison), a missing cookie, and a cookie it did not seal. The
//     cookie is HMAC-SHA256 signed with Config.CookieKey, or AES-GCM
//     encrypted with Config.Keyring, and bound to the IdP's name; it is
//     HttpOnly, Secure, SameSite=Lax (it must come back on the top-level
//     redirect from the IdP), "__Host-" prefixed, and expires after 10
//     minutes. Nothing the client sends is trusted beyond the code and the
//     state it must match.
//   - Stolen authorization codes (RFC 7636): every login uses PKCE with
//     S256; the verifier never leaves the flow cookie except to the token
//     endpoint.
//   - Replayed callbacks: each flow has a one-time ID. The callback clears
//     the cookie and records the ID in a [ReplayStore] until the flow
//     expires; a second callback with the same cookie is refused even if the
//     IdP would accept the code again. The default [MemoryReplayStore] covers
//     one process; several instances need a shared store (and a shared
//     CookieKey or Keyring).
//   - Forged, replayed or misdirected ID tokens (OpenID Connect Core
//     §3.1.3.7): go-oidc checks the signature against the IdP's JWKS with
//     an algorithm allow-list ("none" never passes), the issuer, the
//     audience and the expiry; this package adds the nonce bound to the
//     flow, "azp" for tokens with several audiences, "at_hash" when present,
//     and a userinfo subject equal to the ID token's (§5.3.2).
//   - IdP mix-up (RFC 9207): an "iss" parameter on the callback must name
//     the configured issuer.
//   - Account takeover through email: an IdP login is keyed by (issuer,
//     subject); linking it to an existing local account by email is
//     allowed only when Config.LinkAccountsByVerifiedEmail is set and the
//     IdP marks the address verified ([Identity].AllowEmailLinking).
//   - Users the plant did not mean to admit: a user none of whose groups
//     maps to a role is refused unless Config.DefaultRole is set.
//   - Leaking IdP text: error responses from the IdP (error=access_denied)
//     are cleaned and kept for logs and events; the client sees only the
//     Gatehouse error shape with a fixed description.
//   - Upstream tokens at rest: when kept (Config.TokenStore) they are
//     sealed with the Keyring and bound to the IdP and the user.
//
// Endpoints must be https, except http on loopback hosts (a local IdP in
// development and tests). Failures emit login_failure with method "oauth2",
// attr "idp" and a reason such as "state_mismatch", "replayed",
// "nonce_mismatch", "id_token_invalid", "id_token_expired", "idp_error"
// (with attr "idp_error"), "no_mapped_group"; a completed login emits
// login_success. A broken flow answers 400 invalid_request, a refused login
// 401 invalid_credentials, an unreachable IdP or store 503.
//
// # What this package does not check
//
// It does not rate-limit the login and callback handlers (wrap them with
// the ratelimit middleware) and does not create sessions or tokens itself
// (OnLogin does). It checks no claim beyond those above: a Google Workspace
// domain ("hd"), an "acr"/"amr" level or an email domain are for Accounts to
// check in [Identity].Claims. It does not support the implicit or hybrid
// flows, form_post responses, signed or encrypted userinfo responses,
// request objects, or logout. It does not refresh upstream tokens, and it
// does not revoke the IdP session. Two logins started in the same browser
// share one flow cookie: the first to start fails its callback.
package oauth2provider
