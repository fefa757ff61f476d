package basic

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/internal/secure"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
)

// Defaults of [Config].
const (
	// DefaultPasswordHistory is how many recent passwords are refused when
	// password history is on (the current one included).
	DefaultPasswordHistory = 5
	// DefaultResetTokenTTL is how long a password-reset token is valid.
	DefaultResetTokenTTL = 30 * time.Minute
	// maxPasswordHistory bounds PasswordHistorySize: each remembered
	// password costs one hash computation per change.
	maxPasswordHistory = 24
	// maxResetTokenTTL bounds ResetTokenTTL.
	maxResetTokenTTL = 24 * time.Hour
	// updateRetries is how often a read-modify-write is retried on a
	// version conflict.
	updateRetries = 5
)

// Config configures [Users]. The zero value is a working, secure setup:
// in-memory stores, Argon2id, the NIST policy, lockout after 5 failures in 15
// minutes for 15 minutes, no password history, 30-minute reset tokens.
type Config struct {
	// Store keeps the users. Nil means a new [MemoryStore].
	Store UserStore
	// ResetTokens keeps password-reset tokens. Nil means Store when it also
	// implements [ResetTokenStore] (MemoryStore does), else a new
	// MemoryStore.
	ResetTokens ResetTokenStore
	// Hasher hashes and verifies passwords. Nil means NewHasher with the
	// zero HasherConfig (Argon2id, at most runtime.NumCPU() at once). The
	// concurrency cap belongs to the hasher: give every component of a
	// process the same *PasswordHasher so that the cap is process-wide.
	Hasher Hasher
	// Policy is the password policy for new passwords.
	Policy PolicyConfig
	// Roles, if set, must accept every role given to a user. Nil means any
	// well-formed role name is accepted.
	Roles RoleValidator
	// Lockout throttles sign-in attempts per username (lower-cased):
	// progressive delays, then a lock. Nil means a limiter with the
	// ratelimit defaults (delays of 1, 2, 5, 10, 30 s; 5 failures in 15
	// minutes lock for 15 minutes) on an in-memory store using Now. Share
	// one store between instances (ratelimit.AttemptsConfig.Store) so that
	// the count holds across them.
	Lockout *ratelimit.AttemptsLimiter
	// ClientLimiter, if set, also throttles sign-in attempts per client IP
	// (auth.RequestMetaFrom(ctx).ClientIP; requests without one are not
	// throttled by it), against password spraying across many usernames.
	// It is checked before the per-username lockout. A successful sign-in
	// clears the client's count (a reserved attempt cannot be given back
	// alone), so a client holding one valid account can reset it; size it
	// for clients behind shared addresses. Nil means no per-client
	// throttling.
	ClientLimiter *ratelimit.AttemptsLimiter
	// PasswordHistory turns on password history: a new password may not be
	// any of the PasswordHistorySize most recent ones. Off by default.
	PasswordHistory bool
	// PasswordHistorySize is how many recent passwords are refused, the
	// current one included. Zero means 5; at most 24.
	PasswordHistorySize int
	// ResetTokenTTL is how long a password-reset token is valid. Zero means
	// 30 minutes; at most 24 hours.
	ResetTokenTTL time.Duration
	// OnCredentialsChanged is called after a user's password was changed,
	// set or reset, and after a user was disabled or deleted, with the
	// user's ID, so that the host revokes the user's tokens and sessions
	// (for example jwtprovider's per-user "not before" and session's
	// revoke-all). It runs after the change is stored: if it fails, the
	// change stays, the method returns an error wrapping
	// [ErrRevocationIncomplete], and the host must call
	// [Users.RevokeCredentials] until it succeeds. It must be idempotent.
	OnCredentialsChanged func(ctx context.Context, userID string) error
	// NormalizePassword, if set, is applied to every password before the
	// policy, hashing and verification, for example norm.NFKC.String from
	// golang.org/x/text so that composed and decomposed accents match. Nil
	// means passwords are used exactly as given. Changing it later breaks
	// sign-in for existing passwords that it changes.
	NormalizePassword func(string) string
	// Events receives the events Users emits. Nil discards them.
	Events auth.Emitter
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Users manages user accounts with passwords: creation, lookup, update,
// sign-in with lockout, password change, history and reset. It is safe for
// concurrent use.
type Users struct {
	store     UserStore
	tokens    ResetTokenStore
	hasher    Hasher
	policy    *PasswordPolicy
	roles     RoleValidator
	lockout   *ratelimit.AttemptsLimiter
	lockFor   time.Duration
	client    *ratelimit.AttemptsLimiter
	history   int // passwords refused, current included; 0 when off
	resetTTL  time.Duration
	onChanged func(ctx context.Context, userID string) error
	normalize func(string) string
	events    auth.Emitter
	now       func() time.Time
	// fakeHash is a hash of a random password with the configured
	// algorithm and parameters: unknown users are verified against it.
	fakeHash string
}

// New validates cfg, fills its defaults and returns the manager. It computes
// one hash (the stand-in verified for unknown users), so it takes as long as
// one sign-in. It returns an error wrapping [ErrInvalidConfig] for invalid
// settings.
func New(cfg Config) (*Users, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Store == nil {
		cfg.Store = NewMemoryStore()
	}
	if cfg.ResetTokens == nil {
		if ts, ok := cfg.Store.(ResetTokenStore); ok {
			cfg.ResetTokens = ts
		} else {
			cfg.ResetTokens = NewMemoryStore()
		}
	}
	if cfg.Hasher == nil {
		h, err := NewHasher(HasherConfig{})
		if err != nil {
			return nil, err
		}
		cfg.Hasher = h
	}
	policy, err := NewPasswordPolicy(cfg.Policy)
	if err != nil {
		return nil, err
	}
	if cfg.Lockout == nil {
		l, err := ratelimit.NewAttemptsLimiter(ratelimit.AttemptsConfig{Now: cfg.Now})
		if err != nil {
			return nil, fmt.Errorf("basic: lockout: %w", err)
		}
		cfg.Lockout = l
	}
	history := 0
	if cfg.PasswordHistory {
		if cfg.PasswordHistorySize < 0 || cfg.PasswordHistorySize > maxPasswordHistory {
			return nil, fmt.Errorf("%w: PasswordHistorySize outside [0, %d]", ErrInvalidConfig, maxPasswordHistory)
		}
		history = orDefault(cfg.PasswordHistorySize, DefaultPasswordHistory)
	}
	if cfg.ResetTokenTTL < 0 || cfg.ResetTokenTTL > maxResetTokenTTL {
		return nil, fmt.Errorf("%w: ResetTokenTTL outside [0, %v]", ErrInvalidConfig, maxResetTokenTTL)
	}
	if cfg.NormalizePassword == nil {
		cfg.NormalizePassword = func(s string) string { return s }
	}
	m := &Users{
		store:     cfg.Store,
		tokens:    cfg.ResetTokens,
		hasher:    cfg.Hasher,
		policy:    policy,
		roles:     cfg.Roles,
		lockout:   cfg.Lockout,
		lockFor:   cfg.Lockout.Policy().LockoutDuration,
		client:    cfg.ClientLimiter,
		history:   history,
		resetTTL:  orDefault(cfg.ResetTokenTTL, DefaultResetTokenTTL),
		onChanged: cfg.OnCredentialsChanged,
		normalize: cfg.NormalizePassword,
		events:    cfg.Events,
		now:       cfg.Now,
	}
	fake, err := m.hasher.Hash(context.Background(), secure.Token(24))
	if err != nil {
		return nil, fmt.Errorf("basic: computing the stand-in hash: %w", err)
	}
	m.fakeHash = fake
	return m, nil
}

// Policy returns the password policy, for example to show its lengths.
func (m *Users) Policy() *PasswordPolicy { return m.policy }

// NewUser is the input of [Users.Create].
type NewUser struct {
	// Username is required: 1 to 64 characters, no spaces, ':' or control
	// characters. Unique case-insensitively.
	Username string
	// Email is optional; when set, a bare address unique
	// case-insensitively. It is where reset tokens go.
	Email string
	// Password is required and must pass the policy.
	Password string
	// Roles are checked with Config.Roles when set.
	Roles []string
	// Disabled creates the user disabled.
	Disabled bool
}

// Create validates nu, checks the password against the policy, hashes it and
// stores the user. Errors: invalid_request *auth.Error for a malformed field
// or an unknown role (Details["field"], Details["unknown_roles"]);
// password_policy for a refused password; conflict (wrapping [ErrDuplicate])
// for a taken username or email; unavailable when the hashing slots stay
// full; wrapped store errors otherwise. Emits user_created.
func (m *Users) Create(ctx context.Context, nu NewUser) (*User, error) {
	if err := checkUsername(nu.Username); err != nil {
		return nil, err
	}
	if err := checkEmail(nu.Email); err != nil {
		return nil, err
	}
	roles, aerr := cleanRoles(nu.Roles, m.roles)
	if aerr != nil {
		return nil, aerr
	}
	password := m.normalize(nu.Password)
	if err := m.policy.Validate(ctx, password, PasswordOwner{Username: nu.Username, Email: nu.Email}); err != nil {
		return nil, err
	}
	// An early check spares a hash computation; CreateUser decides.
	if _, err := m.store.GetUser(ctx, ByUsername, nu.Username); err == nil {
		return nil, errConflict("the username is already in use", ErrDuplicate)
	}
	hash, err := m.hasher.Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	now := m.now()
	u := &User{
		ID:                "usr_" + secure.Base62(22),
		Username:          nu.Username,
		Email:             nu.Email,
		Roles:             roles,
		Disabled:          nu.Disabled,
		CreatedAt:         now,
		UpdatedAt:         now,
		PasswordChangedAt: now,
		PasswordHash:      hash,
	}
	if err := m.store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, ErrDuplicate) {
			return nil, errConflict("the username or email address is already in use", err)
		}
		return nil, fmt.Errorf("basic: creating user: %w", err)
	}
	m.emit(ctx, auth.EventUserCreated, u, "", nil)
	return u.public(), nil
}

