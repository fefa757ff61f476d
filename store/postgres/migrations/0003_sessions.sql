-- Server-side sessions of session.Manager. id is the SHA-256 of the cookie
-- value, never the cookie itself. scopes NULL means "not narrowed", an empty
-- array "grants nothing"; the two must stay apart.
CREATE TABLE gatehouse_sessions (
	id                  text PRIMARY KEY,
	user_id             text NOT NULL,
	username            text NOT NULL,
	email               text NOT NULL,
	roles               text[] NOT NULL,
	scopes              text[],
	mfa_verified        boolean NOT NULL,
	mfa_verified_at     timestamptz,
	mfa_methods         text[] NOT NULL,
	auth_method         text NOT NULL,
	client_ip           text NOT NULL,
	user_agent          text NOT NULL,
	created_at          timestamptz NOT NULL,
	last_seen_at        timestamptz NOT NULL,
	expires_at          timestamptz NOT NULL,
	absolute_expires_at timestamptz,
	data                text NOT NULL
);
-- The per-user index: List, the cap of Create and Delete by user read it.
CREATE INDEX gatehouse_sessions_user ON gatehouse_sessions (user_id, created_at, id);
CREATE INDEX gatehouse_sessions_expires_at ON gatehouse_sessions (expires_at);
