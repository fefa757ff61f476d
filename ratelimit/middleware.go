package ratelimit

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/middleware"
)

// Response headers set by [Middleware].
const (
	HeaderLimit     = "X-RateLimit-Limit"
	HeaderRemaining = "X-RateLimit-Remaining"
	HeaderReset     = "X-RateLimit-Reset"
)

// Option configures [Middleware]. Options are immutable values, safe to
// reuse across middlewares.
type Option interface {
	apply(*options)
}

type options struct {
	failOpen bool
	events   auth.Emitter
	now      func() time.Time
	onError  middleware.ErrorHandler
	logger   *slog.Logger
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// InsecureFailOpen lets requests through, unlimited and without rate-limit
// headers, when the limiter or the key function fails. By default such
// requests are refused with 503: an attacker who can make a shared store slow
// or unreachable must not thereby lift the limits. Use it only for limits that
// protect capacity, never for those that slow down credential guessing.
func InsecureFailOpen() Option {
	return optionFunc(func(o *options) { o.failOpen = true })
}

// WithEvents sends an auth.EventRateLimited event to em for every refused
// request. Nil discards events (the default).
func WithEvents(em auth.Emitter) Option {
	return optionFunc(func(o *options) { o.events = em })
}

// WithClock sets the clock that stamps events. Nil means time.Now.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(o *options) { o.now = now })
}

// WithErrorHandler replaces the writer of refusals. It receives an
// *auth.Error with code rate_limited and RetryAfter set for limited requests,
// and a plain error (to be answered 503) when the decision failed. Nil means
// middleware.WriteError.
func WithErrorHandler(h middleware.ErrorHandler) Option {
	return optionFunc(func(o *options) { o.onError = h })
}

// WithLogger logs decisions that failed (store down, no key) to l at error
// level. Nil (the default) logs nothing.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) { o.logger = l })
}

// Middleware limits requests with l, keyed by key. Every decided response
// carries X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (the
// Unix time, in seconds rounded up, when the full limit is back). A refused
// request is answered 429 with Retry-After and the JSON error rate_limited,
// and emits auth.EventRateLimited (see [WithEvents]); the next handler is not
// called. When the decision fails (the limiter's store is down, key returns
// an error) the request is answered 503 unavailable, unless
// [InsecureFailOpen] is given.
//
// It panics if l or key is nil: a route meant to be limited must not run
// unlimited because of a wiring mistake.
func Middleware(l Limiter, key KeyFunc, opts ...Option) func(http.Handler) http.Handler {
	if l == nil || key == nil {
		panic("ratelimit: Middleware needs a Limiter and a KeyFunc")
	}
	o := options{now: time.Now, onError: middleware.WriteError}
	for _, opt := range opts {
		opt.apply(&o)
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.onError == nil {
		o.onError = middleware.WriteError
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			d, err := decide(r, l, key)
			if err != nil {
				if o.logger != nil {
					o.logger.LogAttrs(r.Context(), slog.LevelError, "gatehouse: rate limit decision failed",
						slog.String("path", r.URL.Path),
						slog.Bool("fail_open", o.failOpen),
						slog.String("error", err.Error()))
				}
				if o.failOpen {
					next.ServeHTTP(w, r)
					return
				}
				o.onError(w, r, err)
				return
			}
			SetHeaders(w.Header(), d)
			if d.Allowed {
				next.ServeHTTP(w, r)
				return
			}
			o.emit(r, d)
			o.onError(w, r, &auth.Error{Code: auth.CodeRateLimited, RetryAfter: max(d.RetryAfter, time.Second)})
		})
	}
}

func decide(r *http.Request, l Limiter, key KeyFunc) (Decision, error) {
	k, err := key(r)
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: key: %w", err)
	}
	d, err := l.Allow(r.Context(), k)
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: limiter: %w", err)
	}
	return d, nil
}

func (o *options) emit(r *http.Request, d Decision) {
	if o.events == nil {
		return
	}
	e := auth.NewEvent(r.Context(), auth.EventRateLimited, o.now())
	if p, ok := auth.FromContext(r.Context()); ok {
		e.Subject, e.Username, e.Method = p.Subject, p.Username, p.Method
	}
	e.Reason = "rate_limited"
	e.Attrs = map[string]string{
		"path":                r.URL.Path,
		"limit":               strconv.Itoa(d.Limit),
		"retry_after_seconds": strconv.FormatInt(ceilSeconds(d.RetryAfter), 10),
	}
	auth.Emit(o.events, e)
}

// SetHeaders sets X-RateLimit-Limit, X-RateLimit-Remaining and
// X-RateLimit-Reset from d on h. Handlers that call a [Limiter] themselves
// (a login endpoint, for instance) use it to answer like [Middleware].
func SetHeaders(h http.Header, d Decision) {
	h.Set(HeaderLimit, strconv.Itoa(d.Limit))
	h.Set(HeaderRemaining, strconv.Itoa(max(d.Remaining, 0)))
	h.Set(HeaderReset, strconv.FormatInt(ceilUnix(d.ResetAt), 10))
}

// ceilUnix returns t in Unix seconds, rounded up.
func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

func ceilSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}
