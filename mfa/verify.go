package mfa

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
)

// internalError marks a failure to check a code (store, keyring), as opposed
// to a wrong code: it is returned as is and answered with 503.
type internalError struct{ err error }

// Error returns the cause's text.
func (e internalError) Error() string { return e.err.Error() }

// Unwrap returns the cause.
func (e internalError) Unwrap() error { return e.err }

// Result is a verified second factor.
type Result struct {
	// UserID is the user the factor belongs to.
	UserID string
	// Method is the factor used.
	Method Method
	// MFA is the state to record in the credential issued next: Verified,
	// VerifiedAt (the Manager's clock) and Methods in the style of the
	// RFC 8176 "amr" claim, for example ["pwd", "otp", "mfa"].
	MFA auth.MFAState
	// BackupCodesRemaining is, when Method is [MethodBackupCode], how many
	// unused codes the user has left.
	BackupCodesRemaining int
}

// guard is an attempt reserved with the attempts limiter.
type guard struct {
	userID, username, key string
	d                     ratelimit.AttemptDecision
}

// begin reserves an attempt for the user's second factor. A denied attempt
// is answered account_locked (a lock) or rate_limited (a delay) with the
// time to wait, and emits mfa_failed; the code is then not checked at all,
// so the answer is the same whether it was right or wrong.
func (m *Manager) begin(ctx context.Context, userID, username string) (guard, error) {
	key := limiterKey(userID)
	d, err := m.attempts.Attempt(ctx, key)
	if err != nil {
		return guard{}, fmt.Errorf("mfa: %w", err)
	}
	if !d.Allowed {
		reason, code := "delayed", auth.CodeRateLimited
		if d.Locked {
			reason, code = "locked", auth.CodeAccountLocked
		}
		auth.Emit(m.cfg.Events, m.event(ctx, auth.EventMFAFailed, userID, username, reason))
		return guard{}, &auth.Error{
			Code:        code,
			Description: "too many failed second-factor attempts; try again later",
			RetryAfter:  d.RetryAfter,
			Err:         ErrLocked,
		}
	}
	return guard{userID: userID, username: username, key: key, d: d}, nil
}

// succeed clears the user's failures after a right code.
func (m *Manager) succeed(ctx context.Context, g guard) error {
	if err := m.attempts.Success(ctx, g.key); err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	return nil
}

// fail turns the outcome of a check into the caller's error. Internal
// failures are returned as they are (the reserved attempt stays counted).
// A wrong code emits mfa_failed and, when it locks the user, account_locked.
func (m *Manager) fail(ctx context.Context, g guard, method Method, cause error) error {
	var ie internalError
	if errors.As(cause, &ie) {
		return ie.err
	}
	reason := "invalid_code"
	switch {
	case errors.Is(cause, ErrMalformedCode):
		reason = "malformed_code"
	case errors.Is(cause, ErrReplayedCode):
		reason = "replayed_code"
	}
	e := m.event(ctx, auth.EventMFAFailed, g.userID, g.username, reason)
	if method != "" {
		e.Attrs = map[string]string{"factor": string(method)}
	}
	auth.Emit(m.cfg.Events, e)
	if g.d.LocksOnFailure {
		le := m.event(ctx, auth.EventAccountLocked, g.userID, g.username, "mfa_failures")
		le.Attrs = map[string]string{"failures": strconv.Itoa(g.d.Failures)}
		auth.Emit(m.cfg.Events, le)
		return &auth.Error{
			Code:        auth.CodeAccountLocked,
			Description: "too many failed second-factor attempts; try again later",
			RetryAfter:  m.lockout,
			Err:         fmt.Errorf("%w: %w", ErrLocked, cause),
		}
	}
	return auth.WrapError(auth.CodeInvalidCredentials, "the code is invalid or was already used", cause)
}

// Verify checks a second-factor code of the user: a TOTP code (accepted once,
// one time step of skew either side), a backup code (consumed), or a code
// sent by email or SMS (consumed), as the policy allows. It serves step-up
// checks and logins that send the code with the password (mfa_code): pass
// the first step's "amr" values as firstFactors (for example "pwd") and they
// lead the returned MFA.Methods, followed by the factor and "mfa".
//
// Every call counts as an attempt with the attempts limiter until it
// succeeds. A wrong, malformed or replayed code fails with
// invalid_credentials (the failure that locks: account_locked); a locked or
// delayed user gets account_locked or rate_limited with RetryAfter, without
// the code being checked. Other errors are store failures.
func (m *Manager) Verify(ctx context.Context, userID, code string, firstFactors ...string) (Result, error) {
	if userID == "" {
		return Result{}, errNoUserID
	}
	return m.verify(ctx, userID, "", code, firstFactors)
}

