package basic

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/internal/secure"
)

// errPasswordRaced reports that the password changed between the checks of
// a password operation and its write.
func errPasswordRaced() *auth.Error {
	return errConflict("the password was changed concurrently; retry", ErrVersionConflict)
}

// ChangePassword replaces the user's password after checking the old one.
//
// The old-password check goes through the lockout like a sign-in (a stolen
// session must not become a password-guessing oracle) and fails with the same
// answers as [Users.Authenticate]. The new password must pass the policy,
// must differ from the old one and, with password history on, from the
// recent ones (violation "reused"). The new hash is stored first; then reset
// tokens are invalidated and Config.OnCredentialsChanged is called. If that
// hook fails, the new password stays in force, password_changed is still
// emitted, and the returned error wraps [ErrRevocationIncomplete]: call
// [Users.RevokeCredentials] until it succeeds.
func (m *Users) ChangePassword(ctx context.Context, id, oldPassword, newPassword string) error {
	u, err := m.load(ctx, ByID, id)
	if err != nil {
		return err
	}
	dec, err := m.lockout.Attempt(ctx, lockKey(u.Username))
	if err != nil {
		return fmt.Errorf("basic: lockout: %w", err)
	}
	if !dec.Allowed {
		if dec.Locked {
			return errLocked(dec.RetryAfter)
		}
		return errThrottled(dec.RetryAfter)
	}
	oldPassword, newPassword = m.normalize(oldPassword), m.normalize(newPassword)
	hash := u.PasswordHash
	if hash == "" {
		hash = m.fakeHash
	}
	verr := m.hasher.Verify(ctx, oldPassword, hash)
	if verr == nil && (u.PasswordHash == "" || u.Disabled) {
		verr = ErrMismatch
	}
	if verr != nil {
		if dec.LocksOnFailure {
			m.emitLocked(ctx, u, u.Username, "")
		}
		if !errors.Is(verr, ErrMismatch) {
			var ae *auth.Error
			if errors.As(verr, &ae) {
				return verr
			}
			return fmt.Errorf("basic: verifying password: %w", verr)
		}
		m.emit(ctx, auth.EventLoginFailed, u, reasonBadPassword, map[string]string{"operation": "change_password"})
		if dec.LocksOnFailure {
			return errLocked(m.lockFor)
		}
		return errInvalidCredentials()
	}
	if err := m.lockout.Success(ctx, lockKey(u.Username)); err != nil {
		return fmt.Errorf("basic: lockout: %w", err)
	}
	var reused []Violation
	if newPassword == oldPassword {
		reused = []Violation{reuseViolation()}
	}
	return m.replacePassword(ctx, u, newPassword, reused, auth.EventPasswordChanged, nil)
}

// SetPassword replaces the user's password without the old one: an
// administrator's action. Policy, history, revocation and events are as for
// [Users.ChangePassword]; with history on, the current password counts as
// used.
func (m *Users) SetPassword(ctx context.Context, id, newPassword string) error {
	u, err := m.load(ctx, ByID, id)
	if err != nil {
		return err
	}
	return m.replacePassword(ctx, u, m.normalize(newPassword), nil, auth.EventPasswordChanged,
		map[string]string{"by": "administrator"})
}

func reuseViolation() Violation {
	return Violation{Code: ViolationReused, Message: "choose a password you have not used recently"}
}

// replacePassword checks password against the policy and the history of u,
// stores its hash if u's password has not changed meanwhile, then revokes
// and emits. violations are prior findings reported with the policy's.
func (m *Users) replacePassword(ctx context.Context, u *User, password string, violations []Violation,
	event auth.EventType, attrs map[string]string) error {
	if err := m.checkNewPassword(ctx, u, password, violations); err != nil {
		return err
	}
	fresh, err := m.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	if err := m.storePassword(ctx, u, fresh, nil); err != nil {
		return err
	}
	m.emit(ctx, event, u, "", attrs)
	return m.revoke(ctx, u.ID)
}

// checkNewPassword applies the policy and, with history on, refuses the
// current password and the remembered ones. Every violation is reported
// together.
func (m *Users) checkNewPassword(ctx context.Context, u *User, password string, violations []Violation) error {
	err := m.policy.Validate(ctx, password, PasswordOwner{Username: u.Username, Email: u.Email})
	var pe *PolicyError
	switch {
	case errors.As(err, &pe):
		violations = append(violations, pe.Violations...)
	case err != nil:
		return err
	}
	if m.history > 0 && !slices.ContainsFunc(violations, func(v Violation) bool { return v.Code == ViolationReused }) {
		used, err := m.inHistory(ctx, u, password)
		if err != nil {
			return err
		}
		if used {
			violations = append(violations, reuseViolation())
		}
	}
	if len(violations) > 0 {
		return (&PolicyError{Violations: violations}).authError()
	}
	return nil
}

// inHistory reports whether password matches the current hash or one of the
// remembered ones, up to the configured history size.
func (m *Users) inHistory(ctx context.Context, u *User, password string) (bool, error) {
	hashes := append([]string{u.PasswordHash}, u.PasswordHistory...)
	hashes = hashes[:min(len(hashes), m.history)]
	for _, h := range hashes {
		if h == "" {
			continue
		}
		err := m.hasher.Verify(ctx, password, h)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, ErrMismatch), errors.Is(err, ErrMalformedHash), errors.Is(err, ErrUnsupportedHash):
			// An old hash that cannot be read cannot match.
		default:
			return false, err
		}
	}
	return false, nil
}

// storePassword writes fresh as u's password if u's stored password is still
// the one read (u.PasswordHash), pushing the old one into the history, and
// updates u in place. check, if set, runs on the fresh copy first.
func (m *Users) storePassword(ctx context.Context, u *User, fresh string, check func(x *User) error) error {
	old := u.PasswordHash
	_, after, err := m.update(ctx, u.ID, 0, func(x *User) error {
		if x.PasswordHash != old {
			return errAbort{errPasswordRaced()}
		}
		if check != nil {
			if err := check(x); err != nil {
				return errAbort{err}
			}
		}
		x.PasswordHistory = m.pushHistory(x.PasswordHistory, x.PasswordHash)
		x.PasswordHash = fresh
		x.PasswordChangedAt = m.now()
		return nil
	})
	if err != nil {
		return err
	}
	*u = *after
	return nil
}

// pushHistory returns the history with old in front, trimmed to the
// remembered size (history size minus the current password); nil when
// history is off.
func (m *Users) pushHistory(history []string, old string) []string {
	keep := m.history - 1
	if keep <= 0 {
		return nil
	}
	out := make([]string, 0, keep)
	if old != "" {
		out = append(out, old)
	}
	for _, h := range history {
		if len(out) == keep {
			break
		}
		out = append(out, h)
	}
	return out
}

// resetStamp binds a reset token to the user's password hash and email:
// changing either (or re-hashing the password) invalidates the token.
func resetStamp(u *User) string {
	return secure.HashHex("basic-reset-stamp\x00" + u.PasswordHash + "\x00" + Fold(u.Email))[:32]
}
