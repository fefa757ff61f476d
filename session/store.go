package session

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// Store errors. Stores return them (wrapped or not) so that callers can test
// with errors.Is.
var (
	// ErrNotFound means there is no session with the given ID (or, for
	// [Store.Update] and a replacement in [Store.Create], no live one).
	ErrNotFound = errors.New("session: not found")
	// ErrExists is returned by [Store.Create] when a session with the same ID
	// is already held. With 256-bit random IDs it signals a broken random
	// source or a replayed write, never a normal collision.
	ErrExists = errors.New("session: session already exists")
	// ErrLimitReached is returned by [Store.Create] when the user already
	// holds CreateOptions.MaxPerUser live sessions and CreateOptions.Refuse
	// is set.
	ErrLimitReached = errors.New("session: too many sessions for this user")
)

// Store keeps sessions for a [Manager]. The in-memory [MemoryStore] is the
// embedded default; adapters for PostgreSQL and Redis implement the same
// contract, which the conformance suite in package sessiontest checks.
//
// Records are keyed by [Record.ID], the SHA-256 of the cookie secret: a store
// never sees the secret itself, so reading the store does not let anyone
// present a session.
//
// # Expiry
//
// A record is live at time now when now is before its ExpiresAt, and expired
// from ExpiresAt on. Stores never read a clock to decide this: every method
// that depends on liveness receives now from its caller (CreateOptions.Now,
// Update.Now, the now of [Store.List]). A store may delete an expired record
// at any time after its ExpiresAt (a Redis PEXPIREAT, a periodic sweep);
// until it does, [Store.Get] may still return it, and the Manager, which
// checks expiry itself, treats it as expired (and reports session_expired).
//
// # Atomicity
//
// [Store.Create] is the one operation that must be atomic: counting the
// user's live sessions, evicting or refusing at the cap, deleting the
// replaced session and inserting the new one happen as one step, so that
// concurrent logins can never leave a user above the cap and a session can
// be renewed only once. On PostgreSQL this is one transaction that locks the
// user's rows (SELECT ... FOR UPDATE); on Redis one Lua script over the
// session keys and the user's index set. [Store.Update] must never recreate
// a record that was deleted: it updates an existing live record or fails
// with [ErrNotFound].
//
// All methods honour ctx: a slow store must give up when ctx is done.
// Implementations must be safe for concurrent use and must not retain or
// modify the slices of records they are given or return.
type Store interface {
	// Create stores rec, applying opts atomically (see [CreateOptions]). It
	// returns the records it evicted to respect the cap, oldest first. It
	// fails with [ErrExists] if rec.ID is held, [ErrLimitReached] when the
	// cap is reached and opts.Refuse is set, and [ErrNotFound] when
	// opts.Replace names no live session of rec.UserID; on failure nothing
	// changes.
	Create(ctx context.Context, rec Record, opts CreateOptions) (evicted []Record, err error)
	// Get returns the record with id, or [ErrNotFound]. It may return a
	// record that has expired but is still held (see Expiry above).
	Get(ctx context.Context, id string) (Record, error)
	// Update changes the record with id as u describes, if that record
	// exists and is live at u.Now; otherwise it fails with [ErrNotFound] and
	// changes nothing.
	Update(ctx context.Context, id string, u Update) error
	// Delete removes the records q selects and returns them (expired ones
	// included). Selecting nothing is not an error: it returns no records.
	// A query with neither ID nor UserID is rejected with an error.
	Delete(ctx context.Context, q Query) ([]Record, error)
	// List returns the records of userID that are live at now, in no
	// particular order, from a per-user index: its cost depends on that
	// user's sessions only, never on the number of sessions in the store. A
	// user without sessions gets an empty result and no error.
	List(ctx context.Context, userID string, now time.Time) ([]Record, error)
}

// Record is one stored session. It holds no secret: ID is a hash of the
// cookie value.
type Record struct {
	// ID is the lower-case hex SHA-256 of the cookie value. It is also the
	// public identifier of the session: the CredentialID of the principals
	// it authenticates and [Info.ID]. Knowing it does not let anyone
	// authenticate.
	ID string
	// UserID is the principal's Subject; the per-user index is keyed by it.
	UserID string
	// Username, Email, Roles, Scopes and MFA are the principal's, as they
	// were at creation or at the last [Manager.Renew]. Scopes keeps the
	// difference between nil (not narrowed) and empty (grants nothing);
	// stores must preserve it.
	Username string
	Email    string
	Roles    []string
	Scopes   []string
	MFA      auth.MFAState
	// AuthMethod is how the user authenticated when the session was created.
	AuthMethod auth.Method
	// ClientIP and UserAgent describe the client that created the session.
	ClientIP  string
	UserAgent string
	// CreatedAt is when the session began. [Manager.Renew] keeps it, so the
	// absolute timeout and the eviction order count from the first login.
	CreatedAt time.Time
	// LastSeenAt is when the session was last used, to within the
	// manager's touch interval.
	LastSeenAt time.Time
	// ExpiresAt is when the record stops being live: the idle deadline, never
	// later than AbsoluteExpiresAt.
	ExpiresAt time.Time
	// AbsoluteExpiresAt is the latest ExpiresAt can ever be. [Store.Update]
	// caps ExpiresAt at it; zero means no cap.
	AbsoluteExpiresAt time.Time
	// Data is the encoded session data bag ([Data]); empty when there is none.
	Data string
}

// CreateOptions tell [Store.Create] how to apply the per-user cap.
type CreateOptions struct {
	// Now is the time of the creation: records with ExpiresAt at or before
	// Now do not count towards the cap.
	Now time.Time
	// MaxPerUser, when positive, is the number of live sessions rec.UserID
	// may hold once rec is stored. If the user already holds MaxPerUser or
	// more (not counting Replace), Create evicts the oldest ones (smallest
	// CreatedAt, ties broken by the smaller ID) until rec fits, or, with
	// Refuse, fails with [ErrLimitReached]. Zero or negative means no cap.
	MaxPerUser int
	// Refuse makes Create fail instead of evicting when the cap is reached.
	Refuse bool
	// Replace, when not empty, is the ID of a live session of rec.UserID
	// that is deleted in the same step (session renewal). If there is no
	// such session, Create fails with [ErrNotFound] and stores nothing, so a
	// session revoked or renewed concurrently cannot be renewed again.
	Replace string
}

// Update describes the change [Store.Update] makes to a record.
type Update struct {
	// Now is the time of the update: a record that is not live at Now is
	// not updated.
	Now time.Time
	// LastSeenAt and ExpiresAt, when later than the record's, replace them;
	// earlier or zero values leave them unchanged, so that a delayed write
	// never shortens a session. ExpiresAt is capped at the record's
	// AbsoluteExpiresAt.
	LastSeenAt time.Time
	ExpiresAt  time.Time
	// ReplaceData makes Data replace the record's data (the last writer
	// wins); otherwise Data is ignored.
	ReplaceData bool
	Data        string
}

// Query selects sessions for [Store.Delete].
type Query struct {
	// ID selects the session with that ID. If UserID is set too, the session
	// is selected only if it belongs to UserID.
	ID string
	// UserID, without ID, selects every session of the user, except Except.
	UserID string
	// Except is the ID of a session kept when UserID selects all of a
	// user's sessions; empty keeps none. It is ignored when ID is set.
	Except string
}
