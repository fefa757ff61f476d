package main

import (
	"crypto/rand"
	"encoding/base64"
)

// base62 is the alphabet of randomBase62.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomBase62 returns n characters drawn uniformly from [0-9A-Za-z] with
// crypto/rand (rejection sampling keeps the draw unbiased).
func randomBase62(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2+8)
	for len(out) < n {
		rand.Read(buf) // never fails (crypto/rand panics on failure)
		for _, b := range buf {
			if b >= 248 { // 248 = 4*62: keep the draw uniform
				continue
			}
			out = append(out, base62[b%62])
			if len(out) == n {
				break
			}
		}
	}
	return string(out)
}

// randomToken returns nbytes random bytes as unpadded base64url.
func randomToken(nbytes int) string {
	b := make([]byte, nbytes)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
