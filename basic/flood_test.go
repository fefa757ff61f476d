package basic_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/basic"
)

// TestLoginFloodHeapIsBounded sends a burst of concurrent sign-ins through
// Users with the default Argon2id parameters (19 MiB per computation) and a
// concurrency cap of 2, and checks that the heap never grows by much more than
// the cap allows. Without the cap the burst would hold flood x 19 MiB at once.
func TestLoginFloodHeapIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("computes about 20 full-cost Argon2id hashes")
	}
	const (
		capacity = 2
		flood    = 20
		perHash  = basic.DefaultArgon2Memory << 10 // bytes
	)
	hasher, err := basic.NewHasher(basic.HasherConfig{MaxConcurrent: capacity, MaxWait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	users, err := basic.New(basic.Config{Hasher: hasher})
	if err != nil {
		t.Fatal(err)
	}

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseline := ms.HeapAlloc

	stop := make(chan struct{})
	sampled := make(chan uint64)
	go func() {
		var peak uint64
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
			select {
			case <-stop:
				sampled <- peak
				return
			case <-tick.C:
			}
		}
	}()

	start := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex // guards answers
	answers := map[auth.Code]int{}
	began := time.Now()
	for i := range flood {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := users.Authenticate(context.Background(), fmt.Sprintf("flooder_%02d", i), "some password or other")
			mu.Lock()
			answers[code(err)]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	elapsed := time.Since(began)
	close(stop)
	peak := <-sampled

	growth := int64(peak) - int64(baseline)
	// In use at once: capacity x 19 MiB. The collector lets garbage grow to
	// about as much again before it runs (GOGC=100), and one allocation may
	// overshoot by a block; 32 MiB covers goroutines, buffers and sampling.
	bound := int64(3*capacity*perHash + 32<<20)
	t.Logf("flood of %d sign-ins, cap %d: heap growth %.1f MiB (bound %.1f MiB; uncapped would hold %.0f MiB), %v, answers %v",
		flood, capacity, float64(growth)/(1<<20), float64(bound)/(1<<20), float64(flood*perHash)/(1<<20), elapsed, answers)
	if growth > bound {
		t.Fatalf("heap grew by %d MiB, above the %d MiB the concurrency cap allows", growth>>20, bound>>20)
	}
	if answers[auth.CodeInvalidCredentials] != flood {
		t.Fatalf("answers %v, want %d invalid_credentials", answers, flood)
	}
}
