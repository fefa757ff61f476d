// Package mfa adds a second factor to logins and sensitive operations: TOTP
// authenticator apps (RFC 6238, on github.com/pquerna/otp) with an otpauth
// URL and QR code, single-use backup codes, and one-time codes sent by email
// or SMS through a host [Sender]; a per-role [Policy] with a grace period;
// and the login challenge that turns a correct password into mfa_required
// plus a short-lived mfa_token.
//
// # The login flow
//
// After the first step (a password) succeeds, the host asks
// [Manager.Decide]. When [Decision.Challenge] is set it calls
// [Manager.Challenge] and answers 401 mfa_required with the mfa_token and
// the methods ([Challenge.AuthError]); the client sends the token and a code
// to [Manager.Complete], which returns the user ID and the [auth.MFAState]
// (Verified, VerifiedAt, "amr"-style Methods) to put in the tokens it
// issues. A code sent along with the password completes the login at once
// through [Manager.Verify]. Step-up checks of a fresh factor use
// middleware.RequireRecentMFA on the recorded VerifiedAt.
//
// # What it protects against
//
//   - Stolen passwords: users whose role the policy names, and users who
//     turned TOTP on, must prove a second factor.
//   - Replayed codes: each TOTP code is accepted once. The last accepted
//     time step is advanced in the store by one compare-and-set
//     ([TOTPStore.AdvanceTOTPStep]), so a code, or any code older than the
//     last one accepted, fails even on another instance sharing the store
//     (RFC 6238 §5.2). At most one step of clock skew is accepted either
//     side. Backup codes, sent codes and mfa_tokens are consumed by single
//     atomic store operations: of concurrent uses exactly one wins.
//   - Guessing: every second-factor attempt of a user, whatever the method,
//     goes through one attempts limiter (progressive delays, then a lock of
//     the user's second factor, RFC 4226 §7.3) and is counted before the code
//     is checked, so parallel guesses win nothing; while locked the answer
//     is the same for right and wrong codes. Sent codes are also voided
//     after a few wrong guesses, and resends are throttled.
//   - Stolen databases: TOTP secrets are sealed with the [auth.Keyring]
//     (AES-256-GCM, the user ID as associated data, so a sealed secret
//     moved to another user does not open); backup codes (60 random bits
//     each) and mfa_tokens (256 bits) are stored as SHA-256 hashes only.
//   - Enrolment mistakes: a new TOTP secret stays pending, and its backup
//     codes inert, until a code from the app confirms it.
//
// # Defaults
//
// TOTP: 160-bit secrets, SHA-1, 6 digits, 30-second steps (what every
// authenticator app supports). pquerna/otp makes the keys, otpauth URLs and
// QR codes; codes are checked with crypto/hmac and the RFC 4226 §5.3
// truncation, trying the current step first, and the tests hold that
// computation to the RFC vectors and to pquerna/otp's. 10 backup codes formatted XXXX-XXXX-XXXX in
// Crockford base32 (case, hyphens and spaces ignored; O read as 0, I and L
// as 1); sent codes of 6 digits living 5 minutes, voided after 5 wrong
// guesses, one per minute at most; mfa_tokens living 5 minutes. Accepted
// methods: TOTP and backup codes; email and SMS only when listed in
// [Policy.Methods] and a Sender is configured. Required for: nobody, unless
// [Policy.RequiredForRoles] or [Policy.RequiredForAll] says so. Attempts:
// the ratelimit defaults (delays of 1, 2, 5, 10 and 30 seconds after
// consecutive failures; 5 failures within 15 minutes lock the second factor
// for 15 minutes).
//
// # Concurrency
//
// [Manager] and [MemoryStore] are safe for concurrent use; [SenderFunc]
// values are as safe as their function. The other types (User, Policy,
// Decision, Status, Result, Enrollment, Challenge, SentInfo and the store
// records) are plain values: safe to read from several goroutines, not to
// change while others read them.
//
// # What this package does not check
//
// It does not verify passwords or issue tokens: the host runs the first
// step, and records [Result.MFA] in what it issues. It trusts [User] as the
// host gives it: Email and Phone must be verified addresses, Roles current.
// Sent codes are only 6 digits, so their SHA-256 hashes hide them from a
// casual reader of the store, not from someone who can brute-force a
// million values in the five minutes a code lives. [Manager.Disable] and
// [Manager.RegenerateBackupCodes] do not ask for a code or a password:
// re-authenticating the caller first is the host's decision. In-memory
// stores and limiters hold only within one process; several instances need
// shared ones for replay protection and attempt limits to hold across them.
package mfa
