package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrInvalidConfig is wrapped by constructors given an invalid argument.
var ErrInvalidConfig = errors.New("postgres: invalid configuration")

// DB gives access to the PostgreSQL-backed stores. It is safe for concurrent
// use, and stores made from it may be used from any goroutine.
type DB struct {
	pool *pgxpool.Pool
	own  bool // Close closes pool
}

// New returns a DB using pool. It does not contact the server; call
// [DB.Migrate] before the first use of a store. The caller keeps ownership of
// pool: [DB.Close] does not close it.
func New(pool *pgxpool.Pool) (*DB, error) {
	if pool == nil {
		return nil, fmt.Errorf("%w: nil pool", ErrInvalidConfig)
	}
	return &DB{pool: pool}, nil
}

// Open connects a new pool to the server at url (a postgres:// URL or a
// key=value connection string, see pgxpool.ParseConfig) and returns a DB
// that owns it: [DB.Close] closes it.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	return &DB{pool: pool, own: true}, nil
}

// Close closes the pool if Open made it. Stores made from db must not be
// used afterwards.
func (db *DB) Close() {
	if db.own {
		db.pool.Close()
	}
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. Their
// files are named NNNN_name.sql.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("postgres: migration file %q is not named NNNN_name.sql", base)
		}
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("postgres: two migrations numbered %d", ms[i].version)
		}
	}
	return ms, nil
}

// Migrate brings the schema up to date: it applies, in order, the embedded
// migrations that gatehouse_schema_migrations does not list yet, and records
// them there. It is idempotent and safe to call from several instances at
// once: everything happens in one transaction that first takes
// pg_advisory_xact_lock on a key derived from the current schema, so the
// others wait and then find nothing left to do. A failing migration rolls
// back the whole call. Versions in the table that this binary does not know
// (applied by a newer release) are left alone.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('gatehouse_migrate:' || current_schema()))`); err != nil {
			return fmt.Errorf("advisory lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS gatehouse_schema_migrations (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`); err != nil {
			return fmt.Errorf("create gatehouse_schema_migrations: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT version FROM gatehouse_schema_migrations`)
		if err != nil {
			return err
		}
		applied, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return err
		}
		done := make(map[int]bool, len(applied))
		for _, v := range applied {
			done[int(v)] = true
		}
		for _, m := range ms {
			if done[m.version] {
				continue
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO gatehouse_schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
				return fmt.Errorf("record migration %s: %w", m.name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}
