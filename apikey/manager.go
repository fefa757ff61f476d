package apikey

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/internal/secure"
)

// Limits on the parameters of a key.
const (
	MaxNameLength          = 100
	MaxDescriptionLength   = 1000
	MaxPermissions         = 64
	MaxPermissionLength    = 128
	MaxMetadataEntries     = 16
	MaxMetadataKeyLength   = 64
	MaxMetadataValueLength = 512
)

// OwnerLookup gives the current state of a key's owner. The host implements
// it over its user store; it is called on every verification, so that
// demoting an owner demotes their keys, and disabling or deleting an owner
// disables their keys, at once.
type OwnerLookup interface {
	// Owner returns the owner's current principal: Username, Email, Roles
	// and, optionally, Scopes (which further narrow the key). It returns an
	// error wrapping [ErrOwnerDisabled] for an owner who may not
	// authenticate, an error wrapping [ErrNotFound] for an owner who no
	// longer exists, and any other error when the lookup itself failed
	// (answered with 503). It must not return (nil, nil).
	Owner(ctx context.Context, ownerID string) (*auth.Principal, error)
}

// PermissionChecker answers whether a principal holds a permission. An
// rbac.Policy satisfies it. It must be safe for concurrent use.
type PermissionChecker interface {
	Has(p *auth.Principal, permission string) bool
}

// Config configures a [Manager]. Owners and Policy are required; every other
// zero field is a secure default.
type Config struct {
	// Store holds the key records. Nil means a new [MemoryStore].
	Store Store
	// Owners looks up a key's owner at every verification. Required.
	Owners OwnerLookup
	// Policy checks, at creation, that the creator holds every permission
	// asked for the key. Required.
	Policy PermissionChecker
	// Format is the key syntax. The zero value means prefix "gk_" and a
	// 32-character body.
	Format Format
	// HashKey, when set, makes the stored hash an HMAC-SHA256 under this
	// server secret (at least 32 bytes) instead of a plain SHA-256. With it,
	// someone who can read or write the key table but not the HashKey can
	// neither test candidate keys offline nor plant a key of their own
	// choosing. Keep it out of the database. Changing it invalidates every
	// existing key. Nil means SHA-256, which is adequate against offline
	// guessing of 190-bit random keys but not against planted rows.
	HashKey []byte
	// MaxLifetime, when positive, requires every new key to expire no later
	// than MaxLifetime after its creation. Zero allows keys that never
	// expire (ExpiresAt zero).
	MaxLifetime time.Duration
	// MaxKeysPerOwner caps the unrevoked, unexpired keys of one owner. Zero
	// means 100; negative means no cap. The cap is checked before inserting
	// and concurrent creations may overshoot it by their number.
	MaxKeysPerOwner int
	// MaxRotationGrace is the longest grace period [Manager.Rotate] accepts.
	// Zero means 7 days.
	MaxRotationGrace time.Duration
	// FlushInterval is how often last-used records are written to the
	// store, and so the precision of [Key.LastUsedAt]. Zero means one
	// minute; negative disables the background flush (call
	// [Manager.Flush]).
	FlushInterval time.Duration
	// OnFlushError, if set, is told about failed background flushes. It runs
	// on the flush goroutine and must not block for long.
	OnFlushError func(error)
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Events receives api_key_* events. Nil discards them.
	Events auth.Emitter
}

// Params are the caller-chosen attributes of a new key.
type Params struct {
	// Name labels the key; required, at most 100 bytes of text.
	Name string
	// Description is optional text, at most 1000 bytes.
	Description string
	// Permissions are the permissions the key may exercise, each one held
	// by its creator. Exact permission names only: wildcards ("*",
	// "predictions:*") are refused. Empty means a key that identifies its
	// owner but grants nothing.
	Permissions []string
	// ExpiresAt is when the key stops working; zero means never (unless
	// [Config.MaxLifetime] is set).
	ExpiresAt time.Time
	// Metadata holds up to 16 host-defined labels.
	Metadata map[string]string
}

