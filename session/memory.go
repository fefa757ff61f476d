package session

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// DefaultSweepInterval is how often a [MemoryStore]'s background sweeper
// removes expired sessions when MemoryStoreConfig.SweepInterval is zero.
const DefaultSweepInterval = time.Minute

// errEmptyQuery is returned by [MemoryStore.Delete] for a query selecting
// nothing in particular, which would otherwise read as "delete everything".
var errEmptyQuery = errors.New("session: delete query without ID or UserID")

// MemoryStoreConfig configures a [MemoryStore].
type MemoryStoreConfig struct {
	// SweepInterval is how often the background sweeper removes expired
	// sessions. Zero means [DefaultSweepInterval]; a negative value starts
	// no sweeper (call [MemoryStore.Sweep] yourself).
	SweepInterval time.Duration
	// Now is the sweeper's clock. Nil means time.Now. It is read only by the
	// background sweeper; every Store method uses the time it is given.
	Now func() time.Time
	// OnExpired, if set, is called with every record a sweep removes, after
	// the store's lock is released. It must not block for long. A [Manager]
	// that builds its own store uses it to emit session_expired events.
	OnExpired func(Record)
}

// MemoryStore is a [Store] held in process memory: sessions are lost when the
// process exits and are not shared between processes. Expired sessions are
// removed by [MemoryStore.Sweep], which a background goroutine runs
// periodically until [MemoryStore.Close]. It is safe for concurrent use.
type MemoryStore struct {
	mu      sync.RWMutex                   // guards records and byUser
	records map[string]Record              // by ID; slices owned by the store
	byUser  map[string]map[string]struct{} // user ID -> set of session IDs

	now       func() time.Time
	onExpired func(Record)
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store whose background sweeper runs every
// [DefaultSweepInterval] with time.Now. Call Close to stop it.
func NewMemoryStore() *MemoryStore { return NewMemoryStoreWith(MemoryStoreConfig{}) }

// NewMemoryStoreWith returns an empty store configured by cfg. Unless
// cfg.SweepInterval is negative, call Close to stop its sweeper.
func NewMemoryStoreWith(cfg MemoryStoreConfig) *MemoryStore {
	s := &MemoryStore{
		records:   make(map[string]Record),
		byUser:    make(map[string]map[string]struct{}),
		now:       cfg.Now,
		onExpired: cfg.OnExpired,
	}
	if s.now == nil {
		s.now = time.Now
	}
	interval := cfg.SweepInterval
	if interval == 0 {
		interval = DefaultSweepInterval
	}
	if interval > 0 {
		s.stop = make(chan struct{})
		s.done = make(chan struct{})
		go s.sweepEvery(interval)
	}
	return s
}

func (s *MemoryStore) sweepEvery(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.Sweep(s.now())
		case <-s.stop:
			return
		}
	}
}

// Close stops the background sweeper and waits for it to return. The store
// remains usable. Close is idempotent and always returns nil.
func (s *MemoryStore) Close() error {
	s.closeOnce.Do(func() {
		if s.stop != nil {
			close(s.stop)
			<-s.done
		}
	})
	return nil
}

// sweepBatch is how many records Sweep deletes per hold of the write lock.
const sweepBatch = 1024

// Sweep removes every record expired at now and returns how many it removed.
// It calls MemoryStoreConfig.OnExpired for each, outside the lock. Unlike the
// Store methods it scans every record; it is meant for the background
// sweeper and for tests. The scan holds only the read lock, and deletions
// take the write lock in small batches, so requests are not stalled for the
// length of a sweep.
func (s *MemoryStore) Sweep(now time.Time) int {
	var expired []string
	s.mu.RLock()
	for id, rec := range s.records {
		if !now.Before(rec.ExpiresAt) {
			expired = append(expired, id)
		}
	}
	s.mu.RUnlock()

	n := 0
	for len(expired) > 0 {
		batch := expired[:min(sweepBatch, len(expired))]
		expired = expired[len(batch):]
		var gone []Record
		s.mu.Lock()
		for _, id := range batch {
			// Checked again: the record may have been replaced meanwhile.
			if rec, ok := s.records[id]; ok && !now.Before(rec.ExpiresAt) {
				s.remove(id)
				gone = append(gone, rec)
			}
		}
		s.mu.Unlock()
		n += len(gone)
		if s.onExpired != nil {
			for _, rec := range gone {
				s.onExpired(cloneRecord(rec))
			}
		}
	}
	return n
}

// Len returns the number of records held, expired ones included.
func (s *MemoryStore) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.records)
}

