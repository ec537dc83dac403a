//go:build openblas && cgo

package gemm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lorakit/lorakit/model/gemm/openblas"
)

// TestOpenBLASAgrees checks the benchmark backend against the reference.
func TestOpenBLASAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const m, n, k = 45, 67, 89
	for combo := range 4 {
		transA, transB := combo&1 != 0, combo&2 != 0
		lda, ldb := k, n
		if transA {
			lda = m
		}
		if transB {
			ldb = k
		}
		a, b := matrix(rng, m*k/lda, lda, lda), matrix(rng, k*n/ldb, ldb, ldb)
		want, abs := reference(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, nil, n)
		c := make([]float32, m*n)
		openblas.Sgemm(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, n)
		for i, g := range c {
			if math.Abs(float64(g)-want[i]) > errBound(k, abs[i]) {
				t.Fatalf("openblas.Sgemm(tA=%v,tB=%v) C[%d] = %v, want %v", transA, transB, i, g, want[i])
			}
		}
	}
}

// BenchmarkSideBySide runs every benchmark case through Sgemm and then
// through OpenBLAS, so both see the same machine state.
func BenchmarkSideBySide(b *testing.B) {
	for _, bc := range benchCases {
		b.Run("lorakit/"+bc.name, func(b *testing.B) {
			runBench(b, bc, func(a []float32, lda int, bm []float32, ldb int, c []float32) {
				Sgemm(bc.transA, bc.transB, bc.m, bc.n, bc.k, 1, a, lda, bm, ldb, 0, c, bc.n)
			})
		})
		b.Run("openblas/"+bc.name, func(b *testing.B) {
			runBench(b, bc, func(a []float32, lda int, bm []float32, ldb int, c []float32) {
				openblas.Sgemm(bc.transA, bc.transB, bc.m, bc.n, bc.k, 1, a, lda, bm, ldb, 0, c, bc.n)
			})
		})
	}
}
