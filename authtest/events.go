package authtest

import (
	"slices"
	"sync"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// recorder keeps every event the stack's components emit, in the order
// they were emitted, and forwards each one to the host's emitter, if any.
type recorder struct {
	forward auth.Emitter // set before the stack is used; may be nil

	mu     sync.Mutex // guards events
	events []auth.Event
}

// Emit implements auth.Emitter. It appends under a mutex and never blocks
// for longer than that.
func (r *recorder) Emit(e auth.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	auth.Emit(r.forward, e)
}

func (r *recorder) all() []auth.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = nil
}

// Events returns a copy of every event the stack's components emitted so
// far, oldest first. Components emit synchronously on the request's
// goroutine, so an event of a request is recorded before its response is
// written; a test reads it right after the call, without waiting. (The
// in-memory session store's sweeper, which runs on its own goroutine,
// emits session_expired as it finds expired sessions.)
func (s *Stack) Events() []auth.Event { return s.rec.all() }

// EventsOf returns the recorded events of the given types, oldest first.
func (s *Stack) EventsOf(types ...auth.EventType) []auth.Event {
	var out []auth.Event
	for _, e := range s.rec.all() {
		if slices.Contains(types, e.Type) {
			out = append(out, e)
		}
	}
	return out
}

// ResetEvents forgets the events recorded so far.
func (s *Stack) ResetEvents() { s.rec.reset() }

// Emitter returns the emitter the stack's components use: it records for
// Events and forwards to the emitter given with WithEvents. Give it to
// middleware a test builds itself (for example
// middleware.RequireRecentMFA(d, middleware.MFAEvents(s.Emitter()))) so that
// its events are recorded too.
func (s *Stack) Emitter() auth.Emitter { return &s.rec }
