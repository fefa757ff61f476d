-- API key records of apikey.Manager. The key itself is never stored: hash is
-- its lookup hash, unique, and the only column a verification reads by.
CREATE TABLE gatehouse_api_keys (
	id           text PRIMARY KEY,
	hash         bytea NOT NULL UNIQUE,
	owner_id     text NOT NULL,
	name         text NOT NULL,
	description  text NOT NULL,
	prefix       text NOT NULL,
	permissions  text[] NOT NULL,
	metadata     jsonb,
	created_at   timestamptz NOT NULL,
	expires_at   timestamptz,
	revoked_at   timestamptz,
	rotated_from text NOT NULL,
	replaced_by  text NOT NULL,
	last_used_at timestamptz,
	last_used_ip text NOT NULL
);
CREATE INDEX gatehouse_api_keys_owner ON gatehouse_api_keys (owner_id, created_at, id);
