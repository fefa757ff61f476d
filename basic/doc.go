// Package basic handles users with passwords: hashing, the password policy,
// user management, sign-in with lockout, password history, the reset flow and
// the HTTP Basic authenticator.
//
// # What it protects against
//
// Offline cracking of a stolen user table: passwords are hashed with Argon2id
// (m=19 MiB, t=2, p=1) by default, or bcrypt (cost 12) or scrypt (N=2^15,
// r=8, p=1), stored as self-describing strings ($argon2id$..., $2a$...,
// $scrypt$...). Any supported format verifies; after a successful sign-in a
// hash with another algorithm or other parameters is replaced. bcrypt reads
// only 72 bytes of input: longer passwords are pre-hashed with a salted
// HMAC-SHA256 into a distinct $bcrypt-sha256$ format, and a plain bcrypt hash
// never matches a password longer than 72 bytes, so nothing is silently
// truncated.
//
// Weak passwords: [PasswordPolicy] follows NIST SP 800-63B. Length counts
// Unicode code points: at least 12, at most 128 by default (at least 64 is
// always accepted), never truncated. It refuses the 49,233 common passwords
// embedded in the package (see BLOCKLIST_NOTICE.md), also with digits or
// symbols added at either end; repeated or sequential characters; passwords
// containing the username, the email's local part or configured context
// words. Composition rules exist but are off. A [BreachChecker] such as
// [HIBP] (k-anonymity range API) is off by default; when on, a failing
// checker fails the operation rather than letting the password through.
// [PasswordPolicy.Validate] reports every violation at once.
//
// Password guessing and account enumeration: [Users.Authenticate] reserves an
// attempt with a ratelimit.AttemptsLimiter keyed by the lower-cased username
// before it looks anything up (progressive delays, then a 15-minute lock
// after 5 failures in 15 minutes), so parallel guesses win nothing. Unknown
// users are verified against a stand-in hash with the configured parameters,
// so a wrong username, a wrong password, a disabled user and a user without
// a password cost the same hash work and get the same invalid_credentials;
// while a username is locked every attempt gets the same account_locked with
// Retry-After, right password or wrong, user or no user. Password reset
// requests do the same work and give the same result whether or not the
// address is known.
//
// Login floods: at most runtime.NumCPU() hash computations run at once (each
// Argon2id computation holds 19 MiB); the rest wait at most 2 seconds and
// then get unavailable with Retry-After, so memory stays bounded.
//
// Session takeover after a password change: [Users.ChangePassword],
// [Users.SetPassword], [Users.CompletePasswordReset], disabling and deleting
// store the change first, then call Config.OnCredentialsChanged so that the
// host revokes the user's tokens and sessions. If that hook fails the change
// stays and the error wraps [ErrRevocationIncomplete]; retry with
// [Users.RevokeCredentials]. Reset tokens are 256-bit random values stored as
// SHA-256, single use (consumed atomically), valid 30 minutes, and die when
// the password or email changes.
//
// # Unicode
//
// Passwords are used exactly as given unless Config.NormalizePassword is set
// (the standard library has no Unicode normalisation; plug in
// golang.org/x/text's norm.NFKC.String as NIST suggests). Invalid UTF-8 and
// control characters are refused in new passwords. Usernames and email
// addresses are compared with [Fold] (strings.ToLower); usernames may not
// contain spaces, ':' or control or format characters.
//
// # What this package does not check
//
// It does not throttle password-reset requests or account creation: put a
// ratelimit limiter in front of those routes. It does not deliver reset
// tokens; the host mails them, off the request path so that timing does not
// reveal whether an address is known. The per-username lockout lets anyone
// lock an account for 15 minutes by guessing; pair it with Config.ClientLimiter
// and watch account_locked events. HTTP Basic sends the password on every
// request and knows nothing of second factors: accept it only over TLS and
// restrict it with middleware.RouteMethods where MFA is required. Role
// changes do not revoke tokens that already carry the old roles; call
// [Users.RevokeCredentials] if they must. A stored hash whose algorithm
// differs from the configured one costs differently from the stand-in hash,
// until the user's next sign-in re-hashes it.
package basic
