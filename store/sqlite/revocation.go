package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

// Defaults of RevocationConfig.
const (
	DefaultRevocationPollInterval = 200 * time.Millisecond
	DefaultRevocationMaxStaleness = time.Second
)

// RevocationConfig configures a [RevocationStore].
type RevocationConfig struct {
	// PollInterval is how often the mirror reads the revocations made
	// since its last read. Zero means [DefaultRevocationPollInterval].
	PollInterval time.Duration
	// MaxStaleness is the bound: the mirror answers only while its last
	// successful read is younger than this, and otherwise fails every Check
	// with an error wrapping [jwtprovider.ErrMirrorStale]. It must exceed
	// PollInterval. Zero means [DefaultRevocationMaxStaleness].
	MaxStaleness time.Duration
	// Now is the clock that measures staleness. Nil means time.Now.
	Now func() time.Time
}

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
// Every mirror reads the rows with a version above the last it has seen
// every PollInterval (one indexed query on the read pool, which the writer
// does not block): a read that completes proves the mirror holds every
// revocation committed before it started. So a revocation reaches every
// process within PollInterval plus one query (default 200 ms), and never
// later than MaxStaleness (default 1 s): a mirror whose last successful
// read is older fails every Check with ErrMirrorStale (the provider
// answers 503), for example while the file cannot be read.
//
// Records are deleted, every 1024 revocations, once a later revocation's At
// has passed their Until; the mirror drops them as it grows. Cut-offs are
// kept to the microsecond, rounded up.
//
// It is safe for concurrent use. Call Close to stop its goroutine.
type RevocationStore struct {
	db    *DB
	poll  time.Duration
	stale time.Duration
	now   func() time.Time

	// set holds the revocations read so far; Check answers from it.
	set      *jwtprovider.MemoryRevocationStore
	mu       sync.RWMutex // guards applied
	applied  int64        // the highest version read
	lastSync atomic.Int64 // Unix ns, in s.now, of the start of the last successful read

	cancel context.CancelFunc
	done   chan struct{}
	closed sync.Once
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
	if cfg.PollInterval == 0 {
		cfg.PollInterval = DefaultRevocationPollInterval
	}
	if cfg.MaxStaleness == 0 {
		cfg.MaxStaleness = DefaultRevocationMaxStaleness
	}
	if cfg.PollInterval < 0 || cfg.MaxStaleness <= cfg.PollInterval {
		return nil, fmt.Errorf("%w: revocation MaxStaleness must exceed a positive PollInterval", ErrInvalidConfig)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &RevocationStore{
		db: db, poll: cfg.PollInterval, stale: cfg.MaxStaleness, now: cfg.Now,
		set:  jwtprovider.NewMemoryRevocationStore(),
		done: make(chan struct{}),
	}
	if err := s.read(ctx); err != nil {
		return nil, err
	}
	bg, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.run(bg)
	return s, nil
}

// Close stops the mirror's goroutine and waits for it to return; the
// mirror then goes stale. Close is idempotent and always returns nil. It
// does not close the DB.
func (s *RevocationStore) Close() error {
	s.closed.Do(func() {
		s.cancel()
		<-s.done
	})
	return nil
}

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
	var at, until int64
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		var version int64
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
	s.merge(kind, key, at, until)
	return nil
}

// Mirror implements [jwtprovider.RevocationStore.Mirror]: the store itself.
func (s *RevocationStore) Mirror() jwtprovider.RevocationMirror { return s }

// Check implements [jwtprovider.RevocationMirror.Check] from memory. It
// fails with an error wrapping ErrMirrorStale when the last successful
// read is older than MaxStaleness.
func (s *RevocationStore) Check(ref jwtprovider.TokenRef) error {
	if age := s.now().UnixNano() - s.lastSync.Load(); age > int64(s.stale) {
		return fmt.Errorf("sqlite: revocations last confirmed %v ago: %w", time.Duration(age), jwtprovider.ErrMirrorStale)
	}
	return s.set.Check(ref)
}

// run reads new revocations every PollInterval until ctx ends.
func (s *RevocationStore) run(ctx context.Context) {
	defer close(s.done)
	tick := time.NewTicker(s.poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			rctx, cancel := context.WithTimeout(ctx, s.stale)
			_ = s.read(rctx) // a failed read leaves lastSync to age
			cancel()
		}
	}
}

// revocationRow is one row of gatehouse_revocations.
type revocationRow struct {
	kind, key          string
	at, until, version int64
}

// read merges the revocations with a version above the last seen, read in
// one query (one snapshot of the file), and on success records when it
// started.
func (s *RevocationStore) read(ctx context.Context) error {
	start := s.now()
	s.mu.RLock()
	after := s.applied
	s.mu.RUnlock()
	recs, err := s.newRevocations(ctx, after)
	if err != nil {
		return fmt.Errorf("sqlite: read revocations: %w", err)
	}
	s.mu.Lock()
	for _, x := range recs {
		s.merge(x.kind, x.key, x.at, x.until)
		s.applied = max(s.applied, x.version)
	}
	s.mu.Unlock()
	s.lastSync.Store(start.UnixNano())
	return nil
}

// newRevocations returns the rows whose version is above after, in
// version order, from the read pool.
func (s *RevocationStore) newRevocations(ctx context.Context, after int64) ([]revocationRow, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT kind, key, at_us, until_us, version FROM gatehouse_revocations
WHERE version > ? ORDER BY version`, after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var recs []revocationRow
	for rows.Next() {
		var x revocationRow
		if err := rows.Scan(&x.kind, &x.key, &x.at, &x.until, &x.version); err != nil {
			return nil, err
		}
		recs = append(recs, x)
	}
	return recs, rows.Err()
}

// merge applies one stored record, in Unix µs, to the mirror. The set
// merges it as Revoke does (a cut-off never moves back) and drops records
// whose Until a later revocation's At has passed.
func (s *RevocationStore) merge(kind, key string, at, until int64) {
	r := jwtprovider.Revocation{At: time.UnixMicro(at), Until: time.UnixMicro(until)}
	if kind == "I" {
		r.ID = key
	} else {
		r.Subject = key
	}
	// It fails only for an empty key, which revokes nothing.
	_ = s.set.Revoke(context.Background(), r)
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
