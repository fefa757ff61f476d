package apikey

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// maxValidationBody caps the request and response bodies of the validation
// protocol.
const maxValidationBody = 64 << 10

// RemoteConfig configures a [Remote] validator. URL is required; every other
// zero field is a secure default.
type RemoteConfig struct {
	// URL is the validation endpoint, for example a [Manager.ValidationHandler]
	// mounted by the service that owns the keys. It must be https unless
	// InsecureAllowHTTP is set: the key travels in the request body.
	URL string
	// InsecureAllowHTTP allows an http URL. Use it only for a validator on
	// the loopback interface or inside an encrypted network.
	InsecureAllowHTTP bool
	// HTTPClient sends the requests. Nil means a client that follows no
	// redirects (a redirect is then answered as unavailable), so a key is
	// never re-sent to another location; a host client should do the same.
	HTTPClient *http.Client
	// Header is added to every validation request, typically the
	// credentials of this service towards the validator.
	Header http.Header
	// Timeout bounds each validation request. Zero means 2 seconds.
	Timeout time.Duration
	// Format is the key syntax; keys that fail its checksum are rejected
	// without a request. The zero value is prefix "gk_".
	Format Format
	// PositiveTTL is how long a valid answer is cached, and so how long a
	// revoked key or a demoted owner may still be accepted. Zero means one
	// minute; negative disables positive caching. An answer is never cached
	// past the key's expiry.
	PositiveTTL time.Duration
	// NegativeTTL is how long an invalid answer is cached. Zero means 10
	// seconds; negative disables negative caching. It must not exceed
	// PositiveTTL: a new key should start working quickly.
	NegativeTTL time.Duration
	// CacheSize bounds the number of cached answers of each kind. Zero means
	// 10,000. When full, an arbitrary entry is evicted.
	CacheSize int
	// Now is the clock of the cache. Nil means time.Now.
	Now func() time.Time
	// Events receives api_key_rejected events. Nil discards them.
	Events auth.Emitter
}

// Remote verifies keys by asking a validation service over HTTP, caching
// the answers. It is for processes that do not hold the key store: an edge
// gateway, or a service in another trust zone. It is safe for concurrent use.
//
// The protocol is one POST of {"api_key": "...", "client_ip": "..."} as JSON;
// the answer is 200 with {"valid": false}, or {"valid": true, "key_id",
// "subject", "username", "email", "roles", "permissions", "expires_at"}.
// Any other answer, a timeout or a network failure is an error wrapping
// [ErrRemoteUnavailable], which the middleware answers with 503, never 401,
// and which is not cached.
//
// Uses served from the cache are not seen by the validator: its last-used
// records and api_key_used events lag by up to PositiveTTL.
type Remote struct {
	cfg    RemoteConfig
	parser parser
	client *http.Client
	now    func() time.Time

	mu  sync.Mutex // guards pos and neg
	pos map[Hash]remoteEntry
	neg map[Hash]time.Time // expiry of each negative answer
}

type remoteEntry struct {
	p   *auth.Principal // never modified once cached
	exp time.Time
}

// NewRemote returns a Remote for cfg, validating it and filling defaults.
func NewRemote(cfg RemoteConfig) (*Remote, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("apikey: invalid remote URL %q", cfg.URL)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && cfg.InsecureAllowHTTP) {
		return nil, fmt.Errorf("apikey: remote URL must be https (or set InsecureAllowHTTP): %q", cfg.URL)
	}
	if err := cfg.Format.Validate(); err != nil {
		return nil, err
	}
	cfg.Format = cfg.Format.withDefaults()
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("apikey: remote Timeout must not be negative")
	}
	if cfg.PositiveTTL == 0 {
		cfg.PositiveTTL = time.Minute
	}
	if cfg.NegativeTTL == 0 {
		cfg.NegativeTTL = 10 * time.Second
	}
	if cfg.NegativeTTL > 0 && cfg.PositiveTTL > 0 && cfg.NegativeTTL > cfg.PositiveTTL {
		return nil, errors.New("apikey: remote NegativeTTL must not exceed PositiveTTL")
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 10_000
	}
	if cfg.CacheSize < 0 {
		return nil, errors.New("apikey: remote CacheSize must not be negative")
	}
	r := &Remote{cfg: cfg, parser: newParser(cfg.Format), client: cfg.HTTPClient, now: cfg.Now,
		pos: make(map[Hash]remoteEntry), neg: make(map[Hash]time.Time)}
	if r.client == nil {
		r.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r, nil
}