// Manager creates, lists, rotates, revokes and verifies API keys. It is safe
// for concurrent use. Call [Manager.Close] on shutdown to write pending
// last-used records.
type Manager struct {
	cfg    Config
	store  Store
	shared SharedLookup // store's optional capability, or nil
	format Format
	parser parser
	hasher *hasher
	now    func() time.Time
	usage  usageTracker

	stop      chan struct{} // closed by Close; nil without background flush
	done      chan struct{} // closed when the flush goroutine exits
	closeOnce sync.Once
}

// New returns a Manager for cfg, validating it and filling defaults. Unless
// cfg.FlushInterval is negative it starts a goroutine that [Manager.Close]
// stops.
func New(cfg Config) (*Manager, error) {
	if cfg.Owners == nil {
		return nil, errors.New("apikey: Config.Owners is required")
	}
	if cfg.Policy == nil {
		return nil, errors.New("apikey: Config.Policy is required")
	}
	if err := cfg.Format.Validate(); err != nil {
		return nil, err
	}
	cfg.Format = cfg.Format.withDefaults()
	if cfg.HashKey != nil && len(cfg.HashKey) < MinHashKeyLength {
		return nil, fmt.Errorf("apikey: HashKey must be at least %d bytes", MinHashKeyLength)
	}
	if cfg.MaxLifetime < 0 {
		return nil, errors.New("apikey: MaxLifetime must not be negative")
	}
	if cfg.MaxRotationGrace < 0 {
		return nil, errors.New("apikey: MaxRotationGrace must not be negative")
	}
	if cfg.MaxRotationGrace == 0 {
		cfg.MaxRotationGrace = 7 * 24 * time.Hour
	}
	if cfg.MaxKeysPerOwner == 0 {
		cfg.MaxKeysPerOwner = 100
	}
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = time.Minute
	}
	if cfg.Store == nil {
		cfg.Store = NewMemoryStore()
	}
	m := &Manager{
		cfg:    cfg,
		store:  cfg.Store,
		format: cfg.Format,
		parser: newParser(cfg.Format),
		hasher: newHasher(cfg.HashKey),
		now:    cfg.Now,
	}
	if m.now == nil {
		m.now = time.Now
	}
	m.shared, _ = cfg.Store.(SharedLookup)
	if cfg.FlushInterval > 0 {
		m.stop = make(chan struct{})
		m.done = make(chan struct{})
		go m.flushLoop(cfg.FlushInterval)
	}
	return m, nil
}

// Format returns the key format of m.
func (m *Manager) Format() Format { return m.format }

// Hash returns the stored hash of key under m's configuration. Hosts need it
// only to import keys issued elsewhere.
func (m *Manager) Hash(key string) Hash { return m.hasher.sum(key) }

// Create makes a key acting for owner (owner.Subject becomes the key's
// OwnerID) and returns it in plaintext, the only time it is available, with
// its record.
//
// Every permission asked for must be held by owner according to
// [Config.Policy]; otherwise Create fails with an *auth.Error
// insufficient_permissions whose internal cause wraps [ErrEscalation] and
// names the missing permissions. When owner was itself authenticated by an
// API key, the policy sees its narrowed Scopes, so a key cannot mint a
// broader key. Invalid params give an *auth.Error invalid_request.
func (m *Manager) Create(ctx context.Context, owner *auth.Principal, p Params) (string, *Key, error) {
	if owner == nil || owner.Subject == "" {
		return "", nil, errors.New("apikey: Create needs an owner principal with a Subject")
	}
	now := m.now()
	perms, err := m.checkParams(owner, p, now)
	if err != nil {
		return "", nil, err
	}
	if m.cfg.MaxKeysPerOwner > 0 {
		keys, err := m.store.List(ctx, owner.Subject)
		if err != nil {
			return "", nil, fmt.Errorf("apikey: list keys of %q: %w", owner.Subject, err)
		}
		live := 0
		for _, k := range keys {
			if k.Check(now) == nil {
				live++
			}
		}
		if live >= m.cfg.MaxKeysPerOwner {
			return "", nil, auth.NewError(auth.CodeConflict, "too many API keys; revoke one first")
		}
	}
	plain, k, err := m.newKey(now)
	if err != nil {
		return "", nil, err
	}
	k.OwnerID = owner.Subject
	k.Name = p.Name
	k.Description = p.Description
	k.Permissions = perms
	k.Metadata = cloneMetadata(p.Metadata)
	k.ExpiresAt = p.ExpiresAt
	if err := m.store.Create(ctx, k, nil); err != nil {
		return "", nil, fmt.Errorf("apikey: store key: %w", err)
	}
	e := m.event(ctx, auth.EventAPIKeyCreated, now, k)
	e.Username = owner.Username
	e.Attrs["name"] = k.Name
	e.Attrs["permissions"] = strings.Join(k.Permissions, " ")
	auth.Emit(m.cfg.Events, e)
	return plain, m.public(k), nil
}

