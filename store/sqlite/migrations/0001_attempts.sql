-- Failure records of ratelimit.AttemptsLimiter, one row per key. Times are
-- Unix nanoseconds; failures is a space-separated list of them, oldest
-- first.
CREATE TABLE gatehouse_attempts (
	key          BLOB PRIMARY KEY,
	failures     TEXT NOT NULL,
	locked_until INTEGER,
	-- When the record stops affecting any decision (AttemptRecord.ExpiresAt).
	expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX gatehouse_attempts_expires_at ON gatehouse_attempts (expires_at);