// Get returns the user with that ID, without password hashes, or a
// not_found *auth.Error wrapping [ErrNotFound].
func (m *Users) Get(ctx context.Context, id string) (*User, error) {
	return m.get(ctx, ByID, id)
}

// GetByUsername returns the user with that username (case-insensitive).
func (m *Users) GetByUsername(ctx context.Context, username string) (*User, error) {
	return m.get(ctx, ByUsername, username)
}

// GetByEmail returns the user with that email address (case-insensitive).
func (m *Users) GetByEmail(ctx context.Context, email string) (*User, error) {
	return m.get(ctx, ByEmail, email)
}

func (m *Users) get(ctx context.Context, field UserField, value string) (*User, error) {
	u, err := m.load(ctx, field, value)
	if err != nil {
		return nil, err
	}
	return u.public(), nil
}

// load returns the stored user, hashes included.
func (m *Users) load(ctx context.Context, field UserField, value string) (*User, error) {
	u, err := m.store.GetUser(ctx, field, value)
	if errors.Is(err, ErrNotFound) {
		return nil, errUserNotFound(err)
	}
	if err != nil {
		return nil, fmt.Errorf("basic: loading user: %w", err)
	}
	return u, nil
}

// List returns a page of users in ID order, after the cursor after ("" for
// the first page), and the cursor of the next page ("" after the last). See
// UserStore.ListUsers for the limits.
func (m *Users) List(ctx context.Context, after string, limit int) ([]*User, string, error) {
	users, next, err := m.store.ListUsers(ctx, after, limit)
	if err != nil {
		return nil, "", fmt.Errorf("basic: listing users: %w", err)
	}
	for i, u := range users {
		users[i] = u.public()
	}
	return users, next, nil
}

