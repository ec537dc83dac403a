package gemm

import (
	"sync/atomic"
	"testing"

	"github.com/lorakit/lorakit/internal/cputime"
)

// BenchmarkMicro runs each micro-kernel alone on L1-resident panels, on
// every core at once (b.RunParallel): the ceiling the blocked driver can
// approach on this machine.
func BenchmarkMicro(b *testing.B) {
	const k = 256
	for _, kern := range kernels {
		b.Run(kern.name, func(b *testing.B) {
			var calls atomic.Int64
			cpu0 := cputime.Seconds()
			b.RunParallel(func(pb *testing.PB) {
				a := getBuf(kern.mr * k)
				bp := getBuf(kern.nr * k)
				c := make([]float32, kern.mr*kern.nr)
				n := int64(0)
				for pb.Next() {
					kern.fn(k, &(*a)[0], 1, kern.mr, &(*bp)[0], kern.nr, &c[0], kern.nr, 1, 1, kern.mr, kern.nr)
					n++
				}
				calls.Add(n)
			})
			flops := 2 * float64(kern.mr*kern.nr*k) * float64(calls.Load())
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if cpu := cputime.Seconds() - cpu0; cpu > 0 {
				b.ReportMetric(flops/cpu/1e9, "GFLOP/cpu-s")
			}
		})
	}
}
