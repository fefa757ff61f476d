-- MFA state of mfa.Manager. TOTP secrets are stored sealed by the host's
-- auth.Keyring, backup and sent codes as hashes, challenges by the hash of
-- their mfa_token: never a secret in the clear. Times are Unix
-- microseconds; confirmed_at is NULL while the enrolment is pending.
-- pending_backup_codes is a JSON array.
CREATE TABLE gatehouse_mfa_totp (
	user_id              TEXT PRIMARY KEY,
	id                   TEXT NOT NULL,
	secret               TEXT NOT NULL,
	algorithm            TEXT NOT NULL,
	digits               INTEGER NOT NULL,
	period               INTEGER NOT NULL,
	created_at           INTEGER NOT NULL,
	confirmed_at         INTEGER,
	last_step            INTEGER NOT NULL,
	pending_backup_codes TEXT NOT NULL
);

CREATE TABLE gatehouse_mfa_backup_codes (
	user_id TEXT NOT NULL,
	hash    TEXT NOT NULL,
	PRIMARY KEY (user_id, hash)
) WITHOUT ROWID;

-- The challenged user is a JSON copy of mfa.User.
CREATE TABLE gatehouse_mfa_challenges (
	token_hash   TEXT PRIMARY KEY,
	challenged   TEXT NOT NULL,
	first_factor TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL
);
CREATE INDEX gatehouse_mfa_challenges_expires_at ON gatehouse_mfa_challenges (expires_at);

-- One live sent code per user; a used or voided code keeps its row (hash
-- '', attempts_left 0) so that it still throttles resends.
CREATE TABLE gatehouse_mfa_sent_codes (
	user_id       TEXT PRIMARY KEY,
	hash          TEXT NOT NULL,
	channel       TEXT NOT NULL,
	sent_at       INTEGER NOT NULL,
	expires_at    INTEGER NOT NULL,
	resend_at     INTEGER NOT NULL,
	attempts_left INTEGER NOT NULL
);
