// Package redis stores Gatehouse's short-lived, hot state in Redis, so that
// several instances of a service share it. [DB] hands out:
//
//   - [DB.Attempts]: [ratelimit.AttemptStore] (lockout and progressive
//     delays of [ratelimit.AttemptsLimiter]);
//   - [DB.Limiter]: a [ratelimit.Limiter] (GCRA request limits);
//   - [DB.Sessions]: [session.Store], with the per-user index;
//   - [DB.RefreshFamilies]: [jwtprovider.RefreshStore];
//   - [DB.Revocations]: [jwtprovider.RevocationStore], whose in-process
//     mirror is kept current by pub/sub and a periodic poll, so that token
//     verification makes no network call; revocations reach every instance
//     within [DefaultRevocationMaxStaleness] (1 s) or the instance refuses
//     tokens;
//   - [DB.MFA]: [mfa.Store] (TOTP replay guard, backup codes, login
//     challenges, sent codes);
//   - [DB.SSOReplay]: [oauth2provider.ReplayStore] (the OIDC client's
//     guard against replayed login callbacks). The sealed IdP tokens
//     ([oauth2provider.TokenStore]) are durable records without an expiry
//     and are not kept here: use PostgreSQL or SQLite.
//
// Each one passes its package's conformance suite, concurrency cases
// included.
//
// Every decision and every atomic operation is one Lua script run by
// EVALSHA (a session Get is one HGETALL): one round trip, atomic on the
// server, so concurrent requests on any number of instances are never
// granted more than the policy allows (100 concurrent failed logins lock at
// exactly the limit; of concurrent rotations of one refresh token, one
// wins). When a server has not cached a script yet (after a
// restart or a failover), the first call pays a second round trip to send it.
// The scripts take the time from their caller, never from the server's clock,
// so decisions agree with the in-memory implementations and tests can drive
// the clock.
//
// # Keys
//
// Every key starts with [Config.Prefix] (default "gatehouse:") and carries a
// hash tag: an attempt record is "<prefix>attempt:{<key>}", a limiter's
// counter "<prefix>rate:<name>:{<key>}", a refresh family
// "<prefix>family:{<id>}"; those scripts touch one key each. Session
// operations span a user's index and sessions, so every session key shares
// the tag {s} ("<prefix>{s}:rec:<id>", "<prefix>{s}:user:<userID>"): on
// Redis Cluster the sessions of one prefix live on one shard. The same code
// therefore runs on a single server and on a cluster.
//
// Every key of an expiring record carries a TTL that ends one second after
// the record stops affecting any decision, so the key space never grows
// without bound. Decisions read the times stored in the key, never the TTL:
// the TTL only collects the key, and its second of grace keeps a record for
// a caller whose clock or request lags a little. The TTL is computed from the
// caller's clock relative to now, so clock skew between the host and Redis
// does not shorten it.
//
// # Precision
//
// Lua numbers are doubles. Attempt records, sessions, refresh families and
// used SSO flows keep times in whole microseconds (Unix time), which is
// exact for any date in this millennium: times and durations finer than a
// microsecond are truncated, except the expiry of a used SSO flow, which is
// rounded up so that the flow is never forgotten early. Limiters keep their
// arrival time as seconds plus nanoseconds and are exact to the nanosecond.
//
// # Failures
//
// A Redis error or a done context is returned as a wrapped error, never as a
// decision: [ratelimit.Middleware] answers 503 and an [ratelimit.AttemptsLimiter]
// caller must refuse the login, so a Redis outage never lets an attacker
// through and never blames the user.
//
// # What this package does not check
//
// Redis holds these records in memory; without persistence (or on a failover
// to a replica that missed the last writes) a restart forgets failures and
// locks. That is the usual trade for counters, but size maxmemory so that
// eviction never removes them: use a noeviction or volatile-* policy, since
// every key here has a TTL. The package does not authenticate to Redis or
// encrypt the connection itself: configure that on the client. Keys are the
// caller's strings, unhashed: do not key limits on secrets.
package redis
