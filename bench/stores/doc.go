// Package storesbench measures session lookups and rate-limit decisions on Redis and PostgreSQL, with round trips per operation.
// See docs/BENCHMARKS.md for how to run it and the recorded figures.
package storesbench
