package jwtprovider

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of MirrorConfig.
const (
	DefaultMirrorPollInterval = 200 * time.Millisecond
	DefaultMirrorMaxStaleness = time.Second
)

// ErrMirrorConfig is wrapped by [MirrorConfig.WithDefaults] given an invalid
// configuration.
var ErrMirrorConfig = errors.New("jwtprovider: invalid mirror configuration")

// MirrorConfig bounds the staleness of a revocation mirror fed from a store
// that other instances write too.
type MirrorConfig struct {
	// PollInterval is how often the mirror asks its store for what is new.
	// Zero means [DefaultMirrorPollInterval].
	PollInterval time.Duration
	// MaxStaleness is the bound: the mirror answers only while the last
	// state its store confirmed is younger than this, and otherwise fails
	// every Check with an error wrapping [ErrMirrorStale]. It must exceed
	// PollInterval (leave room for a round trip). Zero means
	// [DefaultMirrorMaxStaleness].
	MaxStaleness time.Duration
	// Now is the clock that measures staleness. Nil means time.Now.
	Now func() time.Time
}

// WithDefaults returns c with its zero fields set to their defaults. It
// fails with an error wrapping [ErrMirrorConfig] when PollInterval is
// negative or MaxStaleness does not exceed it.
func (c MirrorConfig) WithDefaults() (MirrorConfig, error) {
	if c.PollInterval == 0 {
		c.PollInterval = DefaultMirrorPollInterval
	}
	if c.MaxStaleness == 0 {
		c.MaxStaleness = DefaultMirrorMaxStaleness
	}
	if c.PollInterval < 0 || c.MaxStaleness <= c.PollInterval {
		return c, fmt.Errorf("%w: MaxStaleness (%v) must exceed a positive PollInterval (%v)", ErrMirrorConfig, c.MaxStaleness, c.PollInterval)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// VersionedRevocation is a stored revocation record with the version its
// store gave it. Versions increase in commit order: a record committed
// after another has a higher version.
type VersionedRevocation struct {
	Revocation
	Version int64
}

// FetchFunc returns the stored records whose version is above after, in
// any order. A record may come back merged with later revocations of the
// same key (a cut-off that moved forward), with the version of the latest.
type FetchFunc func(ctx context.Context, after int64) ([]VersionedRevocation, error)

// PolledMirror is the [RevocationMirror] of a store that numbers its
// records in commit order (a database sequence, a counter row). Every
// PollInterval it fetches the records above the highest version it holds;
// a fetch that succeeds proves the mirror holds every revocation committed
// before the fetch began. Check answers from memory, with no I/O, and fails
// with an error wrapping [ErrMirrorStale] once the last successful fetch
// began more than MaxStaleness ago (the store is unreachable, Close was
// called): a revocation made on another instance is thus enforced here
// within MaxStaleness, or every token is refused as a store failure.
//
// The PostgreSQL and SQLite adapters build on it. It is safe for
// concurrent use; Close stops its goroutine.
type PolledMirror struct {
	fetch FetchFunc
	cfg   MirrorConfig
	// set holds the records read so far; Check answers from it.
	set *MemoryRevocationStore

	fetchMu  sync.Mutex // serializes fetches and guards applied
	applied  int64      // the highest version read
	lastSync atomic.Int64

	cancel context.CancelFunc
	done   chan struct{}
	closed sync.Once
}

var _ RevocationMirror = (*PolledMirror)(nil)

// NewPolledMirror fetches every stored record, then starts the goroutine
// that polls. It fails with an error wrapping [ErrMirrorConfig] given an
// invalid cfg, and with the fetch's error when the first fetch fails within
// ctx: a mirror that starts empty would vouch for nothing.
func NewPolledMirror(ctx context.Context, cfg MirrorConfig, fetch FetchFunc) (*PolledMirror, error) {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return nil, err
	}
	if fetch == nil {
		return nil, fmt.Errorf("%w: nil fetch function", ErrMirrorConfig)
	}
	m := &PolledMirror{fetch: fetch, cfg: cfg, set: NewMemoryRevocationStore(), done: make(chan struct{})}
	if err := m.poll(ctx); err != nil {
		return nil, err
	}
	bg, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go m.run(bg)
	return m, nil
}

// Add applies r, which this process has just committed to the store, so
// that this instance enforces it before the next poll.
func (m *PolledMirror) Add(r Revocation) {
	// It fails only for a record without ID or subject, which revokes
	// nothing.
	_ = m.set.Revoke(context.Background(), r)
}

// Check implements [RevocationMirror.Check] from memory.
func (m *PolledMirror) Check(ref TokenRef) error {
	if age := m.cfg.Now().UnixNano() - m.lastSync.Load(); age > int64(m.cfg.MaxStaleness) {
		return fmt.Errorf("jwtprovider: revocations last confirmed %v ago: %w", time.Duration(age), ErrMirrorStale)
	}
	return m.set.Check(ref)
}

// Close stops the polling goroutine and waits for it to return; the mirror
// then goes stale. Close is idempotent and returns nil.
func (m *PolledMirror) Close() error {
	m.closed.Do(func() {
		m.cancel()
		<-m.done
	})
	return nil
}

// run polls every PollInterval until ctx ends. Each fetch may take up to
// MaxStaleness; a failed one leaves lastSync to age.
func (m *PolledMirror) run(ctx context.Context) {
	defer close(m.done)
	tick := time.NewTicker(m.cfg.PollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			fctx, cancel := context.WithTimeout(ctx, m.cfg.MaxStaleness)
			_ = m.poll(fctx)
			cancel()
		}
	}
}

// poll fetches the records above the highest version held, applies them,
// and on success records when it began.
func (m *PolledMirror) poll(ctx context.Context) error {
	m.fetchMu.Lock()
	defer m.fetchMu.Unlock()
	start := m.cfg.Now()
	recs, err := m.fetch(ctx, m.applied)
	if err != nil {
		return err
	}
	for _, r := range recs {
		m.Add(r.Revocation)
		m.applied = max(m.applied, r.Version)
	}
	m.lastSync.Store(start.UnixNano())
	return nil
}
