-- Revocations of jwtprovider: token and family IDs (kind 'I') and
-- per-subject cut-offs (kind 'S'), times in Unix microseconds. Each write
-- takes the next value of the one-row counter gatehouse_revocation_version
-- inside its immediate transaction; SQLite admits one writer at a time, so
-- versions commit in order and a mirror reads what is new with version >
-- the last it saw. The counter never moves back, even when rows are
-- deleted.
CREATE TABLE gatehouse_revocation_version (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	version INTEGER NOT NULL
);
INSERT INTO gatehouse_revocation_version (id, version) VALUES (1, 0);

CREATE TABLE gatehouse_revocations (
	kind     TEXT NOT NULL,
	key      TEXT NOT NULL,
	at_us    INTEGER NOT NULL,
	until_us INTEGER NOT NULL,
	version  INTEGER NOT NULL,
	PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX gatehouse_revocations_version ON gatehouse_revocations (version);
CREATE INDEX gatehouse_revocations_until ON gatehouse_revocations (until_us);
