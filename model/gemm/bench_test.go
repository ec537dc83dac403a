package gemm

import (
	"math/rand/v2"
	"testing"

	"github.com/lorakit/lorakit/internal/cputime"
)

// benchCase is one product benchmarked: C (m,n) = op(A) (m,k) · op(B) (k,n).
type benchCase struct {
	name           string
	transA, transB bool
	m, n, k        int
}

var benchCases = []benchCase{
	{"NN/768x768x768", false, false, 768, 768, 768},
	{"NN/768x3072x768", false, false, 768, 3072, 768},
	{"NN/1024x1024x1024", false, false, 1024, 1024, 1024},
	// LoRA: merge B·A into a 4096x4096 weight, and the rank-8 down projection.
	{"NN/4096x4096x8", false, false, 4096, 4096, 8},
	{"NT/512x8x768", false, true, 512, 8, 768},
	// LoRA forward and backward at batch·seq 1024, d 768, rank 8.
	{"NT/1024x8x768", false, true, 1024, 8, 768},
	{"NT/1024x768x8", false, true, 1024, 768, 8},
	{"TN/768x8x1024", true, false, 768, 8, 1024},
	{"TN/8x768x1024", true, false, 8, 768, 1024},
	// GPT-2-small linear layers at batch·seq 1024: forward (NT), input
	// gradient (NN) and weight gradient (TN) of the MLP up projection.
	{"NT/1024x3072x768", false, true, 1024, 3072, 768},
	{"NN/1024x768x3072", false, false, 1024, 768, 3072},
	{"TN/3072x768x1024", true, false, 3072, 768, 1024},
}

// benchOperands allocates dense operands for a case.
func benchOperands(bc benchCase) (a []float32, lda int, b []float32, ldb int, c []float32) {
	rng := rand.New(rand.NewPCG(5, 6))
	fill := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = rng.Float32() - 0.5
		}
		return s
	}
	lda, ldb = bc.k, bc.n
	if bc.transA {
		lda = bc.m
	}
	if bc.transB {
		ldb = bc.k
	}
	return fill(bc.m * bc.k), lda, fill(bc.k * bc.n), ldb, fill(bc.m * bc.n)
}

// runBench times f and reports GFLOP/s (2·m·n·k flops per product) and
// GFLOP per CPU-second, the per-core efficiency.
func runBench(b *testing.B, bc benchCase, f func(a []float32, lda int, bm []float32, ldb int, c []float32)) {
	a, lda, bm, ldb, c := benchOperands(bc)
	b.SetBytes(int64(4 * (bc.m*bc.k + bc.k*bc.n + bc.m*bc.n)))
	b.ReportAllocs()
	cpu0 := cputime.Seconds()
	for b.Loop() {
		f(a, lda, bm, ldb, c)
	}
	flops := 2 * float64(bc.m) * float64(bc.n) * float64(bc.k) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu := cputime.Seconds() - cpu0; cpu > 0 {
		b.ReportMetric(flops/cpu/1e9, "GFLOP/cpu-s")
	}
}

// BenchmarkSgemm measures the default build's Sgemm; with -tags openblas
// BenchmarkOpenBLAS runs the same cases beside it.
// The sub-benchmarks are named after the kernel that ran.
func BenchmarkSgemm(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(KernelName()+"/"+bc.name, func(b *testing.B) {
			runBench(b, bc, func(a []float32, lda int, bm []float32, ldb int, c []float32) {
				Sgemm(bc.transA, bc.transB, bc.m, bc.n, bc.k, 1, a, lda, bm, ldb, 0, c, bc.n)
			})
		})
	}
}

// BenchmarkDispatch reports the start-up probe: each assembly kernel's
// rate on one core and (in the name) the kernel Sgemm chose.
func BenchmarkDispatch(b *testing.B) {
	b.Run("chose="+KernelName(), func(b *testing.B) {
		for range b.N {
		}
		for name, r := range KernelRates() {
			b.ReportMetric(r, "GFLOP/s-"+name)
		}
	})
}

// BenchmarkKernels runs the three square-ish target shapes with each
// micro-kernel this CPU supports, e.g. to see what an AVX2-only CPU gets.
func BenchmarkKernels(b *testing.B) {
	for _, kern := range kernels {
		for _, bc := range benchCases[:3] {
			b.Run(kern.name+"/"+bc.name, func(b *testing.B) {
				if kern == &goKernel && testing.Short() {
					b.Skip("portable kernel skipped in -short mode")
				}
				runBench(b, bc, func(a []float32, lda int, bm []float32, ldb int, c []float32) {
					sgemm(kern, bc.transA, bc.transB, bc.m, bc.n, bc.k, 1, a, lda, bm, ldb, 0, c, bc.n)
				})
			})
		}
	}
}
