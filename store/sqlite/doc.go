// Package sqlite stores Gatehouse's state in an SQLite database file, the
// durable embedded default for a single host: what it stores survives a
// restart. It uses modernc.org/sqlite, a translation of SQLite to Go, so it
// needs no cgo. [DB] hands out one store per Gatehouse storage interface:
//
//   - [DB.Attempts]: [ratelimit.AttemptStore];
//   - [DB.APIKeys]: [apikey.Store];
//   - [DB.Sessions]: [session.Store];
//   - [DB.RefreshFamilies]: [jwtprovider.RefreshStore];
//   - [DB.Users]: [basic.UserStore] and [basic.ResetTokenStore].
//
// Each one passes its package's conformance suite, concurrency cases
// included.
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
// file (it holds hashes of credentials, never the credentials). Expired
// rows are only removed by the DeleteExpired methods, which the host calls
// periodically; until then the stores treat them as expired.
package sqlite
