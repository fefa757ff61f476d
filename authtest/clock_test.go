package authtest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authtest"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
	c := authtest.NewClock(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now = %v, want %v", got, start)
	}
	if got := c.Advance(90 * time.Second); !got.Equal(start.Add(90*time.Second)) || !c.Now().Equal(got) {
		t.Fatalf("Advance = %v, Now = %v", got, c.Now())
	}
	c.Advance(-time.Hour) // backwards, as a skewed host would
	if want := start.Add(90*time.Second - time.Hour); !c.Now().Equal(want) {
		t.Fatalf("after a negative Advance: %v, want %v", c.Now(), want)
	}
	c.Set(start)
	if !c.Now().Equal(start) {
		t.Fatalf("after Set: %v", c.Now())
	}
}

func TestZeroClockStandsStillAtFirstUse(t *testing.T) {
	var c authtest.Clock
	before := time.Now().Add(-time.Second)
	first := c.Now()
	if first.Before(before) || first.After(time.Now()) || first.Nanosecond() != 0 {
		t.Fatalf("zero clock started at %v, want the real time truncated to the second", first)
	}
	if again := c.Now(); !again.Equal(first) {
		t.Fatalf("zero clock moved by itself: %v then %v", first, again)
	}
}

func TestClockConcurrentAdvance(t *testing.T) {
	start := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
	c := authtest.NewClock(start)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			c.Advance(time.Second)
			_ = c.Now()
		})
	}
	wg.Wait()
	if want := start.Add(50 * time.Second); !c.Now().Equal(want) {
		t.Fatalf("after 50 concurrent Advance(1s): %v, want %v", c.Now(), want)
	}
}

func TestStackClockDefaultsToRealTime(t *testing.T) {
	before := time.Now().Add(-time.Second)
	s := authtest.NewStack(t)
	now := s.Clock.Now()
	if now.Before(before) || now.After(time.Now()) || now.Nanosecond() != 0 {
		t.Fatalf("stack clock starts at %v, want the real time truncated to the second", now)
	}
}
