package ratelimit

import (
	"fmt"
	"time"
)

// GCRAParams checks the rate of a limiter implementing the generic cell rate
// algorithm, limit requests per period (zero means one minute) in bursts of
// at most burst (zero means limit), and returns the time between requests
// at the sustained rate, in nanoseconds, and the burst. maxTau is the
// largest burst window (burst times the interval) the limiter's arithmetic
// holds exactly. [MemoryLimiter] and the Redis and PostgreSQL limiters share
// it, so that a configuration is checked, and means, the same everywhere.
// Errors wrap [ErrInvalidConfig].
func GCRAParams(limit int, period time.Duration, burst int, maxTau time.Duration) (interval int64, b int, err error) {
	if limit <= 0 {
		return 0, 0, fmt.Errorf("%w: Limit must be positive", ErrInvalidConfig)
	}
	if period < 0 || burst < 0 {
		return 0, 0, fmt.Errorf("%w: negative Period or Burst", ErrInvalidConfig)
	}
	if period == 0 {
		period = time.Minute
	}
	if burst == 0 {
		burst = limit
	}
	interval = int64(period) / int64(limit)
	if interval == 0 {
		return 0, 0, fmt.Errorf("%w: Period/Limit under a nanosecond", ErrInvalidConfig)
	}
	if int64(burst) > int64(maxTau)/interval {
		return 0, 0, fmt.Errorf("%w: Burst*Period/Limit over %v", ErrInvalidConfig, maxTau)
	}
	return interval, burst, nil
}
