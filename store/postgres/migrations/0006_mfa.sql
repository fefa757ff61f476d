-- MFA state of mfa.Manager. TOTP secrets are stored sealed by the host's
-- auth.Keyring, backup and sent codes as hashes, challenges by the hash of
-- their mfa_token: never a secret in the clear.
CREATE TABLE gatehouse_mfa_totp (
	user_id              text PRIMARY KEY,
	id                   text NOT NULL,
	secret               text NOT NULL,
	algorithm            text NOT NULL,
	digits               integer NOT NULL,
	period               integer NOT NULL,
	created_at           timestamptz NOT NULL,
	confirmed_at         timestamptz,
	last_step            bigint NOT NULL,
	pending_backup_codes text[] NOT NULL
);

CREATE TABLE gatehouse_mfa_backup_codes (
	user_id text NOT NULL,
	hash    text NOT NULL,
	PRIMARY KEY (user_id, hash)
);

-- The challenged user is a JSON copy of mfa.User.
CREATE TABLE gatehouse_mfa_challenges (
	token_hash   text PRIMARY KEY,
	challenged   jsonb NOT NULL,
	first_factor text NOT NULL,
	created_at   timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL
);
CREATE INDEX gatehouse_mfa_challenges_expires_at ON gatehouse_mfa_challenges (expires_at);

-- One live sent code per user; a used or voided code keeps its row (hash
-- '', attempts_left 0) so that it still throttles resends.
CREATE TABLE gatehouse_mfa_sent_codes (
	user_id       text PRIMARY KEY,
	hash          text NOT NULL,
	channel       text NOT NULL,
	sent_at       timestamptz NOT NULL,
	expires_at    timestamptz NOT NULL,
	resend_at     timestamptz NOT NULL,
	attempts_left integer NOT NULL
);
