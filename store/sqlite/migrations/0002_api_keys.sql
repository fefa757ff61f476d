-- API key records of apikey.Manager. The key itself is never stored: hash is
-- its lookup hash, unique, and the only column a verification reads by.
-- Times are Unix microseconds; NULL is the zero time. permissions is a JSON
-- array, metadata a JSON object or NULL.
CREATE TABLE gatehouse_api_keys (
	id           TEXT PRIMARY KEY,
	hash         BLOB NOT NULL UNIQUE,
	owner_id     TEXT NOT NULL,
	name         TEXT NOT NULL,
	description  TEXT NOT NULL,
	prefix       TEXT NOT NULL,
	permissions  TEXT NOT NULL,
	metadata     TEXT,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER,
	revoked_at   INTEGER,
	rotated_from TEXT NOT NULL,
	replaced_by  TEXT NOT NULL,
	last_used_at INTEGER,
	last_used_ip TEXT NOT NULL
);
CREATE INDEX gatehouse_api_keys_owner ON gatehouse_api_keys (owner_id, created_at, id);