// Create implements [Store].
func (s *MemoryStore) Create(ctx context.Context, rec Record, opts CreateOptions) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if rec.ID == "" || rec.UserID == "" {
		return nil, errors.New("session: record without ID or UserID")
	}
	rec = cloneRecord(rec)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.records[rec.ID]; ok {
		return nil, ErrExists
	}
	if opts.Replace != "" {
		old, ok := s.records[opts.Replace]
		if !ok || old.UserID != rec.UserID || !opts.Now.Before(old.ExpiresAt) {
			return nil, ErrNotFound
		}
	}
	var evicted []Record
	if opts.MaxPerUser > 0 {
		var live []Record
		for id := range s.byUser[rec.UserID] {
			if r := s.records[id]; id != opts.Replace && opts.Now.Before(r.ExpiresAt) {
				live = append(live, r)
			}
		}
		if excess := len(live) - opts.MaxPerUser + 1; excess > 0 {
			if opts.Refuse {
				return nil, ErrLimitReached
			}
			slices.SortFunc(live, func(a, b Record) int {
				return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
			})
			evicted = live[:excess]
			for i, r := range evicted {
				s.remove(r.ID)
				evicted[i] = cloneRecord(r)
			}
		}
	}
	if opts.Replace != "" {
		s.remove(opts.Replace)
	}
	s.records[rec.ID] = rec
	ids := s.byUser[rec.UserID]
	if ids == nil {
		ids = make(map[string]struct{})
		s.byUser[rec.UserID] = ids
	}
	ids[rec.ID] = struct{}{}
	return evicted, nil
}

// Get implements [Store].
func (s *MemoryStore) Get(ctx context.Context, id string) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	s.mu.RLock()
	rec, ok := s.records[id]
	s.mu.RUnlock()
	if !ok {
		return Record{}, ErrNotFound
	}
	return cloneRecord(rec), nil
}

// Update implements [Store].
func (s *MemoryStore) Update(ctx context.Context, id string, u Update) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.records[id]
	if !ok || !u.Now.Before(rec.ExpiresAt) {
		return ErrNotFound
	}
	if u.LastSeenAt.After(rec.LastSeenAt) {
		rec.LastSeenAt = u.LastSeenAt
	}
	exp := u.ExpiresAt
	if !rec.AbsoluteExpiresAt.IsZero() && exp.After(rec.AbsoluteExpiresAt) {
		exp = rec.AbsoluteExpiresAt
	}
	if exp.After(rec.ExpiresAt) {
		rec.ExpiresAt = exp
	}
	if u.ReplaceData {
		rec.Data = u.Data
	}
	s.records[id] = rec
	return nil
}

// Delete implements [Store].
func (s *MemoryStore) Delete(ctx context.Context, q Query) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if q.ID == "" && q.UserID == "" {
		return nil, errEmptyQuery
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Record
	if q.ID != "" {
		rec, ok := s.records[q.ID]
		if !ok || (q.UserID != "" && rec.UserID != q.UserID) {
			return nil, nil
		}
		s.remove(q.ID)
		return []Record{cloneRecord(rec)}, nil
	}
	for id := range s.byUser[q.UserID] {
		if id == q.Except {
			continue
		}
		out = append(out, cloneRecord(s.records[id]))
		s.remove(id)
	}
	return out, nil
}

// List implements [Store].
func (s *MemoryStore) List(ctx context.Context, userID string, now time.Time) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := s.byUser[userID]
	out := make([]Record, 0, len(ids))
	for id := range ids {
		if rec := s.records[id]; now.Before(rec.ExpiresAt) {
			out = append(out, cloneRecord(rec))
		}
	}
	return out, nil
}

// remove deletes id from records and from its user's index. s.mu must be held
// for writing.
func (s *MemoryStore) remove(id string) {
	rec, ok := s.records[id]
	if !ok {
		return
	}
	delete(s.records, id)
	if ids := s.byUser[rec.UserID]; ids != nil {
		delete(ids, id)
		if len(ids) == 0 {
			delete(s.byUser, rec.UserID)
		}
	}
}

// cloneRecord returns rec with its slices copied. slices.Clone keeps a nil
// slice nil and an empty one empty, which Scopes depends on.
func cloneRecord(rec Record) Record {
	rec.Roles = slices.Clone(rec.Roles)
	rec.Scopes = slices.Clone(rec.Scopes)
	rec.MFA.Methods = slices.Clone(rec.MFA.Methods)
	return rec
}
