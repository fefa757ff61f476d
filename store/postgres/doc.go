// Package postgres stores Gatehouse's durable state in PostgreSQL, so that
// several instances of a service share it. [DB] hands out one store per
// Gatehouse storage interface:
//
//   - [DB.Attempts]: [ratelimit.AttemptStore] (lockout and progressive
//     delays of [ratelimit.AttemptsLimiter]);
//   - [DB.Limiter]: a [ratelimit.Limiter] (GCRA request limits, one round
//     trip per decision);
//   - [DB.APIKeys]: [apikey.Store];
//   - [DB.Sessions]: [session.Store], with the per-user index;
//   - [DB.RefreshFamilies]: [jwtprovider.RefreshStore] (rotation and reuse
//     detection);
//   - [DB.Revocations]: [jwtprovider.RevocationStore], whose in-process
//     mirror polls for new revocations, so that token verification makes
//     no database call; revocations reach every instance within
//     [DefaultRevocationMaxStaleness] (1 s) or the instance refuses tokens;
//   - [DB.Users]: [basic.UserStore] and [basic.ResetTokenStore];
//   - [DB.MFA]: [mfa.Store] (TOTP enrolments and replay guard, backup codes,
//     login challenges, sent codes);
//   - [DB.OAuth]: [server.Store] of the OAuth authorization server (client
//     registrations and grants);
//   - [DB.SSO]: [oauth2provider.ReplayStore] and [oauth2provider.TokenStore]
//     of the OIDC client (used login flows, and the IdP tokens of each user,
//     sealed).
//
// Each one passes its package's conformance suite, concurrency cases
// included.
//
// # OAuth grants
//
// [OAuthStore] keeps grants in gatehouse_oauth_grants and every token hash
// a grant ever had, its authorization code and each refresh token made
// current, in gatehouse_oauth_grant_hashes, until the grant is deleted: a
// rotated-away refresh token presented again is recognised as reuse and
// revokes the grant (RFC 9700 §4.14.2), while an unknown one is merely not
// found. Code redemption and refresh rotation each lock the grant's row in
// one transaction, so of concurrent calls with one code or one refresh
// token exactly one succeeds; a second redemption of a code revokes the
// grant (RFC 6749 §4.1.2). Only SHA-256 hashes of codes, refresh tokens and
// client secrets are stored.
//
// # Schema
//
// The tables are created by [DB.Migrate], never implicitly. Migrations are
// embedded in the binary, numbered, and recorded in the table
// gatehouse_schema_migrations; Migrate applies the missing ones in order,
// all in one transaction that first takes a transaction-level advisory lock
// keyed by the current schema, so instances starting at once apply each
// migration exactly once and a failed migration leaves nothing half done.
// Every table name starts with "gatehouse_". The tables live in the first
// schema of the connection's search_path: to keep Gatehouse apart from the
// host's tables, or several test runs apart, give the pool a search_path
// (pgxpool.Config.ConnConfig.RuntimeParams["search_path"]).
//
// # Atomicity
//
// Every operation that the storage interfaces require to be atomic is one
// statement, or one transaction at PostgreSQL's default READ COMMITTED
// isolation that holds the row lock of the record it changes; each method's
// comment says which. Row locks, not SERIALIZABLE, make the guarantees: no
// operation here needs retrying on a serialization failure, and concurrent
// callers on any number of instances queue on the row instead.
//
// # Failures
//
// A database error or a done context is returned as a wrapped error, never
// as a decision or as "not found": callers answer 503, never 401.
//
// # What this package does not check
//
// It does not configure TLS or authentication to the server: put them in
// the connection string or pool config. Expired rows are only removed by
// the DeleteExpired methods ([AttemptStore.DeleteExpired],
// [Limiter.DeleteExpired], [SessionStore.DeleteExpired],
// [RefreshStore.DeleteExpired], [UserStore.DeleteExpiredResetTokens],
// [MFAStore.DeleteExpired], [OAuthStore.DeleteExpired],
// [SSOStore.DeleteExpired]), which the host calls periodically; until then
// the stores treat them as expired. Times are compared in the caller's
// clock, passed to every method, so instances whose clocks disagree decide
// as far apart as their clocks are.
package postgres
