package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/jackc/pgx/v5"
)

// Defaults of RevocationConfig.
const (
	DefaultRevocationPollInterval = jwtprovider.DefaultMirrorPollInterval
	DefaultRevocationMaxStaleness = jwtprovider.DefaultMirrorMaxStaleness
)

// RevocationConfig configures a [RevocationStore]: PollInterval is how
// often the mirror reads the revocations made since its last read,
// MaxStaleness the bound beyond which it refuses to answer.
type RevocationConfig = jwtprovider.MirrorConfig

// RevocationStore is a [jwtprovider.RevocationStore] shared by every
// instance through the table gatehouse_revocations, with an in-process
// mirror, so that verifying a token makes no database call.
//
// Revoke is one READ COMMITTED transaction that takes a transaction-level
// advisory lock (per schema), draws the next version from a sequence and
// merges the record (a cut-off never moves back), so versions commit in
// order; the merged record is then applied to this store's own mirror
// before Revoke returns. Every mirror (a [jwtprovider.PolledMirror]) reads
// the rows with a version above the last it has seen every PollInterval
// (one indexed query; it uses no LISTEN/NOTIFY): a read that completes
// proves the mirror holds every revocation committed before it started. So
// a revocation reaches every instance within PollInterval plus a round trip
// (default 200 ms), and never later than MaxStaleness (default 1 s): an
// instance whose last successful read is older fails every Check with
// ErrMirrorStale (the provider answers 503), for example while the database
// is unreachable.
//
// Records are deleted, every 1024 revocations, once a later revocation's At
// has passed their Until; the mirror drops them as it grows. Cut-offs are
// kept to the microsecond, rounded up.
//
// It is safe for concurrent use. Call Close to stop its goroutine.
type RevocationStore struct {
	db     *DB
	mirror *jwtprovider.PolledMirror
}

var (
	_ jwtprovider.RevocationStore  = (*RevocationStore)(nil)
	_ jwtprovider.RevocationMirror = (*RevocationStore)(nil)
)

// Revocations loads every stored revocation into a new mirror and starts
// the goroutine that keeps it current. It fails with an error wrapping
// [ErrInvalidConfig] given an invalid cfg, and with another error when the
// table cannot be read within ctx (for example before [DB.Migrate]).
func (db *DB) Revocations(ctx context.Context, cfg RevocationConfig) (*RevocationStore, error) {
	s := &RevocationStore{db: db}
	m, err := jwtprovider.NewPolledMirror(ctx, cfg, s.fetch)
	if errors.Is(err, jwtprovider.ErrMirrorConfig) {
		return nil, fmt.Errorf("%w: revocations: %w", ErrInvalidConfig, err)
	}
	if err != nil {
		return nil, err
	}
	s.mirror = m
	return s, nil
}

// Close stops the mirror's goroutine and waits for it to return; the
// mirror then goes stale. Close is idempotent and returns nil. It does not
// close the DB.
func (s *RevocationStore) Close() error { return s.mirror.Close() }

// Revoke implements [jwtprovider.RevocationStore.Revoke] (see the type's
// doc for the transaction).
func (s *RevocationStore) Revoke(ctx context.Context, r jwtprovider.Revocation) error {
	if r.ID == "" && r.Subject == "" {
		return errors.New("postgres: revocation needs an ID or a subject")
	}
	kind, key := "I", r.ID
	if r.ID == "" {
		kind, key = "S", r.Subject
	}
	at, until := ceilMicroUnix(r.At), ceilMicroUnix(r.Until)
	var version int64
	err := pgx.BeginFunc(ctx, s.db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('gatehouse_revocations:' || current_schema(), 0))`); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO gatehouse_revocations AS r (kind, key, at_us, until_us, version)
VALUES ($1, $2, $3, $4, nextval('gatehouse_revocation_version'))
ON CONFLICT (kind, key) DO UPDATE SET at_us = GREATEST(r.at_us, EXCLUDED.at_us),
	until_us = GREATEST(r.until_us, EXCLUDED.until_us), version = EXCLUDED.version
RETURNING at_us, until_us, version`, kind, key, at, until).Scan(&at, &until, &version)
		if err != nil {
			return err
		}
		if version%1024 == 0 {
			_, err = tx.Exec(ctx, `DELETE FROM gatehouse_revocations WHERE until_us < $1`, ceilMicroUnix(r.At))
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: revoke: %w", err)
	}
	s.mirror.Add(versioned(kind, key, at, until, version).Revocation)
	return nil
}

// Mirror implements [jwtprovider.RevocationStore.Mirror]: the store itself.
func (s *RevocationStore) Mirror() jwtprovider.RevocationMirror { return s }

// Check implements [jwtprovider.RevocationMirror.Check] from memory. It
// fails with an error wrapping ErrMirrorStale when the last successful
// read began more than MaxStaleness ago.
func (s *RevocationStore) Check(ref jwtprovider.TokenRef) error { return s.mirror.Check(ref) }

// fetch reads the rows with a version above after: one query on the
// version index, one snapshot.
func (s *RevocationStore) fetch(ctx context.Context, after int64) ([]jwtprovider.VersionedRevocation, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT kind, key, at_us, until_us, version FROM gatehouse_revocations
WHERE version > $1`, after)
	if err != nil {
		return nil, fmt.Errorf("postgres: read revocations: %w", err)
	}
	recs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (jwtprovider.VersionedRevocation, error) {
		var kind, key string
		var at, until, version int64
		if err := r.Scan(&kind, &key, &at, &until, &version); err != nil {
			return jwtprovider.VersionedRevocation{}, err
		}
		return versioned(kind, key, at, until, version), nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read revocations: %w", err)
	}
	return recs, nil
}

// versioned returns a row of gatehouse_revocations as a record: kind "I"
// is a token or family ID, "S" a subject's cut-off; times are Unix µs.
func versioned(kind, key string, at, until, version int64) jwtprovider.VersionedRevocation {
	r := jwtprovider.VersionedRevocation{Version: version}
	r.At, r.Until = time.UnixMicro(at), time.UnixMicro(until)
	if kind == "I" {
		r.ID = key
	} else {
		r.Subject = key
	}
	return r
}

// ceilMicroUnix returns t in Unix microseconds, rounded up, so that a
// cut-off never moves back.
func ceilMicroUnix(t time.Time) int64 {
	us := t.UnixMicro()
	if time.UnixMicro(us).Before(t) {
		us++
	}
	return us
}
