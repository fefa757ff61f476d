// Package middlewarebench measures the cost the authentication chain adds to a request.
// See docs/BENCHMARKS.md for how to run it and the recorded figures.
package middlewarebench
