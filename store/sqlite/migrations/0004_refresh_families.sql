-- Refresh-token families of jwtprovider: token IDs (jti), never tokens.
-- Times are Unix microseconds.
CREATE TABLE gatehouse_refresh_families (
	id          TEXT PRIMARY KEY,
	subject     TEXT NOT NULL,
	current_jti TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,
	revoked     INTEGER NOT NULL
);
CREATE INDEX gatehouse_refresh_families_expires_at ON gatehouse_refresh_families (expires_at);
