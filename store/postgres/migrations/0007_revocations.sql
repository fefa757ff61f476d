-- Revocations of jwtprovider: token and family IDs (kind 'I') and
-- per-subject cut-offs (kind 'S'), times in Unix microseconds. version
-- comes from the sequence under an advisory lock, so versions commit in
-- order and a mirror can read what is new with version > the last it saw.
CREATE SEQUENCE gatehouse_revocation_version;
CREATE TABLE gatehouse_revocations (
	kind     text NOT NULL,
	key      text NOT NULL,
	at_us    bigint NOT NULL,
	until_us bigint NOT NULL,
	version  bigint NOT NULL,
	PRIMARY KEY (kind, key)
);
CREATE INDEX gatehouse_revocations_version ON gatehouse_revocations (version);
CREATE INDEX gatehouse_revocations_until ON gatehouse_revocations (until_us);
