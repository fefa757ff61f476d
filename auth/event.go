package auth

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// EventType names a security-relevant outcome.
type EventType string

// Event types. Producers use these; hosts subscribe with [Dispatcher.On].
const (
	EventLoginSucceeded       EventType = "login_success"
	EventLoginFailed          EventType = "login_failure"
	EventTokenIssued          EventType = "token_issued"
	EventTokenRefreshed       EventType = "token_refreshed"
	EventTokenExpired         EventType = "token_expired"
	EventTokenRevoked         EventType = "token_revoked"
	EventRefreshReuseDetected EventType = "refresh_reuse_detected"
	EventAPIKeyCreated        EventType = "api_key_created"
	EventAPIKeyUsed           EventType = "api_key_used"
	EventAPIKeyRevoked        EventType = "api_key_revoked"
	EventAPIKeyRotated        EventType = "api_key_rotated"
	EventAPIKeyRejected       EventType = "api_key_rejected"
	EventMFAEnabled           EventType = "mfa_enabled"
	EventMFADisabled          EventType = "mfa_disabled"
	EventMFAChallenge         EventType = "mfa_challenge"
	EventMFAFailed            EventType = "mfa_failed"
	EventBackupCodeUsed       EventType = "backup_code_used"
	EventAccountLocked        EventType = "account_locked"
	EventAccountUnlocked      EventType = "account_unlocked"
	EventPasswordChanged      EventType = "password_changed"
	EventPasswordResetRequest EventType = "password_reset_requested"
	EventPasswordReset        EventType = "password_reset"
	EventSessionCreated       EventType = "session_created"
	EventSessionRenewed       EventType = "session_renewed"
	EventSessionRevoked       EventType = "session_revoked"
	EventSessionExpired       EventType = "session_expired"
	EventPermissionDenied     EventType = "permission_denied"
	EventRateLimited          EventType = "rate_limited"
	EventUserCreated          EventType = "user_created"
	EventUserUpdated          EventType = "user_updated"
	EventUserDeleted          EventType = "user_deleted"
)

// EventTypes lists every event type above.
var EventTypes = []EventType{
	EventLoginSucceeded, EventLoginFailed, EventTokenIssued, EventTokenRefreshed,
	EventTokenExpired, EventTokenRevoked, EventRefreshReuseDetected, EventAPIKeyCreated,
	EventAPIKeyUsed, EventAPIKeyRevoked, EventAPIKeyRotated, EventAPIKeyRejected,
	EventMFAEnabled, EventMFADisabled, EventMFAChallenge, EventMFAFailed, EventBackupCodeUsed,
	EventAccountLocked, EventAccountUnlocked, EventPasswordChanged, EventPasswordResetRequest,
	EventPasswordReset, EventSessionCreated, EventSessionRenewed, EventSessionRevoked,
	EventSessionExpired, EventPermissionDenied, EventRateLimited, EventUserCreated,
	EventUserUpdated, EventUserDeleted,
}

// Event is one security-relevant outcome.
type Event struct {
	Type      EventType
	Time      time.Time
	Subject   string
	Username  string
	Method    Method
	ClientIP  string
	UserAgent string
	RequestID string
	// Reason is a short machine-friendly cause ("bad_password",
	// "reuse_detected", ...). It must never hold a secret.
	Reason string
	// Attrs holds further details (key ID, permission, IdP name). Values
	// under secret-looking names are masked by [AuditHandler].
	Attrs map[string]string
}

// NewEvent returns an event of type t at time now, with the request fields
// copied from the [RequestMeta] in ctx.
func NewEvent(ctx context.Context, t EventType, now time.Time) Event {
	m := RequestMetaFrom(ctx)
	return Event{Type: t, Time: now, ClientIP: m.ClientIP, UserAgent: m.UserAgent, RequestID: m.RequestID}
}

// Emitter receives events from components. Emit must not block and must be
// safe for concurrent use. Components accept a nil Emitter as "discard".
type Emitter interface {
	Emit(e Event)
}

// EmitterFunc adapts a function to [Emitter]. The function must not block.
type EmitterFunc func(Event)

// Emit calls f(e).
func (f EmitterFunc) Emit(e Event) { f(e) }

