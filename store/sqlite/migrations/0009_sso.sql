-- Single sign-on of oauth2provider. gatehouse_sso_replay remembers the
-- completed login flows by key (a SHA-256 of the flow ID, never the ID)
-- until expires_at, Unix microseconds rounded up; a row whose expires_at is
-- at or before now is expired and may be taken over by the same key.
CREATE TABLE gatehouse_sso_replay (
	key        TEXT PRIMARY KEY,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX gatehouse_sso_replay_expires_at ON gatehouse_sso_replay (expires_at);

-- Each user's IdP tokens, as the provider sealed them with the host's
-- auth.Keyring (bound to idp and subject): never a token in the clear.
CREATE TABLE gatehouse_sso_tokens (
	idp     TEXT NOT NULL,
	subject TEXT NOT NULL,
	sealed  TEXT NOT NULL,
	PRIMARY KEY (idp, subject)
);
