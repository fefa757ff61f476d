// Package sqlite stores Gatehouse's state in an SQLite database file, the
// durable embedded default for a single host: what it stores survives a
// restart. It uses modernc.org/sqlite, a translation of SQLite to Go, so it
// needs no cgo. [DB] hands out one store per Gatehouse storage interface:
//
//   - [DB.Attempts]: [ratelimit.AttemptStore];
//   - [DB.APIKeys]: [apikey.Store];
//   - [DB.Sessions]: [session.Store];
//   - [DB.RefreshFamilies]: [jwtprovider.RefreshStore];
//   - [DB.Revocations]: [jwtprovider.RevocationStore], with an in-process
//     mirror;
//   - [DB.Users]: [basic.UserStore] and [basic.ResetTokenStore];
//   - [DB.MFA]: [mfa.Store] (TOTP enrolments and replay guard, backup codes,
//     login challenges, sent codes);
//   - [DB.OAuth]: [server.ClientStore] and [server.GrantStore] of the OAuth
//     authorization server (package oauth2provider/server);
//   - [DB.SSO]: [oauth2provider.ReplayStore] and [oauth2provider.TokenStore]
//     of the single sign-on provider (flow replay keys and sealed IdP
//     tokens).
//
// Each one passes its package's conformance suite, concurrency cases
// included.
//
// # MFA
//
// [MFAStore] keeps TOTP secrets as the host's keyring sealed them, and
// backup codes, sent codes and challenge tokens as hashes. Every step that
// must happen once (accepting a TOTP time step, using a backup code, a
// sent code or a challenge) is one statement or one immediate transaction
// on the writer, so of two concurrent uses of one code exactly one wins,
// even when they come from two processes sharing the file.
//
// # Revocations
//
// [RevocationStore] answers token checks from process memory, so verifying
// a token reads no file. Each revocation gets the next version of a
// counter inside its immediate transaction; since SQLite admits one writer
// at a time, versions commit in order, and every mirror reads the rows
// above the last version it saw every PollInterval (200 ms by default).
// Processes sharing the file thus see each other's revocations within one
// poll, and a mirror whose last successful read is older than MaxStaleness
// ([DefaultRevocationMaxStaleness], 1 s) fails every check with
// [jwtprovider.ErrMirrorStale] rather than answer from old data. A process
// enforces its own revocations as soon as Revoke returns. Call
// [RevocationStore.Close] to stop the polling goroutine.
//
// # OAuth
//
// [OAuthStore] keeps client registrations and grants, holding only SHA-256
// hashes of client secrets, authorization codes and refresh tokens. Every
// refresh hash a grant ever had stays until the grant is deleted, so a
// replayed old refresh token is recognised as reuse, and revokes the grant,
// rather than passing for a forgery. Grant creation, code redemption,
// refresh rotation and revocation are each one immediate transaction on the
// writer: of concurrent redemptions of one code, or rotations of one
// refresh token, exactly one wins, across processes too.
//
// # Connections and atomicity
//
// [Open] opens the file twice: a writer limited to one connection, whose
// transactions start with BEGIN IMMEDIATE, and a pool of read-only
// connections (PRAGMA query_only). Every write, and every read that decides
// a write, runs on the writer: writes from one process queue in Go rather
// than spinning on SQLITE_BUSY, and BEGIN IMMEDIATE takes SQLite's write
// lock before the first read, so a transaction that reads a record and
// writes it back is atomic even against other processes using the same
// file (which wait up to the busy timeout, 10 seconds). Plain reads run on
// the read pool in parallel with the writer, which write-ahead logging
// (journal_mode=WAL, enabled by Open) allows. Commits are synced to disk
// (synchronous=FULL).
//
// # Schema
//
// Tables are created by [DB.Migrate], never implicitly. Migrations are
// embedded in the binary, numbered, and recorded in the table
// gatehouse_schema_migrations; Migrate applies the missing ones in one
// immediate transaction, so processes starting at once apply each migration
// exactly once. Every table name starts with "gatehouse_".
//
// # What this package does not check
//
// SQLite serves one machine: several hosts sharing a database file over a
// network file system may corrupt it; use the postgres module for several
// instances. The file is not encrypted: protect it like any secret-bearing
// file (it holds hashes of credentials, sealed TOTP secrets and sealed IdP
// tokens, never the credentials). Expired rows are only removed by the DeleteExpired methods
// ([MFAStore.DeleteExpired], [OAuthStore.DeleteExpired] and
// [SSOStore.DeleteExpired] among them), which the host calls periodically;
// until then the stores treat them as expired.
package sqlite
