package basic

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
)

// Reasons of login_failure events. They are for the audit log only; clients
// get the same invalid_credentials for all of the first four.
const (
	reasonUnknownUser     = "unknown_user"
	reasonBadPassword     = "bad_password"
	reasonDisabled        = "disabled"
	reasonNoPassword      = "no_password"
	reasonLocked          = "locked"
	reasonThrottled       = "throttled"
	reasonClientThrottled = "client_throttled"
)

// lockKey is the attempts-limiter key of a username.
func lockKey(username string) string { return "basic:user:" + Fold(username) }

// clientKey is the attempts-limiter key of a client IP.
func clientKey(ip string) string { return "basic:ip:" + ip }

// Authenticate checks a username and password and returns the user (without
// password hashes).
//
// Every outcome that depends on the account costs the same: an attempt is
// reserved with the lockout limiter before anything is looked up, and one
// password verification runs whether the user exists, is disabled, has no
// password or gave a wrong one (unknown users are verified against a stand-in
// hash with the configured parameters). All of those get the same
// invalid_credentials *auth.Error.
//
// While the username is locked, every attempt gets the same account_locked
// *auth.Error with RetryAfter, whatever the password and whether or not the
// user exists; the attempt that locks it gets it too. Inside a progressive
// delay before the lock the answer is rate_limited with RetryAfter, and
// rate_limited also answers a client IP throttled by Config.ClientLimiter.
// When every hashing slot stays busy the answer is unavailable with
// RetryAfter (wrapping [ErrBusy]). Store failures are wrapped errors, never
// *auth.Error.
//
// A successful sign-in clears the username's failures (and the client's),
// re-hashes the password when [Hasher.NeedsRehash] says so, and emits
// login_success; failures emit login_failure, and the attempt that locks the
// account emits account_locked.
func (m *Users) Authenticate(ctx context.Context, username, password string) (*User, error) {
	return m.authenticate(ctx, username, password, "")
}

func (m *Users) authenticate(ctx context.Context, username, password string, method auth.Method) (*User, error) {
	password = m.normalize(password)
	// A name that no user can have is still verified (same work), but gets
	// no limiter record: it could never be locked anyway.
	validName := checkUsername(username) == nil
	shown := username
	if !validName {
		shown = ""
	}
	fail := func(reason string, err error) (*User, error) {
		e := auth.NewEvent(ctx, auth.EventLoginFailed, m.now())
		e.Username, e.Method, e.Reason = shown, method, reason
		auth.Emit(m.events, e)
		return nil, err
	}

	var clientKeyUsed string
	if ip := auth.RequestMetaFrom(ctx).ClientIP; m.client != nil && ip != "" {
		d, err := m.client.Attempt(ctx, clientKey(ip))
		if err != nil {
			return nil, fmt.Errorf("basic: client throttle: %w", err)
		}
		if !d.Allowed {
			return fail(reasonClientThrottled, errThrottled(d.RetryAfter))
		}
		clientKeyUsed = clientKey(ip)
	}

	var dec ratelimit.AttemptDecision
	if validName {
		var err error
		dec, err = m.lockout.Attempt(ctx, lockKey(username))
		if err != nil {
			return nil, fmt.Errorf("basic: lockout: %w", err)
		}
		if !dec.Allowed {
			if dec.Locked {
				return fail(reasonLocked, errLocked(dec.RetryAfter))
			}
			return fail(reasonThrottled, errThrottled(dec.RetryAfter))
		}
	}

	var u *User
	if validName {
		found, err := m.store.GetUser(ctx, ByUsername, username)
		switch {
		case err == nil:
			u = found
		case !errors.Is(err, ErrNotFound):
			return nil, fmt.Errorf("basic: loading user: %w", err)
		}
	}
	hash, reason := m.fakeHash, reasonUnknownUser
	if u != nil {
		reason = reasonNoPassword
		if u.PasswordHash != "" {
			hash, reason = u.PasswordHash, reasonBadPassword
		}
	}
	verr := m.hasher.Verify(ctx, password, hash)
	if u != nil && u.Disabled {
		reason = reasonDisabled
	}
	if verr == nil && reason != reasonBadPassword {
		// A disabled user with the right password, or (impossible in
		// practice: its password is random and discarded) a match against
		// the stand-in hash: refused like a wrong password.
		verr = ErrMismatch
	}
	if verr != nil {
		if dec.LocksOnFailure {
			m.emitLocked(ctx, u, shown, method)
		}
		if !errors.Is(verr, ErrMismatch) {
			// No slot, a cancelled context, or a stored hash that cannot
			// be verified: not the client's fault, and not a wrong password.
			var ae *auth.Error
			if errors.As(verr, &ae) {
				return nil, verr
			}
			return nil, fmt.Errorf("basic: verifying password: %w", verr)
		}
		if dec.LocksOnFailure {
			return fail(reason, errLocked(m.lockFor))
		}
		return fail(reason, errInvalidCredentials())
	}
	if validName {
		if err := m.lockout.Success(ctx, lockKey(username)); err != nil {
			return nil, fmt.Errorf("basic: lockout: %w", err)
		}
	}
	if clientKeyUsed != "" {
		if err := m.client.Success(ctx, clientKeyUsed); err != nil {
			return nil, fmt.Errorf("basic: client throttle: %w", err)
		}
	}
	m.rehash(ctx, u, password)
	e := auth.NewEvent(ctx, auth.EventLoginSucceeded, m.now())
	e.Subject, e.Username, e.Method = u.ID, u.Username, method
	auth.Emit(m.events, e)
	return u.public(), nil
}

