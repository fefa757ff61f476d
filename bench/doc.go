// Package bench holds Gatehouse's side-by-side benchmarks. Each comparison is
// one Benchmark function whose sub-benchmarks are "gatehouse" and one per peer,
// so that a ratio is measured in one run. See docs/BENCHMARKS.md.
package bench
