// Package passwordsbench measures the cost of one password hash per
// algorithm at Gatehouse's default parameters. There is no peer: the figure
// is the price of one sign-in, and with the concurrency cap it bounds the
// sign-ins per second one CPU can serve.
package passwordsbench

import (
	"context"
	"testing"

	"github.com/gatehouse-auth/gatehouse/basic"
)

// BenchmarkPasswordHash computes one hash per iteration with the default
// parameters of each algorithm: argon2id m=19 MiB t=2 p=1, bcrypt cost 12,
// scrypt N=2^15 r=8 p=1. The cap of one hasher is set to 1 so that the
// figure is one computation at a time (the benchmark runs serially anyway).
func BenchmarkPasswordHash(b *testing.B) {
	ctx := context.Background()
	for _, alg := range []basic.Algorithm{basic.Argon2id, basic.Bcrypt, basic.Scrypt} {
		b.Run(string(alg), func(b *testing.B) {
			h, err := basic.NewHasher(basic.HasherConfig{Algorithm: alg, MaxConcurrent: 1})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.Hash(ctx, "ladle furnace tundish 7"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
