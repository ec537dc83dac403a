//go:build !unix

package gemm

// cpuSeconds is not measured outside unix; the metric then reads 0.
func cpuSeconds() float64 { return 0 }
