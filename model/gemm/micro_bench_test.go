package gemm

import "testing"

// BenchmarkMicro measures each micro-kernel alone on L1-resident panels
// (one core): the ceiling the blocked driver can approach.
func BenchmarkMicro(b *testing.B) {
	const k = 256
	for _, kern := range kernels {
		b.Run(kern.name, func(b *testing.B) {
			a := getBuf(kern.mr * k)
			bp := getBuf(kern.nr * k)
			c := make([]float32, kern.mr*kern.nr)
			cpu0 := cpuSeconds()
			for b.Loop() {
				kern.fn(k, &(*a)[0], &(*bp)[0], kern.nr, &c[0], kern.nr, 1, kern.mr, kern.nr)
			}
			flops := 2 * float64(kern.mr*kern.nr*k) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if cpu := cpuSeconds() - cpu0; cpu > 0 {
				b.ReportMetric(flops/cpu/1e9, "GFLOP/cpu-s")
			}
		})
	}
}
