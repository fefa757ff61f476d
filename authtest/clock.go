package authtest

import (
	"sync"
	"time"
)

// Clock is a clock that moves only when told to. A Stack gives its Now
// method to every component, so that a test expires tokens, sessions,
// lockouts and rate-limit windows with Advance instead of sleeping.
//
// The zero Clock reads the real time, truncated to the second, the first
// time it is used, and stands still from then on. A Clock is safe for
// concurrent use.
type Clock struct {
	mu sync.Mutex // guards t
	t  time.Time  // zero until first use
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time. Its signature fits every Config.Now field
// of Gatehouse.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.start()
	return c.t
}

// Advance moves the clock forward by d (backward when d is negative) and
// returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.start()
	c.t = c.t.Add(d)
	return c.t
}

// Set moves the clock to t, forward or backward.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// start fixes the time of a zero Clock. c.mu must be held.
func (c *Clock) start() {
	if c.t.IsZero() {
		c.t = realNow()
	}
}

// realNow is the real time truncated to the second (which also drops the
// monotonic reading): JWT "iat" and "exp" have one-second granularity, so a
// whole-second clock makes token lifetimes exact.
func realNow() time.Time { return time.Now().Truncate(time.Second) }
