-- Server-side sessions of session.Manager. id is the SHA-256 of the cookie
-- value, never the cookie itself. Times are Unix microseconds (NULL: zero).
-- roles, scopes and mfa_methods are JSON arrays; scopes NULL means "not
-- narrowed", '[]' "grants nothing".
CREATE TABLE gatehouse_sessions (
	id                  TEXT PRIMARY KEY,
	user_id             TEXT NOT NULL,
	username            TEXT NOT NULL,
	email               TEXT NOT NULL,
	roles               TEXT NOT NULL,
	scopes              TEXT,
	mfa_verified        INTEGER NOT NULL,
	mfa_verified_at     INTEGER,
	mfa_methods         TEXT NOT NULL,
	auth_method         TEXT NOT NULL,
	client_ip           TEXT NOT NULL,
	user_agent          TEXT NOT NULL,
	created_at          INTEGER NOT NULL,
	last_seen_at        INTEGER NOT NULL,
	expires_at          INTEGER NOT NULL,
	absolute_expires_at INTEGER,
	data                TEXT NOT NULL
);
CREATE INDEX gatehouse_sessions_user ON gatehouse_sessions (user_id, created_at, id);
CREATE INDEX gatehouse_sessions_expires_at ON gatehouse_sessions (expires_at);