// newKey generates a key and the parts of its record that derive from it.
func (m *Manager) newKey(now time.Time) (string, *Key, error) {
	plain, err := m.format.Generate()
	if err != nil {
		return "", nil, err
	}
	k := &Key{
		ID:        secure.Base62(22),
		Prefix:    strings.Clone(m.format.Display(plain)), // not a slice of the secret
		Hash:      m.hasher.sum(plain),
		CreatedAt: now,
	}
	return plain, k, nil
}

// checkParams validates p and returns its normalised permissions.
func (m *Manager) checkParams(owner *auth.Principal, p Params, now time.Time) ([]string, error) {
	invalid := func(desc string) error { return auth.NewError(auth.CodeInvalidRequest, desc) }
	if p.Name == "" || len(p.Name) > MaxNameLength || !isText(p.Name, false) {
		return nil, invalid(fmt.Sprintf("name must be 1-%d characters of text", MaxNameLength))
	}
	if len(p.Description) > MaxDescriptionLength || !isText(p.Description, true) {
		return nil, invalid(fmt.Sprintf("description must be at most %d characters of text", MaxDescriptionLength))
	}
	if len(p.Metadata) > MaxMetadataEntries {
		return nil, invalid(fmt.Sprintf("at most %d metadata entries", MaxMetadataEntries))
	}
	for k, v := range p.Metadata {
		if k == "" || len(k) > MaxMetadataKeyLength || !isText(k, false) ||
			len(v) > MaxMetadataValueLength || !isText(v, false) {
			return nil, invalid("metadata keys and values must be short text")
		}
	}
	if !p.ExpiresAt.IsZero() && !p.ExpiresAt.After(now) {
		return nil, invalid("expires_at must be in the future")
	}
	if m.cfg.MaxLifetime > 0 {
		if p.ExpiresAt.IsZero() {
			return nil, invalid("expires_at is required")
		}
		if p.ExpiresAt.After(now.Add(m.cfg.MaxLifetime)) {
			return nil, invalid("expires_at is too far in the future")
		}
	}
	if len(p.Permissions) > MaxPermissions {
		return nil, invalid(fmt.Sprintf("at most %d permissions", MaxPermissions))
	}
	perms := make([]string, 0, len(p.Permissions))
	for _, perm := range p.Permissions {
		if perm == "" || len(perm) > MaxPermissionLength {
			return nil, invalid("invalid permission name")
		}
		for i := 0; i < len(perm); i++ {
			if c := perm[i]; c <= ' ' || c >= 0x7f {
				return nil, invalid("invalid permission name")
			}
		}
		if strings.Contains(perm, "*") {
			return nil, invalid("wildcard permissions are not allowed on API keys; list each permission")
		}
		perms = append(perms, perm)
	}
	slices.Sort(perms)
	perms = slices.Compact(perms)
	var missing []string
	for _, perm := range perms {
		if !m.cfg.Policy.Has(owner, perm) {
			missing = append(missing, perm)
		}
	}
	if len(missing) > 0 {
		return nil, auth.WrapError(auth.CodeInsufficientPermissions,
			"the key may not have permissions its creator does not hold",
			fmt.Errorf("%w: %s lacks %s", ErrEscalation, owner.Subject, strings.Join(missing, ", ")))
	}
	return perms, nil
}

