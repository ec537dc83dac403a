// Package cputime reads the CPU time this process has used, which
// benchmarks report beside wall time: on a shared, noisy machine CPU time
// per operation shows efficiency where wall time cannot.
package cputime
