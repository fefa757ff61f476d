package ratelimit

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Defaults of [AttemptsConfig].
const (
	DefaultAttemptsWindow  = 15 * time.Minute
	DefaultMaxFailures     = 5
	DefaultLockoutDuration = 15 * time.Minute
)

// DefaultDelays returns the default delay schedule: 1, 2, 5, 10 and 30
// seconds after the first, second, ... fifth and later failures in a row.
func DefaultDelays() []time.Duration {
	return []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second}
}

// AttemptsConfig configures an [AttemptsLimiter]. The zero value is the
// recommended policy with an in-memory store.
type AttemptsConfig struct {
	// Store keeps the failure records. Nil means a [MemoryAttemptStore] with
	// the default key cap, private to this limiter.
	Store AttemptStore
	// Window is how long a failure counts (a sliding window: each failure is
	// forgotten Window after it happened). Zero means 15 minutes.
	Window time.Duration
	// Delays is the progressive delay schedule: after the n-th failure in a
	// row the next attempt must wait Delays[min(n,len(Delays))-1] after it.
	// Nil or empty means [DefaultDelays]; []time.Duration{0} disables delays.
	// No delay may be negative or longer than Window.
	Delays []time.Duration
	// MaxFailures is the number of failures within Window that locks the key
	// for LockoutDuration. Zero means 5; a negative value disables locking
	// (the delays still apply).
	MaxFailures int
	// LockoutDuration is how long a lock lasts. Zero means 15 minutes.
	LockoutDuration time.Duration
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// AttemptDecision is the answer of an [AttemptsLimiter] (and of an
// [AttemptStore]) for one key. It is a plain value, safe to copy and share.
type AttemptDecision struct {
	// Allowed reports whether the attempt may proceed (for Status: whether
	// one would be allowed now).
	Allowed bool
	// Locked reports that the key is locked out because it reached
	// MaxFailures, not merely delayed.
	Locked bool
	// Failures is the number of failures counted in the window, including
	// this attempt when Allowed (Status does not include one).
	Failures int
	// RetryAfter, when !Allowed, is how long until the next attempt may be
	// made.
	RetryAfter time.Duration
	// LocksOnFailure, when Allowed, reports that if this attempt turns out to
	// be a failure the key is now locked: the caller may say so, and should
	// emit its lockout event.
	LocksOnFailure bool
}

// AttemptsLimiter throttles authentication attempts per key (a username, a
// client IP, an MFA challenge): each failure within a sliding window makes
// the next attempt wait longer, and MaxFailures failures lock the key. It
// never sleeps: a denied attempt carries RetryAfter for the client.
//
// The caller reserves an attempt with [AttemptsLimiter.Attempt] before it
// checks the credential, and calls [AttemptsLimiter.Success] when the
// credential was right. Because the reservation already counts as a failure,
// a client cannot win extra guesses by sending them in parallel or by
// dropping the connection before the failure is recorded.
//
// It is safe for concurrent use.
type AttemptsLimiter struct {
	store  AttemptStore
	policy AttemptPolicy
	now    func() time.Time
}

// NewAttemptsLimiter validates cfg, fills its defaults and returns the
// limiter. It returns an error wrapping [ErrInvalidConfig] for negative
// durations or a delay longer than the window.
func NewAttemptsLimiter(cfg AttemptsConfig) (*AttemptsLimiter, error) {
	if cfg.Window < 0 || cfg.LockoutDuration < 0 {
		return nil, fmt.Errorf("%w: negative attempts window or lockout duration", ErrInvalidConfig)
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultAttemptsWindow
	}
	if cfg.LockoutDuration == 0 {
		cfg.LockoutDuration = DefaultLockoutDuration
	}
	if len(cfg.Delays) == 0 {
		cfg.Delays = DefaultDelays()
	}
	switch {
	case cfg.MaxFailures == 0:
		cfg.MaxFailures = DefaultMaxFailures
	case cfg.MaxFailures < 0:
		cfg.MaxFailures = 0
	}
	p := AttemptPolicy{
		Window:          cfg.Window,
		Delays:          slices.Clone(cfg.Delays),
		MaxFailures:     cfg.MaxFailures,
		LockoutDuration: cfg.LockoutDuration,
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	if cfg.Store == nil {
		s, err := NewMemoryAttemptStore(MemoryAttemptStoreConfig{})
		if err != nil {
			return nil, err
		}
		cfg.Store = s
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &AttemptsLimiter{store: cfg.Store, policy: p, now: cfg.Now}, nil
}

// Policy returns the policy the limiter applies, defaults filled in.
func (l *AttemptsLimiter) Policy() AttemptPolicy {
	p := l.policy
	p.Delays = slices.Clone(p.Delays)
	return p
}

// Attempt reserves one attempt for key before the credential is checked. When
// the decision is Allowed, the attempt is counted as a failure until
// [AttemptsLimiter.Success] is called for key. Denied attempts (inside a delay
// or a lock) are not counted. The check and the count are one atomic store
// operation, so concurrent callers are never allowed more attempts than the
// policy grants.
//
// A non-nil error is a store failure: the caller must then refuse the attempt
// (answer 503), never let it through unthrottled.
func (l *AttemptsLimiter) Attempt(ctx context.Context, key string) (AttemptDecision, error) {
	d, err := l.store.Attempt(ctx, key, l.now(), l.policy)
	if err != nil {
		return AttemptDecision{}, fmt.Errorf("ratelimit: attempt store: %w", err)
	}
	return d, nil
}

// Success records that the credential checked after an allowed attempt was
// right: it clears key's failures and any lock.
func (l *AttemptsLimiter) Success(ctx context.Context, key string) error {
	if err := l.store.Reset(ctx, key); err != nil {
		return fmt.Errorf("ratelimit: attempt store: %w", err)
	}
	return nil
}

// Reset clears key's failures and lock: an administrator's unlock.
func (l *AttemptsLimiter) Reset(ctx context.Context, key string) error {
	return l.Success(ctx, key)
}

// Status reports, without counting anything, whether an attempt for key would
// be allowed now, how many failures are counted and how long a lock or delay
// still runs.
func (l *AttemptsLimiter) Status(ctx context.Context, key string) (AttemptDecision, error) {
	d, err := l.store.Status(ctx, key, l.now(), l.policy)
	if err != nil {
		return AttemptDecision{}, fmt.Errorf("ratelimit: attempt store: %w", err)
	}
	return d, nil
}
