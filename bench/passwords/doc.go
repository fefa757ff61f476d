// Package passwordsbench measures password hashing cost per algorithm at default parameters.
// See docs/BENCHMARKS.md for how to run it and the recorded figures.
package passwordsbench
