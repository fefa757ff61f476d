-- User accounts of basic.Users. username_fold and email_fold hold
-- basic.Fold of the username and email, computed in Go (never the
-- database's lower()), and carry the uniqueness; email_fold is NULL for an
-- empty email, which is therefore not unique. IDs sort by bytes (COLLATE
-- "C") for ListUsers' pages.
CREATE TABLE gatehouse_users (
	id                  text COLLATE "C" PRIMARY KEY,
	username            text NOT NULL,
	username_fold       text NOT NULL UNIQUE,
	email               text NOT NULL,
	email_fold          text UNIQUE,
	roles               text[] NOT NULL,
	disabled            boolean NOT NULL,
	created_at          timestamptz NOT NULL,
	updated_at          timestamptz NOT NULL,
	password_changed_at timestamptz NOT NULL,
	version             bigint NOT NULL,
	password_hash       text NOT NULL,
	password_history    text[] NOT NULL
);

-- Password-reset tokens: the SHA-256 of each token, never the token.
CREATE TABLE gatehouse_reset_tokens (
	hash       text PRIMARY KEY,
	user_id    text NOT NULL,
	stamp      text NOT NULL,
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE INDEX gatehouse_reset_tokens_user ON gatehouse_reset_tokens (user_id, created_at);
CREATE INDEX gatehouse_reset_tokens_expires_at ON gatehouse_reset_tokens (expires_at);
