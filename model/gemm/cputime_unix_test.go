//go:build unix

package gemm

import "syscall"

// cpuSeconds is the CPU time this process has used: on a shared, noisy
// machine flops per CPU-second shows a kernel's efficiency where wall
// time cannot.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
