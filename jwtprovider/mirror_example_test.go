package jwtprovider_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

// A store over another database builds its mirror on PolledMirror: the
// fetch function reads the records above a version, and Revoke hands what
// it committed to Add so that this instance enforces it at once.
func ExampleNewPolledMirror() {
	// table stands for the host's revocations table, numbered in commit
	// order (a sequence).
	var mu sync.Mutex
	var table []jwtprovider.VersionedRevocation
	fetch := func(ctx context.Context, after int64) ([]jwtprovider.VersionedRevocation, error) {
		mu.Lock()
		defer mu.Unlock()
		var out []jwtprovider.VersionedRevocation
		for _, r := range table {
			if r.Version > after {
				out = append(out, r)
			}
		}
		return out, nil
	}

	m, err := jwtprovider.NewPolledMirror(context.Background(), jwtprovider.MirrorConfig{}, fetch)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()

	// Revoke: commit the record, then add it to this instance's mirror.
	now := time.Now()
	r := jwtprovider.Revocation{ID: "jti-42", At: now, Until: now.Add(15 * time.Minute)}
	mu.Lock()
	table = append(table, jwtprovider.VersionedRevocation{Revocation: r, Version: int64(len(table) + 1)})
	mu.Unlock()
	m.Add(r)

	err = m.Check(jwtprovider.TokenRef{ID: "jti-42"})
	fmt.Println(errors.Is(err, jwtprovider.ErrRevoked))
	// Output: true
}
