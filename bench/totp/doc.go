// Package totpbench measures TOTP verification with its replay guard against plain pquerna/otp.
// See docs/BENCHMARKS.md for how to run it and the recorded figures.
package totpbench