// Format returns the key format of r.
func (r *Remote) Format() Format { return r.cfg.Format }

// Verify verifies key: locally its syntax and checksum, then from the
// cache or the validator. A rejected key gives an *auth.Error invalid_token;
// an unreachable or misbehaving validator an error wrapping
// [ErrRemoteUnavailable]. The principal's Method is api_key and its Scopes
// are non-nil.
func (r *Remote) Verify(ctx context.Context, key string) (*auth.Principal, error) {
	now := r.now()
	if err := r.parser.check(key); err != nil {
		return nil, r.reject(ctx, now, key, reasonOf(err), err)
	}
	h := Hash(sha256.Sum256([]byte(key)))
	if p, valid, ok := r.cached(h, now); ok {
		if !valid {
			return nil, r.reject(ctx, now, key, "remote_rejected", ErrNotFound)
		}
		c := *p
		return &c, nil
	}
	p, err := r.ask(ctx, key)
	if err != nil {
		return nil, err
	}
	now = r.now()
	if p == nil {
		r.store(h, nil, now.Add(r.cfg.NegativeTTL))
		return nil, r.reject(ctx, now, key, "remote_rejected", ErrNotFound)
	}
	exp := now.Add(r.cfg.PositiveTTL)
	if !p.ExpiresAt.IsZero() && p.ExpiresAt.Before(exp) {
		exp = p.ExpiresAt
	}
	r.store(h, p, exp)
	c := *p
	return &c, nil
}

// cached returns the cached answer for h: ok is false on a miss.
func (r *Remote) cached(h Hash, now time.Time) (p *auth.Principal, valid, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, hit := r.pos[h]; hit {
		if now.Before(e.exp) {
			return e.p, true, true
		}
		delete(r.pos, h)
	}
	if exp, hit := r.neg[h]; hit {
		if now.Before(exp) {
			return nil, false, true
		}
		delete(r.neg, h)
	}
	return nil, false, false
}

// store caches an answer (p nil for invalid) until exp.
func (r *Remote) store(h Hash, p *auth.Principal, exp time.Time) {
	ttl := r.cfg.PositiveTTL
	if p == nil {
		ttl = r.cfg.NegativeTTL
	}
	if ttl < 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p == nil {
		if _, ok := r.neg[h]; !ok && len(r.neg) >= r.cfg.CacheSize {
			for k := range r.neg {
				delete(r.neg, k)
				break
			}
		}
		r.neg[h] = exp
		return
	}
	delete(r.neg, h)
	if _, ok := r.pos[h]; !ok && len(r.pos) >= r.cfg.CacheSize {
		for k := range r.pos {
			delete(r.pos, k)
			break
		}
	}
	r.pos[h] = remoteEntry{p: p, exp: exp}
}

// Forget drops any cached answer for key, for example after revoking it
// through another channel.
func (r *Remote) Forget(key string) {
	h := Hash(sha256.Sum256([]byte(key)))
	r.mu.Lock()
	delete(r.pos, h)
	delete(r.neg, h)
	r.mu.Unlock()
}

type validationRequest struct {
	APIKey   string `json:"api_key"`
	ClientIP string `json:"client_ip,omitempty"`
}

