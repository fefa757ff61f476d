// Package integration holds no code: its tests run two or more complete
// Gatehouse JSON API stacks (package authapi) against one shared PostgreSQL
// and one shared Redis, and prove that what one instance decides binds the
// others: tokens, sessions and API keys issued on one work on another, a
// revoke-all on one is enforced on the others within the revocation bound
// (store/redis.DefaultRevocationMaxStaleness, 1 s), the request rate limit and
// the account lockout are shared, and a refresh token reused on another
// instance revokes its family. Fault tests stop a private Redis while requests
// flow (answers are 503 unavailable, never 200 for a revoked token and never
// a 401 that blames the user) and start it again (the instances recover).
//
// The tests need GATEHOUSE_POSTGRES_URL and GATEHOUSE_REDIS_URL (start
// throwaway servers with: eval "$(scripts/services start)"); without them
// they skip, except when CI is set, where they fail. The fault tests also
// need redis-server and redis-cli on the PATH. Each test works in a fresh
// PostgreSQL schema and under a fresh Redis key prefix, removed at its end.
package integration