// UserUpdate lists the fields [Users.Update] changes; nil fields stay as
// they are.
type UserUpdate struct {
	Username *string
	Email    *string
	// Roles, when non-nil, replaces the roles (an empty non-nil slice
	// removes them all).
	Roles    []string
	Disabled *bool
	// Version, when non-zero, must equal the user's current Version (an
	// If-Match for the HTTP API); otherwise the update fails with conflict
	// wrapping [ErrVersionConflict]. Zero applies the change to whatever
	// version is current.
	Version int64
}

// errAbort stops a read-modify-write without retrying; update returns the
// wrapped cause.
type errAbort struct{ err error }

func (e errAbort) Error() string { return e.err.Error() }

// update reads user id, applies fn to it and stores it, retrying on version
// conflicts. fn runs once per try and must be cheap; it returns errAbort to
// stop. When version is non-zero, the user read must have it.
func (m *Users) update(ctx context.Context, id string, version int64, fn func(u *User) error) (before, after *User, err error) {
	for range updateRetries {
		u, err := m.load(ctx, ByID, id)
		if err != nil {
			return nil, nil, err
		}
		if version != 0 && u.Version != version {
			return nil, nil, errConflict("the user was changed concurrently", ErrVersionConflict)
		}
		before = u.Clone()
		if err := fn(u); err != nil {
			var a errAbort
			if errors.As(err, &a) {
				return nil, nil, a.err
			}
			return nil, nil, err
		}
		u.UpdatedAt = m.now()
		err = m.store.UpdateUser(ctx, u)
		switch {
		case err == nil:
			return before, u, nil
		case errors.Is(err, ErrVersionConflict) && version == 0:
			continue
		case errors.Is(err, ErrVersionConflict):
			return nil, nil, errConflict("the user was changed concurrently", err)
		case errors.Is(err, ErrDuplicate):
			return nil, nil, errConflict("the username or email address is already in use", err)
		case errors.Is(err, ErrNotFound):
			return nil, nil, errUserNotFound(err)
		default:
			return nil, nil, fmt.Errorf("basic: updating user: %w", err)
		}
	}
	return nil, nil, errConflict("the user is being changed concurrently; retry", ErrVersionConflict)
}

