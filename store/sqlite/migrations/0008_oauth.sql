-- OAuth authorization server of oauth2provider/server: client registrations
-- and grants. Codes, refresh tokens and client secrets are never stored,
-- only their SHA-256 (hex). Times are Unix microseconds (NULL: zero); lists
-- (redirect_uris, grant_types, scopes, service_roles, roles, mfa_methods)
-- are JSON arrays, access_tokens a JSON array of {"id", "expires_at"}.
CREATE TABLE gatehouse_oauth_clients (
	id            TEXT PRIMARY KEY,
	name          TEXT NOT NULL,
	auth_method   TEXT NOT NULL,
	secret_hash   TEXT NOT NULL,
	redirect_uris TEXT NOT NULL,
	grant_types   TEXT NOT NULL,
	scopes        TEXT NOT NULL,
	service_roles TEXT NOT NULL,
	require_pkce  INTEGER NOT NULL,
	introspect    INTEGER NOT NULL
);

-- refresh_hash is the current refresh token ('' for none); every refresh
-- hash the grant ever had, current one included, is also a row of
-- gatehouse_oauth_refresh_hashes. A hash is either one grant's code or one
-- grant's refresh token, never both: the store checks that on insert.
CREATE TABLE gatehouse_oauth_grants (
	id                    TEXT PRIMARY KEY,
	client_id             TEXT NOT NULL,
	subject               TEXT NOT NULL,
	username              TEXT NOT NULL,
	email                 TEXT NOT NULL,
	roles                 TEXT NOT NULL,
	mfa_verified          INTEGER NOT NULL,
	mfa_verified_at       INTEGER,
	mfa_methods           TEXT NOT NULL,
	auth_time             INTEGER,
	scopes                TEXT NOT NULL,
	redirect_uri          TEXT NOT NULL,
	code_challenge        TEXT NOT NULL,
	code_challenge_method TEXT NOT NULL,
	nonce                 TEXT NOT NULL,
	code_hash             TEXT NOT NULL,
	code_expires_at       INTEGER NOT NULL,
	redeemed              INTEGER NOT NULL,
	refresh_hash          TEXT NOT NULL,
	access_tokens         TEXT NOT NULL,
	created_at            INTEGER NOT NULL,
	expires_at            INTEGER NOT NULL,
	revoked               INTEGER NOT NULL
);
CREATE UNIQUE INDEX gatehouse_oauth_grants_code_hash ON gatehouse_oauth_grants (code_hash);
CREATE INDEX gatehouse_oauth_grants_expires_at ON gatehouse_oauth_grants (expires_at);

-- Every refresh hash ever made current for a grant, kept until the grant is
-- deleted, so that reuse of a rotated-away token is told apart from a
-- forged one.
CREATE TABLE gatehouse_oauth_refresh_hashes (
	hash     TEXT PRIMARY KEY,
	grant_id TEXT NOT NULL REFERENCES gatehouse_oauth_grants (id) ON DELETE CASCADE
);
CREATE INDEX gatehouse_oauth_refresh_hashes_grant ON gatehouse_oauth_refresh_hashes (grant_id);
