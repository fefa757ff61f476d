-- Refresh-token families of jwtprovider: token IDs (jti), never tokens.
CREATE TABLE gatehouse_refresh_families (
	id          text PRIMARY KEY,
	subject     text NOT NULL,
	current_jti text NOT NULL,
	created_at  timestamptz NOT NULL,
	expires_at  timestamptz NOT NULL,
	revoked     boolean NOT NULL DEFAULT false
);
CREATE INDEX gatehouse_refresh_families_expires_at ON gatehouse_refresh_families (expires_at);
