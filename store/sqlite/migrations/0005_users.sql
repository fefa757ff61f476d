-- User accounts of basic.Users. username_fold and email_fold hold
-- basic.Fold of the username and email, computed in Go, and carry the
-- uniqueness; email_fold is NULL for an empty email, which is therefore not
-- unique. Times are Unix microseconds; roles and password_history are JSON
-- arrays. Text compares byte by byte (BINARY), the order ListUsers pages in.
CREATE TABLE gatehouse_users (
	id                  TEXT PRIMARY KEY,
	username            TEXT NOT NULL,
	username_fold       TEXT NOT NULL UNIQUE,
	email               TEXT NOT NULL,
	email_fold          TEXT UNIQUE,
	roles               TEXT NOT NULL,
	disabled            INTEGER NOT NULL,
	created_at          INTEGER NOT NULL,
	updated_at          INTEGER NOT NULL,
	password_changed_at INTEGER NOT NULL,
	version             INTEGER NOT NULL,
	password_hash       TEXT NOT NULL,
	password_history    TEXT NOT NULL
);

-- Password-reset tokens: the SHA-256 of each token, never the token.
CREATE TABLE gatehouse_reset_tokens (
	hash       TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL,
	stamp      TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX gatehouse_reset_tokens_user ON gatehouse_reset_tokens (user_id, created_at);
CREATE INDEX gatehouse_reset_tokens_expires_at ON gatehouse_reset_tokens (expires_at);