type validationResponse struct {
	Valid       bool      `json:"valid"`
	KeyID       string    `json:"key_id,omitempty"`
	Subject     string    `json:"subject,omitempty"`
	Username    string    `json:"username,omitempty"`
	Email       string    `json:"email,omitempty"`
	Roles       []string  `json:"roles,omitempty"`
	Permissions []string  `json:"permissions,omitempty"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
}

// ask queries the validator: (nil, nil) means the key is invalid.
func (r *Remote) ask(ctx context.Context, key string) (*auth.Principal, error) {
	unavailable := func(err error) error { return fmt.Errorf("%w: %w", ErrRemoteUnavailable, err) }
	body, err := json.Marshal(validationRequest{APIKey: key, ClientIP: auth.RequestMetaFrom(ctx).ClientIP})
	if err != nil {
		return nil, unavailable(err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return nil, unavailable(err)
	}
	for name, vals := range r.cfg.Header {
		for _, v := range vals {
			req.Header.Add(name, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, unavailable(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxValidationBody))
		return nil, unavailable(fmt.Errorf("validator answered %s", resp.Status))
	}
	var vr validationResponse
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxValidationBody))
	if err := dec.Decode(&vr); err != nil {
		return nil, unavailable(fmt.Errorf("decode answer: %w", err))
	}
	if !vr.Valid {
		return nil, nil
	}
	if vr.KeyID == "" || vr.Subject == "" {
		return nil, unavailable(errors.New("valid answer without key_id or subject"))
	}
	scopes := vr.Permissions
	if scopes == nil {
		scopes = []string{}
	}
	return &auth.Principal{
		Subject:      vr.Subject,
		Username:     vr.Username,
		Email:        vr.Email,
		Roles:        vr.Roles,
		Scopes:       scopes,
		Method:       auth.MethodAPIKey,
		CredentialID: vr.KeyID,
		ExpiresAt:    vr.ExpiresAt,
	}, nil
}

func (r *Remote) reject(ctx context.Context, now time.Time, key, reason string, cause error) error {
	if r.cfg.Events != nil {
		e := auth.NewEvent(ctx, auth.EventAPIKeyRejected, now)
		e.Method = auth.MethodAPIKey
		e.Reason = reason
		e.Attrs = map[string]string{}
		if d := r.cfg.Format.Display(key); d != "" && !errors.Is(cause, ErrMalformed) {
			e.Attrs["key_prefix"] = d
		}
		r.cfg.Events.Emit(e)
	}
	return invalidKey(cause)
}

// ValidationHandler returns the server side of the [Remote] protocol: it
// verifies the posted key with m and answers 200 {"valid": ...}, or 503 when
// the key could not be checked.
//
// The endpoint tells whether a key is valid and whom it belongs to, and it
// trusts the posted client_ip for last-used records: mount it only where
// the validating services reach it, behind their authentication (see
// [RemoteConfig.Header]), never on a public route.
func (m *Manager) ValidationHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeValidation(w, http.StatusMethodNotAllowed, map[string]string{"error": "invalid_request"})
			return
		}
		if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt != "application/json" {
			writeValidation(w, http.StatusUnsupportedMediaType, map[string]string{"error": "invalid_request"})
			return
		}
		var vr validationRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, req.Body, maxValidationBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&vr); err != nil {
			writeValidation(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
			return
		}
		ctx := req.Context()
		if vr.ClientIP != "" {
			meta := auth.RequestMetaFrom(ctx)
			meta.ClientIP = vr.ClientIP
			ctx = auth.WithRequestMeta(ctx, meta)
		}
		p, err := m.Verify(ctx, vr.APIKey)
		if err != nil {
			var ae *auth.Error
			if errors.As(err, &ae) {
				writeValidation(w, http.StatusOK, validationResponse{Valid: false})
				return
			}
			writeValidation(w, http.StatusServiceUnavailable, map[string]string{"error": "unavailable"})
			return
		}
		writeValidation(w, http.StatusOK, validationResponse{
			Valid: true, KeyID: p.CredentialID, Subject: p.Subject, Username: p.Username, Email: p.Email,
			Roles: p.Roles, Permissions: p.Scopes, ExpiresAt: p.ExpiresAt,
		})
	})
}

func writeValidation(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
