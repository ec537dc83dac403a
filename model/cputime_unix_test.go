//go:build unix

package model

import "syscall"

// cpuSeconds is the CPU time (user + system) this process has used: on a
// shared, noisy machine CPU time per step shows efficiency where wall
// time cannot.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
