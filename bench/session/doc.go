// Package sessionbench measures session authentication against scs.
// See docs/BENCHMARKS.md for how to run it and the recorded figures.
package sessionbench