// List returns the keys of ownerID, revoked and expired ones included, in
// creation order. It never returns key material: records carry no plaintext
// and their Hash is zeroed.
func (m *Manager) List(ctx context.Context, ownerID string) ([]*Key, error) {
	keys, err := m.store.List(ctx, ownerID)
	if err != nil {
		return nil, fmt.Errorf("apikey: list keys of %q: %w", ownerID, err)
	}
	for _, k := range keys {
		k.Hash = Hash{}
	}
	return keys, nil
}

// Get returns the key with the given ID (Hash zeroed). A missing key gives an
// *auth.Error not_found wrapping [ErrNotFound].
//
// Get, Revoke and Rotate do not check who is asking: a caller acting for a
// user must compare the key's OwnerID with that user before acting, and
// answer not_found when they differ.
func (m *Manager) Get(ctx context.Context, id string) (*Key, error) {
	k, err := m.store.Get(ctx, id)
	if err != nil {
		return nil, m.storeErr("get", id, err)
	}
	return m.public(k), nil
}

// Revoke revokes key id at once: the next verification rejects it. Revoking
// a revoked key succeeds and keeps the first revocation time. Revoking one
// key of a rotation does not revoke the other. A missing key gives an
// *auth.Error not_found wrapping [ErrNotFound].
func (m *Manager) Revoke(ctx context.Context, id string) error {
	k, err := m.store.Get(ctx, id)
	if err != nil {
		return m.storeErr("get", id, err)
	}
	if !k.RevokedAt.IsZero() {
		return nil
	}
	now := m.now()
	if err := m.store.Update(ctx, id, Update{RevokedAt: now}); err != nil {
		return m.storeErr("revoke", id, err)
	}
	auth.Emit(m.cfg.Events, m.event(ctx, auth.EventAPIKeyRevoked, now, k))
	return nil
}

// Rotate replaces key id by a new key with the same owner, name,
// description, permissions, metadata and expiry, and returns the new key in
// plaintext with its record. The old key keeps working until now+grace (or
// its own expiry, if earlier) and then stops; grace zero stops it at once.
// The new key and the end of the old one are written in one atomic store
// operation: if Rotate fails, nothing changed and it can be retried.
//
// A key can be rotated once. Rotating it again fails with an *auth.Error
// conflict wrapping [ErrRotated]; rotate its successor (Key.ReplacedBy)
// instead, which is allowed while the old key is still in its grace period
// and leaves the old key's deadline unchanged. So does a lost response to a
// successful rotation: its plaintext is gone, and the successor should be
// rotated or revoked. Revoked or expired keys cannot be rotated (conflict,
// wrapping [ErrRevoked] or [ErrExpired]).
func (m *Manager) Rotate(ctx context.Context, id string, grace time.Duration) (string, *Key, error) {
	if grace < 0 || grace > m.cfg.MaxRotationGrace {
		return "", nil, auth.NewError(auth.CodeInvalidRequest,
			fmt.Sprintf("grace must be between 0 and %s", m.cfg.MaxRotationGrace))
	}
	old, err := m.store.Get(ctx, id)
	if err != nil {
		return "", nil, m.storeErr("get", id, err)
	}
	now := m.now()
	if err := old.Check(now); err != nil {
		return "", nil, auth.WrapError(auth.CodeConflict, "the key can no longer be rotated", err)
	}
	if old.ReplacedBy != "" {
		return "", nil, auth.WrapError(auth.CodeConflict, "the key was already rotated; rotate its successor", ErrRotated)
	}
	plain, k, err := m.newKey(now)
	if err != nil {
		return "", nil, err
	}
	k.OwnerID = old.OwnerID
	k.Name = old.Name
	k.Description = old.Description
	k.Permissions = old.Permissions
	k.Metadata = old.Metadata
	k.ExpiresAt = old.ExpiresAt
	k.RotatedFrom = old.ID
	graceEnd := now.Add(grace)
	if err := m.store.Create(ctx, k, &Rotation{OldID: old.ID, OldExpiresAt: graceEnd}); err != nil {
		return "", nil, m.storeErr("rotate", id, err)
	}
	e := m.event(ctx, auth.EventAPIKeyRotated, now, k)
	e.Attrs["previous_key_id"] = old.ID
	e.Attrs["previous_key_prefix"] = old.Prefix
	e.Attrs["grace_until"] = graceEnd.UTC().Format(time.RFC3339)
	auth.Emit(m.cfg.Events, e)
	return plain, m.public(k), nil
}

