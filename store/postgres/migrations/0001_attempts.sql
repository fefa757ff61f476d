-- Failure records of ratelimit.AttemptsLimiter, one row per key.
-- Times are Unix nanoseconds, so that records round-trip exactly.
CREATE TABLE gatehouse_attempts (
	key          bytea PRIMARY KEY,
	failures     bigint[] NOT NULL DEFAULT '{}',
	locked_until bigint,
	-- When the record stops affecting any decision (AttemptRecord.ExpiresAt,
	-- rounded up to the microsecond): DeleteExpired removes it after that.
	expires_at   timestamptz NOT NULL DEFAULT 'infinity'
);
CREATE INDEX gatehouse_attempts_expires_at ON gatehouse_attempts (expires_at);
