package session

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/middleware"
)

// Caps on the client description kept with a session, so that a client
// cannot make the store hold large values.
const (
	maxClientIPLen  = 64
	maxUserAgentLen = 512
)

// Manager creates, authenticates, renews and revokes server-side sessions.
// It implements auth.MethodAuthenticator (method auth.MethodSession) for the
// middleware chain. It is immutable after [New] and safe for concurrent use.
type Manager struct {
	cfg        Config
	store      Store
	own        *MemoryStore // the store New built, closed by Close; nil for a host store
	cookieName string
	secure     bool
	cop        *http.CrossOriginProtection // nil when the check is skipped
	onError    func(http.ResponseWriter, *http.Request, error)
}

var _ auth.MethodAuthenticator = (*Manager)(nil)

// New returns a manager configured by cfg, with defaults filled in (see
// [Config]). It fails with an error wrapping [ErrInvalidConfig] when cfg is
// invalid.
func New(cfg Config) (*Manager, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, store: cfg.Store, secure: !cfg.InsecureCookie, onError: cfg.ErrorHandler}
	m.cookieName = cfg.CookieName
	if m.secure {
		m.cookieName = HostPrefix + cfg.CookieName
	}
	if !cfg.InsecureSkipCrossOriginCheck {
		m.cop = http.NewCrossOriginProtection()
		for _, o := range cfg.TrustedOrigins {
			if err := m.cop.AddTrustedOrigin(o); err != nil {
				return nil, fmt.Errorf("%w: trusted origin: %w", ErrInvalidConfig, err)
			}
		}
	}
	if m.onError == nil {
		m.onError = middleware.WriteError
	}
	if m.store == nil {
		m.own = NewMemoryStoreWith(MemoryStoreConfig{Now: cfg.Now, OnExpired: m.emitSwept})
		m.store = m.own
	}
	return m, nil
}

// Close stops the background sweeper of the in-memory store New built when
// Config.Store was nil. It does nothing for a host store, which the host
// closes. It always returns nil.
func (m *Manager) Close() error {
	if m.own != nil {
		return m.own.Close()
	}
	return nil
}

// Method returns auth.MethodSession.
func (m *Manager) Method() auth.Method { return auth.MethodSession }

// Meta describes the client a session is created for. Empty fields are
// filled from the auth.RequestMeta of the context given to [Manager.Create].
type Meta struct {
	// ClientIP is the client's address (kept up to 64 bytes).
	ClientIP string
	// UserAgent is the client's User-Agent (kept up to 512 bytes).
	UserAgent string
	// AuthMethod is how the user authenticated before the session was
	// created (auth.MethodBasic for a password login, auth.MethodOAuth2 for
	// an external IdP). Empty means the principal's Method.
	AuthMethod auth.Method
}

// Info describes one session for its owner: what [Manager.List] returns and
// what GET /sessions shows. It holds no secret.
type Info struct {
	// ID identifies the session for [Manager.Revoke] and equals the
	// CredentialID of principals it authenticates.
	ID                string      `json:"id"`
	CreatedAt         time.Time   `json:"created_at"`
	LastSeenAt        time.Time   `json:"last_seen_at"`
	ExpiresAt         time.Time   `json:"expires_at"`
	AbsoluteExpiresAt time.Time   `json:"absolute_expires_at"`
	ClientIP          string      `json:"client_ip"`
	UserAgent         string      `json:"user_agent"`
	AuthMethod        auth.Method `json:"auth_method"`
}