// rehash replaces u's hash when it is outdated. Failures are ignored: the
// old hash still verifies, and the next sign-in tries again.
func (m *Users) rehash(ctx context.Context, u *User, password string) {
	if !m.hasher.NeedsRehash(u.PasswordHash) {
		return
	}
	fresh, err := m.hasher.Hash(ctx, password)
	if err != nil {
		return
	}
	old := u.PasswordHash
	_, after, err := m.update(ctx, u.ID, 0, func(x *User) error {
		if x.PasswordHash != old {
			return errAbort{errors.New("basic: password changed meanwhile")}
		}
		x.PasswordHash = fresh
		return nil
	})
	if err == nil {
		u.PasswordHash, u.Version, u.UpdatedAt = after.PasswordHash, after.Version, after.UpdatedAt
	}
}

func (m *Users) emitLocked(ctx context.Context, u *User, username string, method auth.Method) {
	e := auth.NewEvent(ctx, auth.EventAccountLocked, m.now())
	e.Username, e.Method = username, method
	if u != nil {
		e.Subject = u.ID
	}
	auth.Emit(m.events, e)
}

// Unlock clears the failures and any lock of the user's username: an
// administrator's unlock. Emits account_unlocked.
func (m *Users) Unlock(ctx context.Context, id string) error {
	u, err := m.load(ctx, ByID, id)
	if err != nil {
		return err
	}
	if err := m.lockout.Reset(ctx, lockKey(u.Username)); err != nil {
		return fmt.Errorf("basic: lockout: %w", err)
	}
	m.emit(ctx, auth.EventAccountUnlocked, u, "", nil)
	return nil
}

// LockStatus reports, without counting an attempt, the lockout state of the
// user's username: Locked and RetryAfter while locked, Failures counted.
func (m *Users) LockStatus(ctx context.Context, id string) (ratelimit.AttemptDecision, error) {
	u, err := m.load(ctx, ByID, id)
	if err != nil {
		return ratelimit.AttemptDecision{}, err
	}
	d, err := m.lockout.Status(ctx, lockKey(u.Username))
	if err != nil {
		return ratelimit.AttemptDecision{}, fmt.Errorf("basic: lockout: %w", err)
	}
	return d, nil
}