// storeErr turns a store error into what Get, Revoke and Rotate return.
func (m *Manager) storeErr(op, id string, err error) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return auth.WrapError(auth.CodeNotFound, "API key not found", err)
	case errors.Is(err, ErrRotated):
		return auth.WrapError(auth.CodeConflict, "the key was already rotated; rotate its successor", err)
	case errors.Is(err, ErrRevoked):
		return auth.WrapError(auth.CodeConflict, "the key can no longer be rotated", err)
	}
	return fmt.Errorf("apikey: %s key %s: %w", op, id, err)
}

// Verify checks key and returns the principal it acts as. It checks, in
// order: the syntax and checksum (no store call for a malformed or mistyped
// key), one store lookup by hash, revocation and expiry, and the owner's
// current state through [Config.Owners]; it then notes the use for the
// last-used record (client IP from auth.RequestMetaFrom(ctx)).
//
// The principal's Subject is the owner's ID; Username, Email and Roles are
// the owner's current ones; Scopes are the key's permissions (a new non-nil
// slice, further narrowed by the owner's own Scopes, if any); Method is
// api_key; CredentialID is the key ID (use [Manager.Get] for the record);
// ExpiresAt is the key's expiry. An RBAC policy grants the principal its
// roles' permissions intersected with its scopes, so a demoted owner demotes
// the key.
//
// A rejected key gives an *auth.Error invalid_token, the same for every
// reason, whose internal cause wraps [ErrMalformed], [ErrChecksum],
// [ErrNotFound] (unknown key, or owner deleted), [ErrRevoked], [ErrExpired]
// or [ErrOwnerDisabled]; an api_key_rejected event carries the reason. A
// store or owner-lookup failure is a plain wrapped error (503).
func (m *Manager) Verify(ctx context.Context, key string) (*auth.Principal, error) {
	now := m.now()
	if err := m.parser.check(key); err != nil {
		display := ""
		if errors.Is(err, ErrChecksum) {
			display = m.format.Display(key)
		}
		return nil, m.reject(ctx, now, nil, display, reasonOf(err), err)
	}
	h := m.hasher.sum(key)
	k, err := m.lookup(ctx, h)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, m.reject(ctx, now, nil, m.format.Display(key), "unknown_key", err)
		}
		return nil, fmt.Errorf("apikey: look up key: %w", err)
	}
	if subtle.ConstantTimeCompare(k.Hash[:], h[:]) != 1 {
		return nil, m.reject(ctx, now, nil, m.format.Display(key), "unknown_key", ErrNotFound)
	}
	if err := k.Check(now); err != nil {
		reason := reasonOf(err)
		if errors.Is(err, ErrExpired) && k.ReplacedBy != "" {
			reason = "rotated"
		}
		return nil, m.reject(ctx, now, k, k.Prefix, reason, err)
	}
	owner, err := m.cfg.Owners.Owner(ctx, k.OwnerID)
	switch {
	case errors.Is(err, ErrOwnerDisabled):
		return nil, m.reject(ctx, now, k, k.Prefix, "owner_disabled", err)
	case errors.Is(err, ErrNotFound):
		return nil, m.reject(ctx, now, k, k.Prefix, "owner_not_found",
			fmt.Errorf("apikey: owner %q: %w", k.OwnerID, err))
	case err != nil:
		return nil, fmt.Errorf("apikey: look up owner %q: %w", k.OwnerID, err)
	case owner == nil:
		return nil, fmt.Errorf("apikey: owner lookup returned no principal for %q", k.OwnerID)
	}
	if m.usage.record(k.ID, now, auth.RequestMetaFrom(ctx).ClientIP) {
		e := m.event(ctx, auth.EventAPIKeyUsed, now, k)
		e.Username = owner.Username
		auth.Emit(m.cfg.Events, e)
	}
	return principalFor(k, owner), nil
}