// Create starts a session for p, stores it and sets the session cookie on w.
// It returns the principal the session authenticates: p's Subject, Username,
// Email, Roles, Scopes and MFA state (Claims are not kept), with Method
// auth.MethodSession and CredentialID the new session's ID.
//
// Call it after a successful login, before writing the response. The session
// always gets a fresh ID, so a session ID planted before login is never
// promoted (session fixation). When ctx is a request context inside
// [Manager.LoadAndSave] that already has a session, that session is ended in
// the same step (same user) or right after (another user).
//
// When the user already holds Config.MaxSessionsPerUser sessions, the oldest
// are revoked (session_revoked, reason "session_limit"), or with
// [RefuseNew] Create fails with an *auth.Error (conflict) wrapping
// [ErrLimitReached]. A nil p or one without a Subject yields
// [ErrInvalidPrincipal]; a store failure a wrapped error.
func (m *Manager) Create(ctx context.Context, w http.ResponseWriter, p *auth.Principal, meta Meta) (*auth.Principal, error) {
	if p == nil || p.Subject == "" {
		return nil, ErrInvalidPrincipal
	}
	now := m.cfg.Now()
	rm := auth.RequestMetaFrom(ctx)
	meta.ClientIP = truncate(cmp.Or(meta.ClientIP, rm.ClientIP), maxClientIPLen)
	meta.UserAgent = truncate(cmp.Or(meta.UserAgent, rm.UserAgent), maxUserAgentLen)
	meta.AuthMethod = cmp.Or(meta.AuthMethod, p.Method)

	secret := newSecret()
	abs := now.Add(m.cfg.AbsoluteTimeout)
	rec := cloneRecord(Record{
		ID:                sessionID(secret),
		UserID:            p.Subject,
		Username:          p.Username,
		Email:             p.Email,
		Roles:             p.Roles,
		Scopes:            p.Scopes,
		MFA:               p.MFA,
		AuthMethod:        meta.AuthMethod,
		ClientIP:          meta.ClientIP,
		UserAgent:         meta.UserAgent,
		CreatedAt:         now,
		LastSeenAt:        now,
		ExpiresAt:         minTime(now.Add(m.cfg.IdleTimeout), abs),
		AbsoluteExpiresAt: abs,
	})

	st := m.state(ctx)
	var prev Record
	hasPrev := false
	if st != nil {
		st.mu.Lock()
		prev, hasPrev = st.rec, st.live
		st.mu.Unlock()
	}
	opts := m.createOptions(now)
	if hasPrev && prev.UserID == rec.UserID {
		opts.Replace = prev.ID
	}
	evicted, err := m.store.Create(ctx, rec, opts)
	if err != nil && opts.Replace != "" && errors.Is(err, ErrNotFound) {
		// The browser's previous session ended meanwhile: nothing to replace.
		opts.Replace, hasPrev = "", false
		evicted, err = m.store.Create(ctx, rec, opts)
	}
	if err != nil {
		return nil, createError(err)
	}
	m.setCookie(w, secret)
	if st != nil {
		st.mu.Lock()
		st.rec, st.live, st.err, st.data, st.touchDue = rec, true, nil, &Data{}, false
		st.mu.Unlock()
	}

	m.emit(ctx, auth.EventSessionCreated, now, rec, "", "auth_method", string(rec.AuthMethod))
	if hasPrev {
		replaced := []Record{prev}
		if opts.Replace == "" {
			// Another user's session: end it now. A failure leaves it to
			// expire; the new session is already in place.
			replaced, _ = m.store.Delete(ctx, Query{ID: prev.ID})
		}
		m.emitRevoked(ctx, now, replaced, "replaced")
	}
	m.emitRevoked(ctx, now, evicted, "session_limit")
	return m.principal(cloneRecord(rec)), nil
}

// Authenticate implements auth.Authenticator with the session cookie.
//
// It returns auth.ErrNoCredentials when r carries no session cookie, or
// carries an Authorization header (a request that presents a token is never
// authenticated by the cookie, so bearer-authenticated API calls are
// unaffected by the cookie and by the cross-origin check). Otherwise it
// returns an *auth.Error: insufficient_permissions (403, wrapping
// [ErrCrossOrigin]) for an unsafe cross-origin request (see
// http.CrossOriginProtection, with Config.TrustedOrigins), invalid_token for
// a malformed cookie or an unknown or revoked session, token_expired for an
// expired one (which it deletes, emitting session_expired). A store failure
// is a wrapped error.
//
// A successful call moves the idle deadline when the last recorded use is at
// least Config.TouchInterval old; a failed write is not an error (the next
// request retries). Inside [Manager.LoadAndSave] it reuses the session the
// middleware loaded and leaves the write to the middleware.
func (m *Manager) Authenticate(r *http.Request) (*auth.Principal, error) {
	if st := m.state(r.Context()); st != nil {
		st.mu.Lock()
		rec, live, err := st.rec, st.live, st.err
		st.mu.Unlock()
		if !live {
			return nil, cmp.Or(err, auth.ErrNoCredentials)
		}
		return m.principal(cloneRecord(rec)), nil
	}
	rec, now, err := m.resolve(r)
	if err != nil {
		return nil, err
	}
	if now.Sub(rec.LastSeenAt) >= m.cfg.TouchInterval {
		exp := m.deadline(rec, now)
		err := m.store.Update(r.Context(), rec.ID, Update{Now: now, LastSeenAt: now, ExpiresAt: exp})
		switch {
		case err == nil:
			rec.LastSeenAt, rec.ExpiresAt = now, exp
		case errors.Is(err, ErrNotFound):
			return nil, errUnknown()
		}
	}
	return m.principal(rec), nil
}

