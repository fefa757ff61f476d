package basic

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// User is a user account. The store keeps it whole; [Users] returns copies
// with PasswordHash and PasswordHistory cleared, and the json tags keep them
// out of any encoding either way. A User is a plain value: safe for
// concurrent reads, not for concurrent modification.
type User struct {
	// ID is the stable identifier, assigned by [Users.Create].
	ID string `json:"id"`
	// Username is the login name, unique case-insensitively.
	Username string `json:"username"`
	// Email is the email address, unique case-insensitively when not empty.
	Email string `json:"email,omitempty"`
	// Roles are the user's RBAC roles.
	Roles []string `json:"roles"`
	// Disabled users cannot sign in or reset their password.
	Disabled bool `json:"disabled"`
	// CreatedAt and UpdatedAt are set by [Users].
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// PasswordChangedAt is when the password was last set. Hosts may use it
	// as a "not before" for credentials issued earlier.
	PasswordChangedAt time.Time `json:"password_changed_at"`
	// Version is the optimistic-concurrency version: 1 after creation,
	// incremented by every successful UpdateUser.
	Version int64 `json:"version"`
	// PasswordHash is the encoded hash of the password; empty means the
	// user has no password and cannot sign in with one.
	PasswordHash string `json:"-"`
	// PasswordHistory holds the hashes of previous passwords, newest first,
	// when password history is on.
	PasswordHistory []string `json:"-"`
}

// Clone returns a deep copy of u.
func (u *User) Clone() *User {
	c := *u
	c.Roles = slices.Clone(u.Roles)
	c.PasswordHistory = slices.Clone(u.PasswordHistory)
	return &c
}

// public returns a copy of u without the password hashes.
func (u *User) public() *User {
	c := u.Clone()
	c.PasswordHash = ""
	c.PasswordHistory = nil
	return c
}

// Fold returns the form in which usernames and email addresses are compared
// for uniqueness and lookup: Go's strings.ToLower (Unicode simple lower-case
// mapping). Store adapters must use this same function (computed in Go, for
// example into an indexed column) rather than a database's own lower().
func Fold(s string) string { return strings.ToLower(s) }

// UserField names the field a user is looked up by.
type UserField int

// Lookup fields for UserStore.GetUser.
const (
	// ByID looks a user up by ID (exact match).
	ByID UserField = iota + 1
	// ByUsername looks a user up by username, compared with [Fold].
	ByUsername
	// ByEmail looks a user up by email, compared with [Fold]. The empty
	// string matches no user.
	ByEmail
)

// DefaultPageSize and MaxPageSize bound UserStore.ListUsers pages.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// UserStore keeps user accounts. Implementations must be safe for concurrent
// use; every method honours ctx. Returned users are copies the caller owns;
// stores never keep a reference to a caller's *User.
type UserStore interface {
	// CreateUser stores a new user, setting u.Version to 1. It returns an
	// error wrapping [ErrDuplicate] when u.ID is taken or u.Username, or a
	// non-empty u.Email, equals another user's under [Fold]. The check and
	// the insert are atomic: of concurrent creates with the same username
	// exactly one succeeds.
	CreateUser(ctx context.Context, u *User) error
	// GetUser returns the user whose field equals value (username and email
	// compared with [Fold]), or an error wrapping [ErrNotFound].
	GetUser(ctx context.Context, field UserField, value string) (*User, error)
	// UpdateUser replaces the stored user with ID u.ID by u if the stored
	// Version equals u.Version, then sets u.Version to the stored Version+1.
	// It returns an error wrapping [ErrNotFound] when there is no such user,
	// [ErrVersionConflict] when the versions differ, and [ErrDuplicate] when
	// the new username or email is taken by another user. Compare and
	// replace are atomic: of concurrent updates from the same version
	// exactly one succeeds.
	UpdateUser(ctx context.Context, u *User) error
	// DeleteUser deletes the user with that ID, freeing its username and
	// email. Deleting a missing user is not an error.
	DeleteUser(ctx context.Context, id string) error
	// ListUsers returns up to limit users with ID greater than after (""
	// starts at the beginning), in ascending byte order of ID, and the
	// cursor of the next page: the last ID returned when more users may
	// follow, "" when this page is the last. limit <= 0 means
	// [DefaultPageSize]; limits above [MaxPageSize] are lowered to it.
	ListUsers(ctx context.Context, after string, limit int) (users []*User, next string, err error)
}