// lookup finds the key with hash h, without copying it when the store
// offers [SharedLookup]. The result must not be modified.
func (m *Manager) lookup(ctx context.Context, h Hash) (*Key, error) {
	if m.shared != nil {
		return m.shared.LookupShared(ctx, h)
	}
	return m.store.Lookup(ctx, h)
}

// reject emits api_key_rejected and returns the client-facing error.
func (m *Manager) reject(ctx context.Context, now time.Time, k *Key, display, reason string, cause error) error {
	if m.cfg.Events != nil {
		e := auth.NewEvent(ctx, auth.EventAPIKeyRejected, now)
		e.Method = auth.MethodAPIKey
		e.Reason = reason
		e.Attrs = map[string]string{}
		if display != "" {
			e.Attrs["key_prefix"] = display
		}
		if k != nil {
			e.Subject = k.OwnerID
			e.Attrs["key_id"] = k.ID
		}
		m.cfg.Events.Emit(e)
	}
	return invalidKey(cause)
}

// invalidKey is the one error a client sees for any rejected key.
func invalidKey(cause error) error {
	return &auth.Error{Code: auth.CodeInvalidToken, Description: "invalid API key", Err: cause}
}

// event returns an event about k with its ID and display prefix.
func (m *Manager) event(ctx context.Context, t auth.EventType, now time.Time, k *Key) auth.Event {
	e := auth.NewEvent(ctx, t, now)
	e.Subject = k.OwnerID
	e.Method = auth.MethodAPIKey
	e.Attrs = map[string]string{"key_id": k.ID, "key_prefix": k.Prefix}
	return e
}

// public returns a copy of k without its hash.
func (m *Manager) public(k *Key) *Key {
	c := k.Clone()
	c.Hash = Hash{}
	return c
}

// principalFor builds the principal of a verified key. k may be a shared
// store record: nothing of it that is mutable is handed out.
func principalFor(k *Key, owner *auth.Principal) *auth.Principal {
	scopes := make([]string, 0, len(k.Permissions))
	for _, p := range k.Permissions {
		if owner.Scopes == nil || slices.Contains(owner.Scopes, p) {
			scopes = append(scopes, p)
		}
	}
	return &auth.Principal{
		Subject:      k.OwnerID,
		Username:     owner.Username,
		Email:        owner.Email,
		Roles:        owner.Roles,
		Scopes:       scopes,
		Method:       auth.MethodAPIKey,
		CredentialID: k.ID,
		ExpiresAt:    k.ExpiresAt,
	}
}

func cloneMetadata(md map[string]string) map[string]string {
	if len(md) == 0 {
		return nil
	}
	c := make(map[string]string, len(md))
	for k, v := range md {
		c[k] = v
	}
	return c
}

// isText reports whether s is valid UTF-8 without control characters
// (newlines and tabs allowed when multiline).
func isText(s string, multiline bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			if multiline && (r == '\n' || r == '\t') {
				continue
			}
			return false
		}
	}
	return true
}
