// Package jwtprovider issues and verifies the JWT access and refresh tokens
// of a Gatehouse service, on top of github.com/golang-jwt/jwt/v5 (signing
// methods, key parsing, claim types). It rotates refresh tokens in families
// with reuse detection, revokes tokens by ID, by family and per subject,
// serves the public keys as a JWK Set, and authenticates HTTP requests.
//
// # What it protects against
//
// Every key has one key ID and exactly one algorithm. A token is verified
// only when its "kid" names a key of the key set and its "alg" is that key's
// algorithm, checked before any signature work: "none" in any casing,
// algorithms nobody configured, and algorithm confusion (an HMAC token
// keyed with an RSA or EC public key) are all rejected as [ErrAlgorithm] or
// [ErrUnknownKey]. Keys come only from the configuration: the "jwk", "jku",
// "x5u" and "x5c" headers are rejected ([ErrEmbeddedKey]) and never fetched
// or trusted, and "kid" is only a map key (no file, URL or database
// lookup). A "crit" header is rejected ([ErrCritical], RFC 7515 §4.1.11):
// this package understands no extension. Key strength is checked when keys
// are built: HMAC secrets at least the hash size (32, 48, 64 bytes; RFC
// 7518 §3.2), RSA at least 2048 bits, ES256 on P-256 only; PS256 verifies
// with the salt length RFC 7518 §3.5 fixes.
//
// Tokens longer than [DefaultMaxTokenSize] (8 KiB, configurable down to
// 1 KiB) are rejected before any decoding. Base64url is decoded strictly
// (no padding, no non-zero trailing bits), so a token cannot be altered
// without changing its bytes; the header and payload must each be exactly
// one JSON object, with no duplicate member among the parameters and claims
// this package reads. The signature is verified before the claims are
// decoded, so that claims from an unsigned token are never even parsed.
//
// After the signature: "typ" must be "at+jwt" for access tokens (RFC 9068
// §2.1) and "refresh+jwt" for refresh tokens, so neither is accepted as the
// other; "iss" must equal Config.Issuer byte for byte; "aud" (a string or
// an array) must contain one of Config.Audience (refresh tokens carry the
// issuer as audience instead); "exp", "iat", "sub" and "jti" are required;
// "nbf" and "iat" may not be in the future, all within a leeway of
// [DefaultLeeway] (30 seconds) by default. Host [Validator] functions run
// once the standard claims passed. token_expired is reported only for a
// token that passed every other check: an expired token with a bad
// signature is invalid_token.
//
// # Refresh families and revocation
//
// [Provider.IssuePair] starts a refresh family (a login); every token of it
// carries the family ID in "sid". [Provider.Refresh] consumes the presented
// refresh token and issues a new pair in one atomic store operation
// ([RefreshStore.Rotate]). Presenting a refresh token that was already used
// revokes the family and its access tokens and emits
// refresh_reuse_detected. A family ends [DefaultFamilyLifetime] (30 days)
// after the login however often it is refreshed.
//
// [Provider.Revoke] revokes an access token by "jti", or a refresh token
// with its family; [Provider.RevokeAll] sets a per-subject cut-off (tokens
// with "iat" at or before it are rejected). Verification reads revocations
// from a [RevocationMirror] in process memory, with no I/O per request; a
// shared [RevocationStore] (Redis, PostgreSQL, SQLite) keeps that mirror
// fed within a bound it documents, and fails closed when it cannot.
// [PolledMirror] is such a mirror for any store that numbers its records
// in commit order.
//
// # The verified-token cache
//
// A client reuses its access token for many requests, so the provider keeps
// up to [DefaultCacheSize] tokens that passed full verification, keyed by a
// hash of the whole token with the full token compared on a hit. It is on
// by default because a hit returns exactly what full verification would:
// the entry is only made after every check passed; an entry is never used
// at or after the token's "exp" (the leeway past "exp" is served by full
// verification, uncached); revocation is checked on every hit; any change
// of the key set (add, activate, remove) invalidates every entry made
// before it; and issuer, audience and required claims are fixed at New. What a hit skips are
// Validators, which must therefore be pure functions of the claims, and the
// "nbf" check, which passed when the entry was made. Memory is bounded
// (about 1 KiB per entry); when full, expired entries and then arbitrary
// ones are displaced. Set Config.DisableCache to verify every request in
// full.
//
// # What this package does not check
//
// It verifies only tokens signed by its own key set: it is not a verifier
// for third-party JWTs or OIDC ID tokens. It does not look up users: the
// roles and email in a token are those at issue time (use
// Config.ReloadSubject to refresh them at each refresh) and a deleted user's
// access tokens live until they expire unless RevokeAll is called. The
// in-memory stores cover one process. Revocation by a remote store is only
// as fresh as its mirror's documented bound. A token sent in a cookie needs
// CSRF protection from elsewhere. The "amr" and "auth_time" claims are
// written as the host reports them; this package does not verify second
// factors.
package jwtprovider