// resolve finds the live session r presents. Errors are those documented on
// Authenticate.
func (m *Manager) resolve(r *http.Request) (Record, time.Time, error) {
	if _, ok := r.Header["Authorization"]; ok {
		return Record{}, time.Time{}, auth.ErrNoCredentials
	}
	v, ok := cookieValue(r.Header, m.cookieName)
	if !ok {
		return Record{}, time.Time{}, auth.ErrNoCredentials
	}
	if err := m.checkOrigin(r); err != nil {
		return Record{}, time.Time{}, err
	}
	if !validCookieValue(v) {
		return Record{}, time.Time{}, auth.NewError(auth.CodeInvalidToken, "malformed session cookie")
	}
	id := sessionID(v)
	ctx := r.Context()
	rec, err := m.store.Get(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return Record{}, time.Time{}, errUnknown()
	case err != nil:
		return Record{}, time.Time{}, fmt.Errorf("session: reading session: %w", err)
	case rec.ID != id:
		return Record{}, time.Time{}, errors.New("session: store returned another session than the one asked for")
	}
	now := m.cfg.Now()
	if reason := m.expiry(rec, now); reason != "" {
		if gone, err := m.store.Delete(ctx, Query{ID: rec.ID}); err == nil && len(gone) > 0 {
			m.emit(ctx, auth.EventSessionExpired, now, rec, reason)
		}
		return Record{}, time.Time{}, auth.NewError(auth.CodeTokenExpired, "the session has expired")
	}
	return rec, now, nil
}

// checkOrigin applies the cross-origin check to a request that carries the
// session cookie.
func (m *Manager) checkOrigin(r *http.Request) error {
	if m.cop == nil {
		return nil
	}
	if err := m.cop.Check(r); err != nil {
		return &auth.Error{
			Code:        auth.CodeInsufficientPermissions,
			Description: "cross-origin request rejected",
			Err:         fmt.Errorf("%w: %w", ErrCrossOrigin, err),
		}
	}
	return nil
}

func errUnknown() error {
	return auth.WrapError(auth.CodeInvalidToken, "unknown or ended session", ErrNotFound)
}

// expiry returns why rec has ended at now ("absolute_timeout",
// "idle_timeout"), or "" if it is live. It applies the current configuration
// too, so that shortening a timeout also shortens existing sessions.
func (m *Manager) expiry(rec Record, now time.Time) string {
	abs := rec.CreatedAt.Add(m.cfg.AbsoluteTimeout)
	if !rec.AbsoluteExpiresAt.IsZero() {
		abs = minTime(abs, rec.AbsoluteExpiresAt)
	}
	if !now.Before(abs) {
		return "absolute_timeout"
	}
	idle := minTime(rec.LastSeenAt.Add(m.cfg.IdleTimeout), rec.ExpiresAt)
	if !now.Before(idle) {
		return "idle_timeout"
	}
	return ""
}

// deadline returns the ExpiresAt of rec used at now.
func (m *Manager) deadline(rec Record, now time.Time) time.Time {
	d := minTime(now.Add(m.cfg.IdleTimeout), rec.CreatedAt.Add(m.cfg.AbsoluteTimeout))
	if !rec.AbsoluteExpiresAt.IsZero() {
		d = minTime(d, rec.AbsoluteExpiresAt)
	}
	return d
}

func (m *Manager) createOptions(now time.Time) CreateOptions {
	return CreateOptions{Now: now, MaxPerUser: m.cfg.MaxSessionsPerUser, Refuse: m.cfg.OnLimit == RefuseNew}
}

func createError(err error) error {
	if errors.Is(err, ErrLimitReached) {
		return &auth.Error{
			Code:        auth.CodeConflict,
			Description: "too many active sessions; end one of them first",
			Err:         err,
		}
	}
	return fmt.Errorf("session: storing session: %w", err)
}

// principal returns the principal rec authenticates. It takes ownership of
// rec's slices.
func (m *Manager) principal(rec Record) *auth.Principal {
	return &auth.Principal{
		Subject:      rec.UserID,
		Username:     rec.Username,
		Email:        rec.Email,
		Roles:        rec.Roles,
		Scopes:       rec.Scopes,
		Method:       auth.MethodSession,
		CredentialID: rec.ID,
		ExpiresAt:    rec.ExpiresAt,
		MFA:          rec.MFA,
	}
}

