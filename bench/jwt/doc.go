// Package jwtbench measures JWT verification per algorithm against golang-jwt and jwx.
// See docs/BENCHMARKS.md for how to run it and the recorded figures.
package jwtbench
