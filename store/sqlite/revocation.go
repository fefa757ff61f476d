package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/jwtprovider"
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

// RevocationStore is a [jwtprovider.RevocationStore] shared, through the
// table gatehouse_revocations, by every process that opens the same
// database file, with an in-process mirror, so that verifying a token
// makes no database call.
//
// Revoke is one immediate transaction on the writer: it takes the next
// version from the one-row counter gatehouse_revocation_version and merges
// the record (a cut-off never moves back). SQLite admits one writer at a
// time, across processes too, so versions commit in order; the merged
// record is then applied to this store's own mirror before Revoke returns.
// Every mirror (a [jwtprovider.PolledMirror]) reads the rows with a version
// above the last it has seen every PollInterval (one indexed query on the
// read pool, which the writer does not block): a read that completes proves
// the mirror holds every revocation committed before it started. So a
// revocation reaches every process within PollInterval plus one query
// (default 200 ms), and never later than MaxStaleness (default 1 s): a
// mirror whose last successful read is older fails every Check with
// ErrMirrorStale (the provider answers 503), for example while the file
// cannot be read.
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
// doc for the transaction). It fails, recording nothing, when r has
// neither an ID nor a subject, or when the transaction fails.
func (s *RevocationStore) Revoke(ctx context.Context, r jwtprovider.Revocation) error {
	if r.ID == "" && r.Subject == "" {
		return errors.New("sqlite: revocation needs an ID or a subject")
	}
	kind, key := "I", r.ID
	if r.ID == "" {
		kind, key = "S", r.Subject
	}
	var at, until, version int64
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `UPDATE gatehouse_revocation_version SET version = version + 1
WHERE id = 1 RETURNING version`).Scan(&version); err != nil {
			return fmt.Errorf("next version: %w", err)
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO gatehouse_revocations (kind, key, at_us, until_us, version)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (kind, key) DO UPDATE SET at_us = max(at_us, excluded.at_us),
	until_us = max(until_us, excluded.until_us), version = excluded.version
RETURNING at_us, until_us`, kind, key, ceilMicroUnix(r.At), ceilMicroUnix(r.Until), version).Scan(&at, &until)
		if err != nil {
			return err
		}
		if version%1024 == 0 {
			_, err = tx.ExecContext(ctx, `DELETE FROM gatehouse_revocations WHERE until_us < ?`, ceilMicroUnix(r.At))
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: revoke: %w", err)
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

// fetch reads the rows with a version above after from the read pool: one
// query on the version index, one snapshot of the file.
func (s *RevocationStore) fetch(ctx context.Context, after int64) ([]jwtprovider.VersionedRevocation, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT kind, key, at_us, until_us, version FROM gatehouse_revocations
WHERE version > ?`, after)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read revocations: %w", err)
	}
	defer rows.Close()
	var recs []jwtprovider.VersionedRevocation
	for rows.Next() {
		var kind, key string
		var at, until, version int64
		if err := rows.Scan(&kind, &key, &at, &until, &version); err != nil {
			return nil, fmt.Errorf("sqlite: read revocations: %w", err)
		}
		recs = append(recs, versioned(kind, key, at, until, version))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read revocations: %w", err)
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