// Update changes the fields set in upd. Changing the email address
// invalidates outstanding reset tokens; disabling the user calls
// Config.OnCredentialsChanged. Errors as for [Users.Create], plus not_found
// and conflict (wrapping [ErrVersionConflict]). Emits user_updated.
func (m *Users) Update(ctx context.Context, id string, upd UserUpdate) (*User, error) {
	if upd.Username != nil {
		if err := checkUsername(*upd.Username); err != nil {
			return nil, err
		}
	}
	if upd.Email != nil {
		if err := checkEmail(*upd.Email); err != nil {
			return nil, err
		}
	}
	var roles []string
	if upd.Roles != nil {
		r, err := cleanRoles(upd.Roles, m.roles)
		if err != nil {
			return nil, err
		}
		roles = r
	}
	before, after, err := m.update(ctx, id, upd.Version, func(u *User) error {
		if upd.Username != nil {
			u.Username = *upd.Username
		}
		if upd.Email != nil {
			u.Email = *upd.Email
		}
		if upd.Roles != nil {
			u.Roles = slices.Clone(roles)
		}
		if upd.Disabled != nil {
			u.Disabled = *upd.Disabled
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var fields []string
	if before.Username != after.Username {
		fields = append(fields, "username")
	}
	if before.Email != after.Email {
		fields = append(fields, "email")
	}
	if !slices.Equal(before.Roles, after.Roles) {
		fields = append(fields, "roles")
	}
	if before.Disabled != after.Disabled {
		fields = append(fields, "disabled")
	}
	m.emit(ctx, auth.EventUserUpdated, after, "", map[string]string{"fields": strings.Join(fields, ",")})
	if Fold(before.Email) != Fold(after.Email) {
		// The stamp of outstanding tokens no longer matches; deleting them
		// also frees the store.
		_ = m.tokens.DeleteResetTokens(ctx, id)
	}
	if after.Disabled && !before.Disabled {
		if err := m.revoke(ctx, id); err != nil {
			return after.public(), err
		}
	}
	return after.public(), nil
}

// Disable disables the user: sign-in and password reset answer as for a wrong
// password, and Config.OnCredentialsChanged revokes existing credentials.
func (m *Users) Disable(ctx context.Context, id string) error {
	t := true
	_, err := m.Update(ctx, id, UserUpdate{Disabled: &t})
	return err
}

// Enable enables a disabled user.
func (m *Users) Enable(ctx context.Context, id string) error {
	f := false
	_, err := m.Update(ctx, id, UserUpdate{Disabled: &f})
	return err
}

// Delete deletes the user, its reset tokens and (through
// Config.OnCredentialsChanged) its credentials. A missing user is a
// not_found *auth.Error. Emits user_deleted.
func (m *Users) Delete(ctx context.Context, id string) error {
	u, err := m.load(ctx, ByID, id)
	if err != nil {
		return err
	}
	if err := m.store.DeleteUser(ctx, id); err != nil {
		return fmt.Errorf("basic: deleting user: %w", err)
	}
	m.emit(ctx, auth.EventUserDeleted, u, "", nil)
	return m.revoke(ctx, id)
}

// RevokeCredentials deletes the user's reset tokens and calls
// Config.OnCredentialsChanged. Call it again after a method returned an error
// wrapping [ErrRevocationIncomplete]; it is idempotent.
func (m *Users) RevokeCredentials(ctx context.Context, userID string) error {
	return m.revoke(ctx, userID)
}

func (m *Users) revoke(ctx context.Context, userID string) error {
	// The stamp check already refuses stale tokens; the delete frees the
	// store, so its failure is not fatal.
	_ = m.tokens.DeleteResetTokens(ctx, userID)
	if m.onChanged == nil {
		return nil
	}
	if err := m.onChanged(ctx, userID); err != nil {
		return fmt.Errorf("%w: %w", ErrRevocationIncomplete, err)
	}
	return nil
}

// emit sends an event about u.
func (m *Users) emit(ctx context.Context, t auth.EventType, u *User, reason string, attrs map[string]string) {
	if m.events == nil {
		return
	}
	e := auth.NewEvent(ctx, t, m.now())
	if u != nil {
		e.Subject, e.Username = u.ID, u.Username
	}
	e.Reason, e.Attrs = reason, attrs
	m.events.Emit(e)
}

// Principal returns the principal of u authenticated with method. MFA.Methods
// is ["pwd"]; a second factor is up to the caller.
func (u *User) Principal(method auth.Method) *auth.Principal {
	return &auth.Principal{
		Subject:  u.ID,
		Username: u.Username,
		Email:    u.Email,
		Roles:    slices.Clone(u.Roles),
		Method:   method,
		MFA:      auth.MFAState{Methods: []string{"pwd"}},
	}
}