// Renew gives the session of r a new ID and cookie, keeping its data, its
// creation time and its absolute deadline; the old ID stops working at once
// (session fixation protection). Call it whenever the session's privileges
// change: after a second factor is verified, a role is granted, a password
// is changed. A non-nil p replaces the identity kept with the session
// (Username, Email, Roles, Scopes, MFA); its Subject must be the session's
// user, or Renew fails with [ErrInvalidPrincipal]. A nil p keeps it.
//
// It returns the principal of the renewed session, whose CredentialID is the
// new ID. It fails with the errors of [Manager.Authenticate] when r has no
// live session, and with an invalid_token *auth.Error when the session was
// revoked or renewed concurrently (a session is renewed at most once).
func (m *Manager) Renew(w http.ResponseWriter, r *http.Request, p *auth.Principal) (*auth.Principal, error) {
	ctx := r.Context()
	var rec Record
	var data *Data
	st := m.state(ctx)
	if st != nil {
		st.mu.Lock()
		rec, data = st.rec, st.data
		live, serr := st.live, st.err
		st.mu.Unlock()
		if !live {
			return nil, cmp.Or(serr, auth.ErrNoCredentials)
		}
	} else {
		var err error
		if rec, _, err = m.resolve(r); err != nil {
			return nil, err
		}
	}
	if p != nil {
		if p.Subject != rec.UserID {
			return nil, ErrInvalidPrincipal
		}
		rec.Username, rec.Email, rec.Roles, rec.Scopes, rec.MFA = p.Username, p.Email, p.Roles, p.Scopes, p.MFA
	}
	var version uint64
	saveData := data != nil && data.dirty()
	if saveData {
		enc, v, err := m.encodeData(data)
		if err != nil {
			return nil, err
		}
		rec.Data, version = enc, v
	}

	now := m.cfg.Now()
	secret := newSecret()
	old := rec.ID
	next := cloneRecord(rec)
	next.ID = sessionID(secret)
	next.LastSeenAt = now
	next.ExpiresAt = m.deadline(next, now)
	if !now.Before(next.ExpiresAt) {
		return nil, auth.NewError(auth.CodeTokenExpired, "the session has expired")
	}
	opts := m.createOptions(now)
	opts.Replace = old
	evicted, err := m.store.Create(ctx, next, opts)
	if errors.Is(err, ErrNotFound) {
		return nil, auth.WrapError(auth.CodeInvalidToken, "the session has ended", err)
	}
	if err != nil {
		return nil, createError(err)
	}
	m.setCookie(w, secret)
	if st != nil {
		st.mu.Lock()
		if st.live && st.rec.ID == old {
			st.rec, st.touchDue = next, false
		}
		st.mu.Unlock()
		if saveData {
			data.markSaved(version)
		}
	}
	m.emit(ctx, auth.EventSessionRenewed, now, next, "", "previous_session_id", old)
	m.emitRevoked(ctx, now, evicted, "session_limit")
	return m.principal(cloneRecord(next)), nil
}

// Logout ends the session of r, if any, and clears the cookie on w (also
// when there is no session). It fails with a 403 *auth.Error for an unsafe
// cross-origin request carrying the cookie (so that another site cannot log
// users out), and with a wrapped error when the store fails; the cookie is
// cleared in that case too, but the session stays valid until it expires or
// is revoked.
func (m *Manager) Logout(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := ""
	if st := m.state(ctx); st != nil {
		st.mu.Lock()
		if st.live {
			id = st.rec.ID
		}
		st.live, st.data, st.err = false, nil, auth.ErrNoCredentials
		st.mu.Unlock()
	}
	if id == "" {
		if v, ok := cookieValue(r.Header, m.cookieName); ok {
			if err := m.checkOrigin(r); err != nil {
				return err
			}
			if validCookieValue(v) {
				id = sessionID(v)
			}
		}
	}
	m.clearCookie(w)
	if id == "" {
		return nil
	}
	gone, err := m.store.Delete(ctx, Query{ID: id})
	if err != nil {
		return fmt.Errorf("session: ending session: %w", err)
	}
	m.emitRevoked(ctx, m.cfg.Now(), gone, "logout")
	return nil
}

