// Package ratelimit protects authentication endpoints and APIs against brute
// force, credential stuffing and request floods, and tells clients when to
// come back instead of holding their connections.
//
// # Request limits
//
// A [Limiter] answers Allow(ctx, key) with a [Decision]: allowed or not, the
// limit, what remains, when the full limit is back and, when refused, how
// long to wait. [MemoryLimiter] is the in-process implementation: the generic
// cell rate algorithm (a token bucket that stores one timestamp per key),
// split over 64 mutex-guarded shards so that parallel requests rarely wait on
// each other, with no allocation per decision and a hard cap on tracked keys
// (default about one million, at most [MemoryBytesPerKey] bytes each). Idle
// keys are displaced first when the cap is reached.
//
// [Middleware] applies a limiter to HTTP requests, keyed by a required
// [KeyFunc] ([ByClientIP], [ByPrincipal], [ByAPIKey], [Composite],
// [FirstOf]). Responses carry X-RateLimit-Limit, X-RateLimit-Remaining and
// X-RateLimit-Reset (Unix seconds); a refused request gets 429 with
// Retry-After and the JSON error rate_limited, and emits
// auth.EventRateLimited. When the limiter cannot decide (a shared store is
// down) the request is refused with 503: failing closed is the default, and
// [InsecureFailOpen] the explicit exception.
//
// # Client IP addresses
//
// [IPResolver] takes the client IP from the socket unless the peer is one of
// the configured trusted proxies; only then does it read X-Forwarded-For (or
// the RFC 7239 Forwarded header, one of the two, never both), walking from
// the right past trusted proxies to the first address that is not one. Forged
// entries a client puts in front are never reached; malformed entries stop
// the walk at a trusted hop. Its middleware stores the result in the request's
// auth.RequestMeta, where [ByClientIP] and event producers read it. IPv6
// clients are limited per /64 by default, since one host usually holds the
// whole network.
//
// # Authentication attempts
//
// [AttemptsLimiter] throttles authentication per key (username, client IP,
// MFA challenge): every failure within a sliding window (default 15 minutes)
// makes the next attempt wait longer (default 1, 2, 5, 10, 30 seconds), and 5
// failures lock the key for 15 minutes. The caller reserves an attempt, which
// counts as a failure, before it checks the credential, and reports success
// afterwards; the check and the count are one atomic [AttemptStore]
// operation, so parallel guesses win nothing. Stores for PostgreSQL or Redis
// implement that one operation atomically and prove it with the conformance
// suite in package ratelimittest. No goroutine ever sleeps: a delay is
// answered with a retry-after duration.
//
// # What this package does not check
//
// In-memory limiters and stores limit only the process that holds them;
// several instances need a shared store. A hard key cap means that an
// attacker who controls more keys than the cap (many IPv6 networks, many
// usernames) can displace state: for request limits this hands displaced
// keys a fresh burst; for attempts, records are displaced before locks, but a
// flood that locks more keys than the cap holds can displace locks too. The
// resolver trusts whatever a trusted proxy reports: list only proxies that
// overwrite or append to the header you select. Limits keyed by IP treat
// every client behind one NAT or proxy you do not trust as one client.
// Locking a username lets anyone lock that user out for LockoutDuration;
// combine per-username with per-IP limits and alerting.
package ratelimit
