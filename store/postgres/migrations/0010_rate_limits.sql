-- Request limits of postgres.Limiter (GCRA), one row per limiter name and
-- key. key is the SHA-256 digest of the limiter key, never the key itself,
-- so that any key (long, binary, not UTF-8) takes 32 bytes. tat_ns is the
-- theoretical arrival time of the key's next request in Unix nanoseconds:
-- the key's allowance is full again from then on, so it is also the row's
-- expiry, after which DeleteExpired may remove it without changing any
-- decision.
CREATE TABLE gatehouse_rate_limits (
	name   text   NOT NULL,
	key    bytea  NOT NULL,
	tat_ns bigint NOT NULL,
	PRIMARY KEY (name, key)
);
CREATE INDEX gatehouse_rate_limits_tat_ns ON gatehouse_rate_limits (tat_ns);

-- gatehouse_rate_decide makes one decision of ratelimit.MemoryLimiter for
-- p_n requests (the caller caps p_n at p_burst + 1) at p_now (Unix ns),
-- with p_interval ns between requests and p_burst requests at once. It
-- returns whether they are allowed, how many remain, the TAT after the call
-- minus p_now (ns) and, when refused, how long to wait (ns).
--
-- The key's row is locked with SELECT ... FOR UPDATE, so concurrent
-- decisions on one key queue on it and each one sees the last one's TAT
-- (at READ COMMITTED every statement of this volatile function takes a new
-- snapshot). A key without a row is idle. A row is written only when the
-- requests are allowed and p_n > 0, so neither a refused request nor a
-- status query creates one; a new key's row is inserted with ON CONFLICT
-- DO NOTHING, and if a concurrent decision inserted it first the decision
-- is made again on that row.
CREATE FUNCTION gatehouse_rate_decide(
	p_name text, p_key bytea, p_now bigint, p_n bigint, p_interval bigint, p_burst bigint,
	OUT allowed boolean, OUT remaining bigint, OUT reset_ns bigint, OUT retry_ns bigint
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	tau   constant bigint := p_interval * p_burst; -- how far the TAT may run ahead of now
	ahead bigint;  -- the key's TAT minus now, 0 when idle
	nxt   bigint;  -- ahead after the p_n requests
	known boolean; -- the key has a row, now locked
BEGIN
	LOOP
		SELECT greatest(r.tat_ns - p_now, 0) INTO ahead
		FROM gatehouse_rate_limits r
		WHERE r.name = p_name AND r.key = p_key
		FOR UPDATE;
		known := FOUND;
		IF NOT known THEN
			ahead := 0;
		END IF;
		nxt := ahead + p_n * p_interval;
		allowed := nxt <= tau;
		EXIT WHEN NOT allowed OR p_n = 0;
		IF known THEN
			UPDATE gatehouse_rate_limits r SET tat_ns = p_now + nxt
			WHERE r.name = p_name AND r.key = p_key;
			ahead := nxt;
			EXIT;
		END IF;
		INSERT INTO gatehouse_rate_limits (name, key, tat_ns) VALUES (p_name, p_key, p_now + nxt)
		ON CONFLICT DO NOTHING;
		IF FOUND THEN
			ahead := nxt;
			EXIT;
		END IF;
		-- A concurrent decision inserted the key first: decide on its row.
	END LOOP;
	remaining := (tau - ahead) / p_interval;
	reset_ns := ahead;
	retry_ns := 0;
	IF NOT allowed THEN
		IF p_n > p_burst THEN
			retry_ns := ahead; -- never allowed: retry when the allowance is full
		ELSE
			retry_ns := nxt - tau;
		END IF;
	END IF;
END
$$;
