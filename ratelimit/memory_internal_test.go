package ratelimit

import (
	"math/rand/v2"
	"testing"
)

// TestShardTableAgainstMap drives one shard's open-addressing table with
// random inserts and removals, including clusters that wrap around the end of
// the table, and checks it against a Go map after every step.
func TestShardTableAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 20 {
		sh := &memoryShard{slots: make([]slot, minSlots)}
		ref := map[uint64]int64{}
		var keys []uint64
		for step := range 3000 {
			if len(keys) > 0 && rng.IntN(3) == 0 {
				j := rng.IntN(len(keys))
				h := keys[j]
				keys[j] = keys[len(keys)-1]
				keys = keys[:len(keys)-1]
				i, ok := sh.find(h)
				if !ok {
					t.Fatalf("round %d step %d: present key %x not found", round, step, h)
				}
				sh.remove(i)
				delete(ref, h)
			} else {
				// Few distinct homes force long runs and wrap-around.
				h := uint64(rng.IntN(64))<<8 | uint64(rng.IntN(256)) | 1<<63 | uint64(rng.Uint32())<<20
				if _, ok := ref[h]; ok {
					continue
				}
				sh.insert(h, int64(step), 0, 1<<30)
				ref[h] = int64(step)
				keys = append(keys, h)
			}
			if sh.n != len(ref) {
				t.Fatalf("round %d step %d: n=%d, want %d", round, step, sh.n, len(ref))
			}
			if step%50 == 0 || step == 2999 {
				for h, tat := range ref {
					i, ok := sh.find(h)
					if !ok || sh.slots[i].tat != tat {
						t.Fatalf("round %d step %d: key %x lost (found %v)", round, step, h, ok)
					}
				}
				used := 0
				for _, s := range sh.slots {
					if s.h != 0 {
						used++
					}
				}
				if used != len(ref) {
					t.Fatalf("round %d step %d: %d slots used, want %d", round, step, used, len(ref))
				}
			}
		}
	}
}

// TestShardEvictsIdleFirst fills a shard to its capacity with keys of which
// exactly one is idle, and checks that a new key displaces that one.
func TestShardEvictsIdleFirst(t *testing.T) {
	const capacity = 6
	for idle := range capacity {
		sh := &memoryShard{slots: make([]slot, minSlots)}
		var hs []uint64
		for k := range capacity {
			h := uint64(k+1)<<8 | 1<<63
			tat := int64(1000 + k) // busy: arrival time after now=500
			if k == idle {
				tat = 400
			}
			sh.insert(h, tat, 500, capacity)
			hs = append(hs, h)
		}
		sh.insert(uint64(99)<<8|1<<63, 2000, 500, capacity)
		if sh.n != capacity {
			t.Fatalf("n=%d after insert at cap %d", sh.n, capacity)
		}
		for k, h := range hs {
			if _, ok := sh.find(h); ok == (k == idle) {
				t.Fatalf("idle key %d: key %d present=%v", idle, k, ok)
			}
		}
	}
}

// TestShardEvictsEarliestWhenNoneIdle checks that without idle keys the key
// closest to idle (earliest arrival time) goes.
func TestShardEvictsEarliestWhenNoneIdle(t *testing.T) {
	sh := &memoryShard{slots: make([]slot, minSlots)}
	for k, tat := range []int64{900, 700, 800, 1000} {
		sh.insert(uint64(k+1)<<8|1<<63, tat, 500, 4)
	}
	sh.insert(uint64(50)<<8|1<<63, 2000, 500, 4)
	if _, ok := sh.find(uint64(2)<<8 | 1<<63); ok {
		t.Fatal("the key with the earliest arrival time survived eviction")
	}
	for _, k := range []uint64{1, 3, 4, 50} {
		if _, ok := sh.find(k<<8 | 1<<63); !ok {
			t.Fatalf("key %d evicted instead of the earliest", k)
		}
	}
}