// ResetToken is the stored form of a password-reset token: its hash, never
// the token.
type ResetToken struct {
	// Hash is the SHA-256 (hex) of the token.
	Hash string
	// UserID is the user the token resets. Empty for the decoy records that
	// [Users.InitiatePasswordReset] writes for unknown addresses.
	UserID string
	// Stamp binds the token to the user's password and email at issue time;
	// any change of either invalidates it.
	Stamp string
	// CreatedAt and ExpiresAt bound the token's life.
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ResetTokenStore keeps password-reset tokens. Implementations must be safe
// for concurrent use; every method honours ctx. A token is expired at now when
// !now.Before(ExpiresAt); an expired token behaves as a missing one. A store
// may drop expired tokens at any time, and may keep only the newest few
// tokens of each UserID.
type ResetTokenStore interface {
	// SaveResetToken stores t, replacing any token with the same Hash.
	SaveResetToken(ctx context.Context, t ResetToken) error
	// GetResetToken returns the unexpired token with that hash without
	// consuming it, or an error wrapping [ErrNotFound].
	GetResetToken(ctx context.Context, hash string, now time.Time) (ResetToken, error)
	// ConsumeResetToken deletes the token with that hash and returns it if
	// it had not expired at now; otherwise it returns an error wrapping
	// [ErrNotFound]. It is atomic: of concurrent consumers of one token
	// exactly one gets it.
	ConsumeResetToken(ctx context.Context, hash string, now time.Time) (ResetToken, error)
	// DeleteResetTokens deletes every token of userID. Deleting none is not
	// an error.
	DeleteResetTokens(ctx context.Context, userID string) error
}

// maxResetTokensPerUser is how many tokens a MemoryStore keeps per user ID
// (and for the decoys of unknown addresses, which share the empty ID).
const maxResetTokensPerUser = 5

// MemoryStore is a [UserStore] and [ResetTokenStore] held in process memory.
// It is safe for concurrent use. It serves one process only: several
// instances of a service need a shared store.
type MemoryStore struct {
	mu         sync.Mutex            // guards every field below
	users      map[string]*User      // by ID
	byUsername map[string]string     // Fold(username) -> ID
	byEmail    map[string]string     // Fold(email) -> ID
	tokens     map[string]ResetToken // by hash
	userTokens map[string][]string   // user ID -> token hashes, oldest first
}

var (
	_ UserStore       = (*MemoryStore)(nil)
	_ ResetTokenStore = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		users:      make(map[string]*User),
		byUsername: make(map[string]string),
		byEmail:    make(map[string]string),
		tokens:     make(map[string]ResetToken),
		userTokens: make(map[string][]string),
	}
}

// CreateUser implements [UserStore].
func (s *MemoryStore) CreateUser(ctx context.Context, u *User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[u.ID]; ok {
		return fmt.Errorf("%w: id", ErrDuplicate)
	}
	if err := s.checkUniqueLocked(u, ""); err != nil {
		return err
	}
	u.Version = 1
	c := u.Clone()
	s.users[c.ID] = c
	s.indexLocked(c)
	return nil
}

// checkUniqueLocked reports ErrDuplicate when u's username or email belongs
// to a user other than self.
func (s *MemoryStore) checkUniqueLocked(u *User, self string) error {
	if id, ok := s.byUsername[Fold(u.Username)]; ok && id != self {
		return fmt.Errorf("%w: username", ErrDuplicate)
	}
	if u.Email != "" {
		if id, ok := s.byEmail[Fold(u.Email)]; ok && id != self {
			return fmt.Errorf("%w: email", ErrDuplicate)
		}
	}
	return nil
}

func (s *MemoryStore) indexLocked(u *User) {
	s.byUsername[Fold(u.Username)] = u.ID
	if u.Email != "" {
		s.byEmail[Fold(u.Email)] = u.ID
	}
}

func (s *MemoryStore) unindexLocked(u *User) {
	delete(s.byUsername, Fold(u.Username))
	if u.Email != "" {
		delete(s.byEmail, Fold(u.Email))
	}
}

