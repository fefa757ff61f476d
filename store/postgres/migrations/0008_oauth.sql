-- Client registrations of oauth2provider/server. The client secret is never
-- stored, only its SHA-256 (secret_hash). A NULL array is a nil list, '{}'
-- an empty one, so that registrations round-trip exactly.
CREATE TABLE gatehouse_oauth_clients (
	id            text PRIMARY KEY,
	name          text NOT NULL,
	auth_method   text NOT NULL,
	secret_hash   text NOT NULL,
	redirect_uris text[],
	grant_types   text[],
	scopes        text[],
	service_roles text[],
	require_pkce  boolean NOT NULL,
	introspect    boolean NOT NULL
);

-- Grants of oauth2provider/server: what a user authorized a client to do.
-- Codes and refresh tokens are never stored, only their SHA-256 (hex):
-- code_hash, and refresh_hash for the current refresh token ('' for none).
-- access_tokens is a JSON array of {"id", "expires_at"} (RFC 3339 with
-- nanoseconds), NULL when the grant never recorded one. client_id is not a
-- foreign key: deleting a client leaves its grants until they expire.
CREATE TABLE gatehouse_oauth_grants (
	id                    text PRIMARY KEY,
	client_id             text NOT NULL,
	subject               text NOT NULL,
	username              text NOT NULL,
	email                 text NOT NULL,
	roles                 text[],
	mfa_verified          boolean NOT NULL,
	mfa_verified_at       timestamptz,
	mfa_methods           text[],
	auth_time             timestamptz,
	scopes                text[] NOT NULL,
	redirect_uri          text NOT NULL,
	code_challenge        text NOT NULL,
	code_challenge_method text NOT NULL,
	nonce                 text NOT NULL,
	code_hash             text NOT NULL UNIQUE,
	code_expires_at       timestamptz NOT NULL,
	redeemed              boolean NOT NULL,
	refresh_hash          text NOT NULL,
	access_tokens         jsonb,
	created_at            timestamptz NOT NULL,
	expires_at            timestamptz NOT NULL,
	revoked               boolean NOT NULL
);
CREATE INDEX gatehouse_oauth_grants_expires_at ON gatehouse_oauth_grants (expires_at);

-- Every token hash a grant ever had: its code (kind 'code') and each refresh
-- token made current (kind 'refresh'), kept with the grant until it is
-- deleted, so that reuse of a rotated-away refresh token is told from a
-- forged one. The primary key makes code and refresh hashes one namespace,
-- as in server.MemoryStore.
CREATE TABLE gatehouse_oauth_grant_hashes (
	hash     text PRIMARY KEY,
	grant_id text NOT NULL REFERENCES gatehouse_oauth_grants (id) ON DELETE CASCADE,
	kind     text NOT NULL CHECK (kind IN ('code', 'refresh'))
);
CREATE INDEX gatehouse_oauth_grant_hashes_grant ON gatehouse_oauth_grant_hashes (grant_id);
