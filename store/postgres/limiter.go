package postgres

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/ratelimit"
	"github.com/jackc/pgx/v5"
)

// LimiterConfig configures a [Limiter]: each key may make Limit requests per
// Period, at most Burst of them at once. The fields mean what they mean in
// [ratelimit.MemoryConfig].
type LimiterConfig struct {
	// Name separates the counters of limiters that share a DB (say "login"
	// and "api"), so that each applies its own policy to its own keys.
	// Empty means "default". It must be valid UTF-8 without NUL bytes (it is
	// stored as text) and at most 255 bytes long.
	Name string
	// Limit is the number of requests a key may make per Period. It must be
	// positive.
	Limit int
	// Period is the time over which Limit requests are allowed. Zero means
	// one minute. The allowance refills steadily, one request every
	// Period/Limit.
	Period time.Duration
	// Burst is the number of requests a key may make at once when it has
	// been idle. Zero means Limit.
	Burst int
	// Now is the clock. Nil means time.Now. Every instance sharing the
	// counters must have a clock close to the others': a decision is only
	// as precise as their agreement.
	Now func() time.Time
}

// maxTau bounds Burst*Period/Limit, in nanoseconds (about 52 days), like the
// Redis limiter does, so that a limiter's configuration means the same on
// either store. bigint arithmetic on Unix nanoseconds then stays far from
// overflow for any date before 2262.
const maxTau = 1 << 52

// maxLimiterName bounds LimiterConfig.Name, in bytes, far below the size of
// an index entry PostgreSQL accepts.
const maxLimiterName = 255

// Limiter is a [ratelimit.Limiter] in the table gatehouse_rate_limits
// implementing the generic cell rate algorithm, with the decisions of
// [ratelimit.MemoryLimiter]: per limiter name and key it stores the
// theoretical arrival time (TAT) of the key's next request, in Unix
// nanoseconds, so the arithmetic is exact integer arithmetic. The key is
// stored as its SHA-256 digest, so any key, however long and whatever its
// bytes, takes one fixed-size row: an attacker-chosen key can neither fail
// the decision nor make it costly.
//
// Each decision is one statement, SELECT * FROM gatehouse_rate_decide(...),
// sent in one round trip (the extended protocol without a separate prepare
// step, so the first use on a connection costs no more) and run as one
// transaction at READ COMMITTED. The PL/pgSQL function locks the key's row
// with SELECT ... FOR UPDATE, computes, and updates it only when the
// requests are allowed, so concurrent requests through any number of
// instances queue on the row and never get more than the burst. A function
// rather than a single INSERT ... ON CONFLICT DO UPDATE ... WHERE statement:
// a refused request must report the state it was refused on, which such a
// statement returns only by updating the row; the function writes nothing
// for a refusal or for n == 0, so neither creates a row for a new key.
//
// A row's TAT is also the moment its key is idle again; [Limiter.DeleteExpired]
// removes such rows, which the host calls periodically.
//
// It is safe for concurrent use.
type Limiter struct {
	db       *DB
	name     string
	interval int64 // nanoseconds between requests at the sustained rate
	burst    int
	now      func() time.Time
}

var _ ratelimit.Limiter = (*Limiter)(nil)

// Limiter validates cfg, fills its defaults and returns a limiter whose
// counters live in db. It does not contact the server; the table comes with
// [DB.Migrate]. It returns an error wrapping [ratelimit.ErrInvalidConfig]
// when Limit is not positive, a field is negative, Period/Limit is under a
// nanosecond, Burst*Period/Limit exceeds about 52 days, or Name is not valid
// UTF-8, contains a NUL byte or is longer than 255 bytes.
func (db *DB) Limiter(cfg LimiterConfig) (*Limiter, error) {
	interval, burst, err := ratelimit.GCRAParams(cfg.Limit, cfg.Period, cfg.Burst, maxTau)
	if err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = "default"
	}
	if !utf8.ValidString(cfg.Name) || strings.ContainsRune(cfg.Name, 0) {
		return nil, fmt.Errorf("%w: limiter name %q is not UTF-8 text without NUL", ratelimit.ErrInvalidConfig, cfg.Name)
	}
	if len(cfg.Name) > maxLimiterName {
		return nil, fmt.Errorf("%w: limiter name longer than %d bytes", ratelimit.ErrInvalidConfig, maxLimiterName)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Limiter{db: db, name: cfg.Name, interval: interval, burst: burst, now: cfg.Now}, nil
}

// Allow implements [ratelimit.Limiter].
func (l *Limiter) Allow(ctx context.Context, key string) (ratelimit.Decision, error) {
	return l.AllowN(ctx, key, 1)
}

// AllowN implements [ratelimit.Limiter] in one round trip and one
// transaction (see [Limiter]). n larger than the burst is never allowed; a
// negative n is treated as 0, which reports the state without consuming or
// writing anything. A database error or a done ctx is returned wrapped,
// never as a decision.
func (l *Limiter) AllowN(ctx context.Context, key string, n int) (ratelimit.Decision, error) {
	n = max(n, 0)
	if err := ctx.Err(); err != nil {
		return ratelimit.Decision{}, fmt.Errorf("postgres: rate limit: %w", err)
	}
	now := l.now()
	digest := sha256.Sum256([]byte(key))
	var (
		allowed             bool
		remaining, ahead, r int64
	)
	// QueryExecModeExec sends parse, bind and execute together: no prepare
	// round trip on a connection's first use of the statement.
	err := l.db.pool.QueryRow(ctx, `SELECT * FROM gatehouse_rate_decide($1::text, $2::bytea, $3::bigint, $4::bigint, $5::bigint, $6::bigint)`,
		pgx.QueryExecModeExec, l.name, digest[:], now.UnixNano(), int64(min(n, l.burst+1)), l.interval, int64(l.burst),
	).Scan(&allowed, &remaining, &ahead, &r)
	if err != nil {
		return ratelimit.Decision{}, fmt.Errorf("postgres: rate limit: %w", err)
	}
	d := ratelimit.Decision{
		Allowed:   allowed,
		Limit:     l.burst,
		Remaining: int(max(remaining, 0)),
		ResetAt:   now.Add(time.Duration(ahead)),
	}
	if !allowed {
		d.RetryAfter = time.Duration(r)
	}
	return d, nil
}

// DeleteExpired deletes the rows of every limiter name whose key is idle at
// now (its allowance is full again, so the row decides nothing) and returns
// how many it deleted. Rows are otherwise kept forever, so hosts call it
// periodically (say every few minutes). It is one DELETE on an index; a row
// that a concurrent decision renews is re-checked after the decision
// commits (READ COMMITTED re-evaluates the condition on the new row
// version) and kept. Instances whose clocks lag behind now may see a deleted
// key as idle slightly early: pass a now no later than theirs.
func (l *Limiter) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	tag, err := l.db.pool.Exec(ctx, `DELETE FROM gatehouse_rate_limits WHERE tat_ns <= $1`, now.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired rate limits: %w", err)
	}
	return tag.RowsAffected(), nil
}
