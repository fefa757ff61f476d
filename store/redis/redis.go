package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// DefaultPrefix is the key prefix of a [DB] whose Config.Prefix is empty.
const DefaultPrefix = "gatehouse:"

// ttlGrace is how long a key outlives the last decision it affects (the
// scripts write it as 1000 ms). Decisions read the times stored in the
// key; the TTL only collects it, late enough for a caller whose clock or
// request lags a little.
const ttlGrace = time.Second

// ErrInvalidConfig is wrapped by constructors given an invalid configuration.
var ErrInvalidConfig = errors.New("redis: invalid configuration")

// Config configures a [DB].
type Config struct {
	// Prefix starts every key this package writes, so that several
	// applications (or test runs) can share one Redis. Empty means
	// [DefaultPrefix]. It must not contain '{' or '}': the hash tag of
	// every key is the caller's key.
	Prefix string
}

// DB gives access to the Redis-backed stores. It holds a client and a key
// prefix, and no other state: it is safe for concurrent use, and stores made
// from it may be used from any goroutine.
type DB struct {
	client goredis.UniversalClient
	prefix string
}

// New returns a DB using client (a *goredis.Client, *goredis.ClusterClient
// or *goredis.Ring) under cfg's prefix. It does not contact the server. The
// caller keeps ownership of client and closes it after the last use.
func New(client goredis.UniversalClient, cfg Config) (*DB, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: nil client", ErrInvalidConfig)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(cfg.Prefix, "{}") {
		return nil, fmt.Errorf("%w: prefix %q contains a brace", ErrInvalidConfig, cfg.Prefix)
	}
	return &DB{client: client, prefix: cfg.Prefix}, nil
}

// key returns the Redis key of the record kind/key: the prefix, the kind,
// and the caller's key as a hash tag. The mapping is injective: the prefix
// and kind are fixed and the tag closes the key.
func (db *DB) key(kind, key string) string {
	return db.prefix + kind + "{" + key + "}"
}

// run runs script on the key and returns its reply. go-redis sends EVALSHA
// and falls back to EVAL when the server lacks the script.
func (db *DB) run(ctx context.Context, script *goredis.Script, key string, args ...any) ([]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v, err := script.Run(ctx, db.client, []string{key}, args...).Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("redis: script: %w", err)
	}
	return v, nil
}