// Emit sends e to em, doing nothing when em is nil.
func Emit(em Emitter, e Event) {
	if em != nil {
		em.Emit(e)
	}
}

// EventHandler handles an event. ctx carries the dispatcher's per-event
// deadline. A returned error is counted and reported through
// DispatcherConfig.OnError; it never reaches the emitter.
type EventHandler func(ctx context.Context, e Event) error

// DispatcherConfig configures a [Dispatcher]. The zero value is usable.
type DispatcherConfig struct {
	// QueueSize is the number of events each handler may have waiting.
	// Zero means 1024. Events that do not fit are dropped and counted.
	QueueSize int
	// HandlerTimeout bounds each handler call through its context. Zero
	// means 5 seconds. A handler that ignores its context only delays its own
	// queue, never the emitter or other handlers.
	HandlerTimeout time.Duration
	// OnError, if set, is told about handler errors and panics. It runs on
	// the handler's goroutine and must not block.
	OnError func(t EventType, err error)
}

// Dispatcher fans events out to handlers registered with [Dispatcher.On] and
// [Dispatcher.OnAll]. Each handler has its own goroutine and bounded queue, so
// [Dispatcher.Emit] never blocks. It is safe for concurrent use; a nil
// *Dispatcher discards events.
type Dispatcher struct {
	cfg DispatcherConfig

	mu     sync.RWMutex // guards subs and closed
	subs   []*subscription
	closed bool

	dropped atomic.Uint64
	failed  atomic.Uint64
	wg      sync.WaitGroup
}

type subscription struct {
	typ   EventType // "" for all
	h     EventHandler
	queue chan Event
}

// NewDispatcher returns a dispatcher with cfg, defaults filled.
func NewDispatcher(cfg DispatcherConfig) *Dispatcher {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 1024
	}
	if cfg.HandlerTimeout <= 0 {
		cfg.HandlerTimeout = 5 * time.Second
	}
	return &Dispatcher{cfg: cfg}
}

// On registers h for events of type t. It returns false if d is closed.
func (d *Dispatcher) On(t EventType, h EventHandler) bool { return d.subscribe(t, h) }

// OnAll registers h for every event. It returns false if d is closed.
func (d *Dispatcher) OnAll(h EventHandler) bool { return d.subscribe("", h) }

func (d *Dispatcher) subscribe(t EventType, h EventHandler) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || h == nil {
		return false
	}
	s := &subscription{typ: t, h: h, queue: make(chan Event, d.cfg.QueueSize)}
	d.subs = append(d.subs, s)
	d.wg.Add(1)
	go d.run(s)
	return true
}

func (d *Dispatcher) run(s *subscription) {
	defer d.wg.Done()
	for e := range s.queue {
		d.deliver(s, e)
	}
}

func (d *Dispatcher) deliver(s *subscription, e Event) {
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.HandlerTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			d.failed.Add(1)
			if d.cfg.OnError != nil {
				d.cfg.OnError(e.Type, fmt.Errorf("auth: event handler panicked: %v", r))
			}
		}
	}()
	if err := s.h(ctx, e); err != nil {
		d.failed.Add(1)
		if d.cfg.OnError != nil {
			d.cfg.OnError(e.Type, err)
		}
	}
}

// Emit queues e for every handler registered for its type and for all types.
// It never blocks: an event that does not fit in a handler's queue is dropped
// for that handler and counted. A zero e.Time is set to the current time.
func (d *Dispatcher) Emit(e Event) {
	if d == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		d.dropped.Add(1)
		return
	}
	for _, s := range d.subs {
		if s.typ != "" && s.typ != e.Type {
			continue
		}
		select {
		case s.queue <- e:
		default:
			d.dropped.Add(1)
		}
	}
}

// Dropped returns how many deliveries were dropped because a handler's queue
// was full or the dispatcher was closed.
func (d *Dispatcher) Dropped() uint64 { return d.dropped.Load() }

// Failed returns how many handler calls returned an error or panicked.
func (d *Dispatcher) Failed() uint64 { return d.failed.Load() }

// Close stops accepting events and waits until queued events are delivered or
// ctx is done. Handlers that block past ctx are abandoned.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		for _, s := range d.subs {
			close(s.queue)
		}
	}
	d.mu.Unlock()
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