func (m *Manager) verify(ctx context.Context, userID, username, code string, first []string) (Result, error) {
	g, err := m.begin(ctx, userID, username)
	if err != nil {
		return Result{}, err
	}
	method, remaining, cause := m.check(ctx, userID, code)
	if cause != nil {
		return Result{}, m.fail(ctx, g, method, cause)
	}
	if err := m.succeed(ctx, g); err != nil {
		return Result{}, err
	}
	now := m.cfg.Now()
	if method == MethodBackupCode {
		e := m.event(ctx, auth.EventBackupCodeUsed, userID, username, "")
		e.Attrs = map[string]string{"remaining": strconv.Itoa(remaining)}
		auth.Emit(m.cfg.Events, e)
	}
	return Result{
		UserID:               userID,
		Method:               method,
		MFA:                  mfaState(now, first, method),
		BackupCodesRemaining: remaining,
	}, nil
}

// mfaState builds the state of a credential verified at now with the first
// factors and method.
func mfaState(now time.Time, first []string, method Method) auth.MFAState {
	amr := make([]string, 0, len(first)+2)
	amr = append(amr, first...)
	amr = append(amr, method.AMR())
	if len(first) > 0 {
		amr = append(amr, "mfa")
	}
	return auth.MFAState{Verified: true, VerifiedAt: now, Methods: amr}
}

// check tries code against the user's factors. On success it returns the
// factor and, for backup codes, how many remain. On failure it returns the
// factor the code was taken for (if any) and the cause.
func (m *Manager) check(ctx context.Context, userID, code string) (Method, int, error) {
	kind, canon, err := parseCode(code)
	if err != nil {
		return "", 0, err
	}
	p := m.cfg.Policy
	if kind == kindBackup {
		if !p.allowed(MethodBackupCode) {
			return MethodBackupCode, 0, ErrInvalidCode
		}
		remaining, err := m.store.ConsumeBackupCode(ctx, userID, backupHash(userID, canon))
		switch {
		case err == nil:
			return MethodBackupCode, remaining, nil
		case isNotFound(err):
			return MethodBackupCode, 0, ErrInvalidCode
		}
		return MethodBackupCode, 0, internalError{fmt.Errorf("mfa: consuming backup code: %w", err)}
	}
	var method Method
	cause := ErrInvalidCode
	if p.allowed(MethodTOTP) {
		method = MethodTOTP
		ok, err := m.useTOTP(ctx, userID, canon)
		switch {
		case ok:
			return MethodTOTP, 0, nil
		case errors.Is(err, ErrReplayedCode):
			cause = err
		case err != nil && !errors.Is(err, ErrInvalidCode):
			return MethodTOTP, 0, err
		}
	}
	if len(canon) == SentCodeDigits && (p.allowed(MethodEmail) || p.allowed(MethodSMS)) {
		ch, err := m.store.UseSentCode(ctx, userID, sentCodeHash(userID, canon), m.cfg.Now())
		switch {
		case err == nil && p.allowed(ch):
			return ch, 0, nil
		case err == nil, isNotFound(err), errors.Is(err, ErrCodeMismatch):
		default:
			return method, 0, internalError{fmt.Errorf("mfa: checking sent code: %w", err)}
		}
	}
	return method, 0, cause
}

// useTOTP checks a canonical digit code against the user's confirmed TOTP
// enrolment and, when it matches a step after the last accepted one,
// advances the stored step to it. Of concurrent uses of one code exactly one
// advances the step; the others get ErrReplayedCode.
func (m *Manager) useTOTP(ctx context.Context, userID, canon string) (bool, error) {
	rec, err := m.store.GetTOTP(ctx, userID)
	if err != nil {
		if isNotFound(err) {
			return false, ErrInvalidCode
		}
		return false, internalError{fmt.Errorf("mfa: reading TOTP enrolment: %w", err)}
	}
	if !rec.Confirmed() || len(canon) != rec.Digits {
		return false, ErrInvalidCode
	}
	step, err := m.matchTOTP(rec, canon)
	if err != nil {
		return false, err
	}
	ok, err := m.store.AdvanceTOTPStep(ctx, userID, step)
	switch {
	case err != nil && isNotFound(err):
		return false, ErrInvalidCode
	case err != nil:
		return false, internalError{fmt.Errorf("mfa: advancing TOTP step: %w", err)}
	case !ok:
		return false, ErrReplayedCode
	}
	return true, nil
}
