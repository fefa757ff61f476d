// Package apikeybench measures API key verification at 1,000 and 1,000,000 stored keys.
// See docs/BENCHMARKS.md for how to run it and the recorded figures.
package apikeybench
