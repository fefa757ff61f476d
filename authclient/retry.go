package authclient

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy bounds the retries of idempotent requests answered with 429
// Too Many Requests or 503 Service Unavailable. The zero value of each field
// selects its default.
type RetryPolicy struct {
	// MaxAttempts is the number of times a request is sent, the first
	// included. Zero means 3; 1 turns retries off.
	MaxAttempts int
	// BaseDelay is the wait before the first retry when the response has no
	// Retry-After header; it doubles on each further retry, with jitter.
	// Zero means 500ms.
	BaseDelay time.Duration
	// MaxDelay caps every wait. A Retry-After asking for longer is not
	// waited for: the response is returned to the caller as it is. Zero
	// means 30s.
	MaxDelay time.Duration
}

// Defaults of [RetryPolicy].
const (
	DefaultMaxAttempts = 3
	DefaultBaseDelay   = 500 * time.Millisecond
	DefaultMaxDelay    = 30 * time.Second
)

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.BaseDelay == 0 {
		p.BaseDelay = DefaultBaseDelay
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = DefaultMaxDelay
	}
	if p.BaseDelay > p.MaxDelay {
		p.BaseDelay = p.MaxDelay
	}
	return p
}

// backoff returns the wait before retry number n (1 for the first retry)
// when the server sent no Retry-After: BaseDelay·2^(n-1) capped at MaxDelay,
// of which a random half is dropped ("equal jitter"), so that clients
// refused together do not come back together.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	half := d / 2
	if half <= 0 {
		return d
	}
	return d - half + rand.N(half+1)
}

// retryableStatus reports whether a response status may be retried.
func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable
}

// idempotent reports whether r may be sent again without changing its
// effect (RFC 9110 §9.2.2), or carries an Idempotency-Key header saying the
// server deduplicates it.
func idempotent(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace,
		http.MethodPut, http.MethodDelete:
		return true
	}
	return r.Header.Get("Idempotency-Key") != ""
}

// maxRetryAfterSeconds bounds the delta-seconds accepted from Retry-After,
// so that the conversion to a Duration cannot overflow.
const maxRetryAfterSeconds = 1 << 31

// parseRetryAfter parses a Retry-After value (RFC 9110 §10.2.3): either
// delta-seconds or an HTTP-date, relative to now. A date in the past gives
// zero. ok is false for an absent or malformed value.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		for i := 0; i < len(v); i++ {
			if v[i] < '0' || v[i] > '9' {
				return 0, false
			}
		}
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil || secs > maxRetryAfterSeconds {
			secs = maxRetryAfterSeconds
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

// sleep waits for d or until ctx is done, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
