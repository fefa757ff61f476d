// Package rbacbench measures permission checks against casbin and its cached enforcer.
// See docs/BENCHMARKS.md for how to run it and the recorded figures.
package rbacbench
