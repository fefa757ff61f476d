package apikey

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

const usageShards = 16

// usageTracker coalesces last-used updates in memory until the next flush.
// It holds at most one entry per key that passed verification since the last
// flush, so invalid keys cannot grow it. It is safe for concurrent use.
type usageTracker struct {
	shards [usageShards]usageShard
}

type usageShard struct {
	mu      sync.Mutex       // guards pending
	pending map[string]usage // key ID -> latest use since the last flush
}

type usage struct {
	at time.Time
	ip string
}

// record notes that key id was used at at from ip. It reports whether this
// is the first use of id since the last flush.
func (t *usageTracker) record(id string, at time.Time, ip string) (first bool) {
	s := &t.shards[shardOf(id)]
	s.mu.Lock()
	if s.pending == nil {
		s.pending = make(map[string]usage)
	}
	u, ok := s.pending[id]
	if !ok || at.After(u.at) || (at.Equal(u.at) && ip != u.ip) {
		s.pending[id] = usage{at: at, ip: ip}
	}
	s.mu.Unlock()
	return !ok
}

// take removes and returns the pending uses of shard i.
func (t *usageTracker) take(i int) map[string]usage {
	s := &t.shards[i]
	s.mu.Lock()
	m := s.pending
	s.pending = nil
	s.mu.Unlock()
	return m
}

// requeue puts back a use whose write failed, unless a later one is pending.
func (t *usageTracker) requeue(id string, u usage) {
	s := &t.shards[shardOf(id)]
	s.mu.Lock()
	if s.pending == nil {
		s.pending = make(map[string]usage)
	}
	if cur, ok := s.pending[id]; !ok || u.at.After(cur.at) {
		s.pending[id] = u
	}
	s.mu.Unlock()
}

// shardOf spreads key IDs over the shards by FNV-1a of their last 8 bytes
// (IDs made by a Manager are random; others usually differ at the end).
func shardOf(id string) int {
	h := uint32(2166136261)
	for i := max(0, len(id)-8); i < len(id); i++ {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return int(h % usageShards)
}

// Flush writes the pending last-used records to the store: one
// [Store.Update] per key used since the previous flush, carrying the time and
// client IP of its latest use. Writes that fail (other than for a key that no
// longer exists) are kept for the next flush. Flush runs every
// [Config.FlushInterval] in the background and from [Manager.Close]; tests
// and hosts that disabled the background flush call it directly. It is safe
// for concurrent use.
func (m *Manager) Flush(ctx context.Context) error {
	var first error
	for i := range usageShards {
		pending := m.usage.take(i)
		for id, u := range pending {
			if err := ctx.Err(); err != nil {
				m.usage.requeue(id, u)
				if first == nil {
					first = fmt.Errorf("apikey: flush last-used: %w", err)
				}
				continue
			}
			err := m.store.Update(ctx, id, Update{LastUsedAt: u.at, LastUsedIP: u.ip})
			if err == nil || errors.Is(err, ErrNotFound) {
				continue
			}
			m.usage.requeue(id, u)
			if first == nil {
				first = fmt.Errorf("apikey: flush last-used of key %s: %w", id, err)
			}
		}
	}
	return first
}

// flushLoop flushes every interval until stop is closed.
func (m *Manager) flushLoop(interval time.Duration) {
	defer close(m.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), interval)
			err := m.Flush(ctx)
			cancel()
			if err != nil && m.cfg.OnFlushError != nil {
				m.cfg.OnFlushError(err)
			}
		}
	}
}

// Close stops the background flush and writes the pending last-used records
// (see [Manager.Flush]), within ctx. Verification keeps working after Close;
// its uses are then only written by explicit calls to Flush. Close is
// idempotent and safe for concurrent use.
func (m *Manager) Close(ctx context.Context) error {
	m.closeOnce.Do(func() {
		if m.stop != nil {
			close(m.stop)
		}
	})
	if m.done != nil {
		select {
		case <-m.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return m.Flush(ctx)
}
