// Package ratelimitbench measures rate-limit decisions over 10,000 keys against x/time/rate, ulule and httprate.
// See docs/BENCHMARKS.md for how to run it and the recorded figures.
package ratelimitbench