// Revoke ends the session with the given ID, whoever owns it (an
// administrator's action). Revoking an unknown ID is not an error. For a
// user ending one of their own sessions use [Manager.RevokeUserSession].
func (m *Manager) Revoke(ctx context.Context, id string) error {
	if !validID(id) {
		return nil
	}
	gone, err := m.store.Delete(ctx, Query{ID: id})
	if err != nil {
		return fmt.Errorf("session: revoking session: %w", err)
	}
	m.emitRevoked(ctx, m.cfg.Now(), gone, "revoked")
	return nil
}

// RevokeUserSession ends the session with the given ID only if it belongs to
// userID, in one store operation. It returns [ErrNotFound] when userID has
// no such session, so that DELETE /sessions/{id} answers 404 for another
// user's session exactly as for an unknown one.
func (m *Manager) RevokeUserSession(ctx context.Context, userID, id string) error {
	if userID == "" || !validID(id) {
		return ErrNotFound
	}
	gone, err := m.store.Delete(ctx, Query{ID: id, UserID: userID})
	if err != nil {
		return fmt.Errorf("session: revoking session: %w", err)
	}
	if len(gone) == 0 {
		return ErrNotFound
	}
	m.emitRevoked(ctx, m.cfg.Now(), gone, "revoked")
	return nil
}

// RevokeAll ends every session of userID (after a password change, an
// account lock, "log out everywhere") and returns how many it ended.
func (m *Manager) RevokeAll(ctx context.Context, userID string) (int, error) {
	return m.revokeUser(ctx, userID, "", "revoke_all")
}

// RevokeOthers ends every session of userID except currentID ("log out my
// other devices") and returns how many it ended. An empty currentID ends
// them all.
func (m *Manager) RevokeOthers(ctx context.Context, userID, currentID string) (int, error) {
	return m.revokeUser(ctx, userID, currentID, "revoke_others")
}

func (m *Manager) revokeUser(ctx context.Context, userID, except, reason string) (int, error) {
	if userID == "" {
		return 0, fmt.Errorf("%w: empty user ID", ErrInvalidPrincipal)
	}
	gone, err := m.store.Delete(ctx, Query{UserID: userID, Except: except})
	if err != nil {
		return 0, fmt.Errorf("session: revoking sessions: %w", err)
	}
	m.emitRevoked(ctx, m.cfg.Now(), gone, reason)
	return len(gone), nil
}

// List returns the live sessions of userID, newest first, from the store's
// per-user index.
func (m *Manager) List(ctx context.Context, userID string) ([]Info, error) {
	recs, err := m.store.List(ctx, userID, m.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("session: listing sessions: %w", err)
	}
	slices.SortFunc(recs, func(a, b Record) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	out := make([]Info, 0, len(recs))
	for _, r := range recs {
		if r.UserID != userID {
			continue
		}
		out = append(out, Info{
			ID: r.ID, CreatedAt: r.CreatedAt, LastSeenAt: r.LastSeenAt, ExpiresAt: r.ExpiresAt,
			AbsoluteExpiresAt: r.AbsoluteExpiresAt, ClientIP: r.ClientIP, UserAgent: r.UserAgent,
			AuthMethod: r.AuthMethod,
		})
	}
	return out, nil
}

// emit sends one event about rec. attrs are key/value pairs added to the
// event's Attrs next to "session_id".
func (m *Manager) emit(ctx context.Context, t auth.EventType, now time.Time, rec Record, reason string, attrs ...string) {
	if m.cfg.Events == nil {
		return
	}
	e := auth.NewEvent(ctx, t, now)
	e.Subject, e.Username, e.Method, e.Reason = rec.UserID, rec.Username, auth.MethodSession, reason
	e.Attrs = map[string]string{"session_id": rec.ID}
	for i := 0; i+1 < len(attrs); i += 2 {
		e.Attrs[attrs[i]] = attrs[i+1]
	}
	m.cfg.Events.Emit(e)
}

func (m *Manager) emitRevoked(ctx context.Context, now time.Time, recs []Record, reason string) {
	for _, rec := range recs {
		m.emit(ctx, auth.EventSessionRevoked, now, rec, reason)
	}
}

// emitSwept reports a session removed by the sweeper of the manager's own
// store.
func (m *Manager) emitSwept(rec Record) {
	now := m.cfg.Now()
	reason := m.expiry(rec, now)
	if reason == "" {
		reason = "idle_timeout"
	}
	m.emit(context.Background(), auth.EventSessionExpired, now, rec, reason)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
