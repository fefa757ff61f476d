package ratelimit

import (
	"context"
	"time"
)

// Limiter decides whether a request identified by a key may proceed.
// Implementations must be safe for concurrent use.
//
// A non-nil error means the decision could not be made (a shared store is
// down or ctx is done); the Decision is then meaningless. What the caller does
// with such a request is its own choice: [Middleware] denies it with 503
// unless it was built with [InsecureFailOpen].
type Limiter interface {
	// Allow reports whether one request for key may proceed now, and
	// consumes it if so.
	Allow(ctx context.Context, key string) (Decision, error)
	// AllowN reports whether n requests for key may proceed now, and
	// consumes them if so; either all n are allowed or none. n == 0 reports
	// the state without consuming anything.
	AllowN(ctx context.Context, key string, n int) (Decision, error)
}

// Decision is a [Limiter]'s answer for one key. It is a plain value, safe to
// copy and share.
type Decision struct {
	// Allowed reports whether the request may proceed.
	Allowed bool
	// Limit is the number of requests the key may make at once (the burst),
	// sent as X-RateLimit-Limit.
	Limit int
	// Remaining is how many more requests the key may make right now, after
	// this one when it was allowed; sent as X-RateLimit-Remaining.
	Remaining int
	// ResetAt is when the key's full Limit is available again; sent as
	// X-RateLimit-Reset in Unix seconds.
	ResetAt time.Time
	// RetryAfter, when !Allowed, is how long until the request would be
	// allowed; sent as Retry-After.
	RetryAfter time.Duration
}
