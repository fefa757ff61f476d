package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// stateKey keys a request's session state in its context. It holds the
// manager so that two managers (two cookies) never see each other's state.
type stateKey struct{ m *Manager }

// state is the session of one request inside LoadAndSave.
type state struct {
	mu       sync.Mutex // guards every field below
	rec      Record     // the session; meaningful when live
	live     bool
	err      error // why there is no live session (nil when live)
	data     *Data // the decoded bag; nil when not live
	touchDue bool  // the idle deadline should move when the response starts
}

func (m *Manager) state(ctx context.Context) *state {
	st, _ := ctx.Value(stateKey{m}).(*state)
	return st
}

// errResponseReplaced is returned to a handler writing a response after
// LoadAndSave failed to save the session and wrote an error response instead.
var errResponseReplaced = errors.New("session: saving the session failed; the response was replaced by an error")

// LoadAndSave is middleware that loads the request's session once and saves
// its changes: the data bag ([Manager.Data]) and the idle deadline, in one
// store write at most, made just before the response starts (the first
// WriteHeader, Write or Flush) or, if the handler writes nothing, when it
// returns. When that write fails, the response is replaced by
// Config.ErrorHandler's (503 for a store failure) and the handler's writes
// are discarded. Changes made after the response started are written when the
// handler returns, where a failure can no longer be reported.
//
// Put it outside the authentication middleware: [Manager.Authenticate] then
// reuses the session LoadAndSave loaded instead of reading the store again,
// and [Manager.Create], [Manager.Renew] and [Manager.Logout] keep the
// request's session state current.
//
// LoadAndSave rejects nothing itself: a request without a valid session, or
// an unsafe cross-origin one (whose session is not loaded), reaches next
// without session data, and Authenticate decides. Only a store failure while
// loading is answered by Config.ErrorHandler. Responses get "Vary: Cookie".
// The writer next receives implements Flush and Unwrap; reach other
// capabilities of the underlying writer (Hijack, deadlines) through
// http.ResponseController.
func (m *Manager) LoadAndSave(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Cookie")
		st := &state{}
		rec, now, err := m.resolve(r)
		if err != nil && !isRejection(err) {
			m.onError(w, r, err)
			return
		}
		if err != nil {
			st.err = err
		} else {
			st.rec, st.live = rec, true
			st.touchDue = now.Sub(rec.LastSeenAt) >= m.cfg.TouchInterval
			if st.data, err = decodeData(rec.Data); err != nil {
				// Only this package writes the bag; if it cannot be read,
				// start afresh: the next save overwrites it.
				st.data = &Data{version: 1}
			}
		}
		r = r.WithContext(context.WithValue(r.Context(), stateKey{m}, st))
		sw := &saveWriter{ResponseWriter: w, m: m, st: st, r: r}
		next.ServeHTTP(sw, r)
		sw.finish()
	})
}

// Data returns the data bag of the session of the request whose context is
// ctx. It reports false outside [Manager.LoadAndSave] and when the request
// has no live session. After [Manager.Create] in the same request it returns
// the new session's (empty) bag.
func (m *Manager) Data(ctx context.Context) (*Data, bool) {
	st := m.state(ctx)
	if st == nil {
		return nil, false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.live || st.data == nil {
		return nil, false
	}
	return st.data, true
}

// isRejection reports whether err is a verdict on the request's credential
// (none, or a bad one) rather than a failure to check it.
func isRejection(err error) bool {
	var ae *auth.Error
	return errors.Is(err, auth.ErrNoCredentials) || errors.As(err, &ae)
}

// encodeData returns the stored form of d and its version, enforcing
// Config.MaxDataSize.
func (m *Manager) encodeData(d *Data) (string, uint64, error) {
	enc, v, err := d.encode()
	if err != nil {
		return "", 0, fmt.Errorf("session: encoding session data: %w", err)
	}
	if len(enc) > m.cfg.MaxDataSize {
		return "", 0, fmt.Errorf("%w: %d bytes, limit %d", ErrDataTooLarge, len(enc), m.cfg.MaxDataSize)
	}
	return enc, v, nil
}

// save writes what changed in st: the data bag if modified, the idle
// deadline if due. A failed deadline write alone is not an error, nor is a
// session that ended during the request.
func (m *Manager) save(ctx context.Context, st *state) error {
	st.mu.Lock()
	rec, live, data, touch := st.rec, st.live, st.data, st.touchDue
	st.mu.Unlock()
	if !live {
		return nil
	}
	dirty := data != nil && data.dirty()
	if !dirty && !touch {
		return nil
	}
	now := m.cfg.Now()
	u := Update{Now: now}
	if touch {
		u.LastSeenAt, u.ExpiresAt = now, m.deadline(rec, now)
	}
	var version uint64
	if dirty {
		enc, v, err := m.encodeData(data)
		if err != nil {
			return err
		}
		u.ReplaceData, u.Data, version = true, enc, v
	}
	err := m.store.Update(ctx, rec.ID, u)
	switch {
	case err == nil:
		if dirty {
			data.markSaved(version)
		}
		st.mu.Lock()
		if st.rec.ID == rec.ID && touch {
			st.touchDue = false
			st.rec.LastSeenAt, st.rec.ExpiresAt = u.LastSeenAt, u.ExpiresAt
		}
		st.mu.Unlock()
		return nil
	case errors.Is(err, ErrNotFound):
		// The session was revoked or expired during the request: there is
		// nothing left to save into.
		st.mu.Lock()
		if st.rec.ID == rec.ID {
			st.live, st.data, st.err = false, nil, errUnknown()
		}
		st.mu.Unlock()
		return nil
	case !dirty:
		return nil
	}
	return fmt.Errorf("session: saving session data: %w", err)
}

// saveWriter saves the session before the response starts.
type saveWriter struct {
	http.ResponseWriter
	m       *Manager
	st      *state
	r       *http.Request
	started bool // the save before the response was attempted
	failed  bool // it failed and an error response was written instead
}

// start saves the session once, before the first byte of the response, and
// reports whether the handler's response may proceed.
func (sw *saveWriter) start() bool {
	if !sw.started {
		sw.started = true
		if err := sw.m.save(sw.r.Context(), sw.st); err != nil {
			sw.failed = true
			sw.m.onError(sw.ResponseWriter, sw.r, err)
		}
	}
	return !sw.failed
}

// finish runs when the handler has returned.
func (sw *saveWriter) finish() {
	if !sw.started {
		sw.start()
		return
	}
	if !sw.failed {
		_ = sw.m.save(sw.r.Context(), sw.st)
	}
}

// WriteHeader saves the session, then writes the header. Informational (1xx)
// headers other than 101 pass through without saving.
func (sw *saveWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		sw.ResponseWriter.WriteHeader(code)
		return
	}
	if sw.start() {
		sw.ResponseWriter.WriteHeader(code)
	}
}

// Write saves the session, then writes b.
func (sw *saveWriter) Write(b []byte) (int, error) {
	if !sw.start() {
		return 0, errResponseReplaced
	}
	return sw.ResponseWriter.Write(b)
}

// Flush saves the session, then flushes the response if the underlying
// writer can.
func (sw *saveWriter) Flush() {
	if sw.start() {
		_ = http.NewResponseController(sw.ResponseWriter).Flush()
	}
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (sw *saveWriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }
