-- Used login flows of oauth2provider (the OIDC client), kept so that a
-- replayed callback is refused. key is derived by SHA-256 from the flow's
-- random ID, never the ID itself; expires_at is the flow's expiry, rounded
-- up to the microsecond, after which the key may be used again and
-- DeleteExpired removes it.
CREATE TABLE gatehouse_sso_replay (
	key        text PRIMARY KEY,
	expires_at timestamptz NOT NULL
);
CREATE INDEX gatehouse_sso_replay_expires_at ON gatehouse_sso_replay (expires_at);

-- The IdP's tokens of each user, for later calls to the IdP's APIs. sealed
-- is a ciphertext sealed by the host's auth.Keyring and bound to (idp,
-- subject), never a clear token; it is never empty.
CREATE TABLE gatehouse_sso_tokens (
	idp     text NOT NULL,
	subject text NOT NULL,
	sealed  text NOT NULL CHECK (sealed <> ''),
	PRIMARY KEY (idp, subject)
);
