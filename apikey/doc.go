// Package apikey issues and verifies API keys for service integrations: a
// SCADA system reading predictions, a data pipeline, a partner's batch job.
//
// A key looks like "gk_" + 32 random base62 characters + a 6-character
// checksum (see [Format]; the prefix is configurable, for example "tfx_").
// It is shown in plaintext once, by [Manager.Create] or [Manager.Rotate];
// the [Store] keeps only its [Hash] and a display prefix such as "gk_7Hq2".
//
// # What it protects against
//
//   - A stolen database: rows hold HMAC-SHA256 hashes under a server secret
//     ([Config.HashKey]) — or SHA-256 without one, still infeasible to invert
//     for 190-bit random keys. With a HashKey, someone who can write the
//     table cannot plant a key of their own either.
//   - Guessing and typos: the CRC-32 checksum rejects mistyped, truncated and
//     invented keys before any store call, and secret scanners can confirm a
//     leaked key is one of ours by the prefix and checksum.
//   - Privilege escalation: a key is created only with permissions its
//     creator holds ([Config.Policy]), listed one by one: wildcards such as
//     "predictions:*" are refused, because they would silently grow with
//     every permission added to the owner's roles later. At every use
//     the owner is looked up ([Config.Owners]) so that the principal carries
//     the owner's current roles with the key's permissions as scopes: an RBAC
//     policy grants their intersection, so demoting the owner demotes the
//     key and disabling the owner disables it.
//   - Oracles: every rejected key is answered with the same invalid_token
//     error; the reason (malformed, bad_checksum, unknown_key, revoked,
//     expired, rotated, owner_disabled, owner_not_found) goes only to the
//     api_key_rejected event and the internal error.
//   - Store outages reported as bad keys: store, owner-lookup and remote
//     validator failures are plain errors, which the middleware answers with
//     503 unavailable.
//
// # Verification cost
//
// [Manager.Verify] parses the key and checks its checksum (no allocation),
// computes one hash, and makes one indexed store lookup ([Store.Lookup]) and
// one owner lookup. Last-used records are coalesced in memory and written
// at most once per key per [Config.FlushInterval] (default one minute) by a
// background flush and by [Manager.Close]; [Key.LastUsedAt] is therefore the
// time of the latest use before the last flush, up to one interval stale,
// and the uses of the last interval are lost if the process dies without
// Close. api_key_used is emitted once per key per flush interval, at the
// first use in it, with that request's metadata.
//
// # Rotation
//
// [Manager.Rotate] issues a successor with the same permissions and expiry;
// the old key keeps working until now+grace. Both happen in one atomic
// [Store.Create]. A key is rotated at most once; the successor can be
// rotated in turn, each old key keeping its own deadline.
//
// # Transport
//
// [Authenticator] reads the X-API-Key header (name configurable) and
// "Authorization: Bearer" tokens that start with the key prefix; other
// bearer tokens are left to the next authenticator, so put it before the JWT
// authenticator in the chain. Query parameters are read only with
// [AuthenticatorConfig.InsecureAllowQueryParam], because URLs are logged.
// [Remote] verifies keys against a validation service ([Manager.ValidationHandler])
// with a bounded cache.
//
// # What this package does not check
//
// It does not rate-limit verification (put the ratelimit middleware in front
// of it), and it does not decide which permissions a principal's roles grant
// (that is the RBAC policy's job, fed with Roles and Scopes). [Manager.Get],
// [Manager.Revoke] and [Manager.Rotate] do not check who is asking: the
// caller must check the key's OwnerID. The checksum is not a signature:
// anyone can compute it, so it stops accidents, not attackers, who are
// stopped by the 190-bit body. A [Remote] accepts a revoked key, or one whose
// owner was demoted, until its cached answer expires (PositiveTTL). Keys are
// bearer credentials: anyone holding one is its owner, within its
// permissions, until it is revoked or expires.
package apikey
