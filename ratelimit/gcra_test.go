package ratelimit_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/ratelimit"
)

func TestGCRAParams(t *testing.T) {
	interval, burst, err := ratelimit.GCRAParams(60, 0, 0, time.Hour)
	if err != nil || interval != int64(time.Second) || burst != 60 {
		t.Fatalf("60 per default period = %v, %d, %v; want 1s, 60, nil", time.Duration(interval), burst, err)
	}
	interval, burst, err = ratelimit.GCRAParams(10, time.Second, 3, time.Hour)
	if err != nil || interval != int64(100*time.Millisecond) || burst != 3 {
		t.Fatalf("10/s in bursts of 3 = %v, %d, %v; want 100ms, 3, nil", time.Duration(interval), burst, err)
	}
	for name, c := range map[string]struct {
		limit  int
		period time.Duration
		burst  int
	}{
		"zero limit":          {0, time.Minute, 0},
		"negative period":     {1, -time.Second, 0},
		"negative burst":      {1, time.Minute, -1},
		"interval under 1ns":  {10, 5, 0},
		"window above maxTau": {1, time.Hour, 2},
	} {
		if _, _, err := ratelimit.GCRAParams(c.limit, c.period, c.burst, time.Hour); !errors.Is(err, ratelimit.ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
}