// GetUser implements [UserStore].
func (s *MemoryStore) GetUser(ctx context.Context, field UserField, value string) (*User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := value
	switch field {
	case ByID:
	case ByUsername:
		id = s.byUsername[Fold(value)]
	case ByEmail:
		if value == "" {
			return nil, ErrNotFound
		}
		id = s.byEmail[Fold(value)]
	default:
		return nil, fmt.Errorf("basic: unknown lookup field %d", field)
	}
	u, ok := s.users[id]
	if !ok {
		return nil, ErrNotFound
	}
	return u.Clone(), nil
}

// UpdateUser implements [UserStore].
func (s *MemoryStore) UpdateUser(ctx context.Context, u *User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.users[u.ID]
	if !ok {
		return ErrNotFound
	}
	if old.Version != u.Version {
		return ErrVersionConflict
	}
	if err := s.checkUniqueLocked(u, u.ID); err != nil {
		return err
	}
	s.unindexLocked(old)
	u.Version++
	c := u.Clone()
	s.users[c.ID] = c
	s.indexLocked(c)
	return nil
}

// DeleteUser implements [UserStore].
func (s *MemoryStore) DeleteUser(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[id]; ok {
		s.unindexLocked(u)
		delete(s.users, id)
	}
	return nil
}

// ListUsers implements [UserStore]. It sorts the IDs on every call: fine for
// the embedded default, not for millions of users.
func (s *MemoryStore) ListUsers(ctx context.Context, after string, limit int) ([]*User, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.users))
	for id := range s.users {
		if id > after {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	next := ""
	if len(ids) > limit {
		ids = ids[:limit]
		next = ids[limit-1]
	}
	out := make([]*User, len(ids))
	for i, id := range ids {
		out[i] = s.users[id].Clone()
	}
	return out, next, nil
}

// SaveResetToken implements [ResetTokenStore]. It keeps at most the 5 newest
// tokens per user ID and drops expired tokens of that user as it goes.
func (s *MemoryStore) SaveResetToken(ctx context.Context, t ResetToken) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.tokens[t.Hash]; ok {
		s.dropTokenLocked(old)
	}
	hashes := s.userTokens[t.UserID][:0:0]
	for _, h := range s.userTokens[t.UserID] {
		if old := s.tokens[h]; !t.CreatedAt.Before(old.ExpiresAt) {
			delete(s.tokens, h)
			continue
		}
		hashes = append(hashes, h)
	}
	for len(hashes) >= maxResetTokensPerUser {
		delete(s.tokens, hashes[0])
		hashes = hashes[1:]
	}
	s.tokens[t.Hash] = t
	s.userTokens[t.UserID] = append(hashes, t.Hash)
	return nil
}

// dropTokenLocked removes t from both indexes.
func (s *MemoryStore) dropTokenLocked(t ResetToken) {
	delete(s.tokens, t.Hash)
	hashes := slices.DeleteFunc(slices.Clone(s.userTokens[t.UserID]), func(h string) bool { return h == t.Hash })
	if len(hashes) == 0 {
		delete(s.userTokens, t.UserID)
	} else {
		s.userTokens[t.UserID] = hashes
	}
}

// GetResetToken implements [ResetTokenStore].
func (s *MemoryStore) GetResetToken(ctx context.Context, hash string, now time.Time) (ResetToken, error) {
	if err := ctx.Err(); err != nil {
		return ResetToken{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[hash]
	if !ok || !now.Before(t.ExpiresAt) {
		return ResetToken{}, ErrNotFound
	}
	return t, nil
}

// ConsumeResetToken implements [ResetTokenStore].
func (s *MemoryStore) ConsumeResetToken(ctx context.Context, hash string, now time.Time) (ResetToken, error) {
	if err := ctx.Err(); err != nil {
		return ResetToken{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[hash]
	if !ok {
		return ResetToken{}, ErrNotFound
	}
	s.dropTokenLocked(t)
	if !now.Before(t.ExpiresAt) {
		return ResetToken{}, ErrNotFound
	}
	return t, nil
}

// DeleteResetTokens implements [ResetTokenStore].
func (s *MemoryStore) DeleteResetTokens(ctx context.Context, userID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.userTokens[userID] {
		delete(s.tokens, h)
	}
	delete(s.userTokens, userID)
	return nil
}
