package analyze

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// mulAdd adds A·B to C in the order gonum's Dgemm sums, so that the
// result is bit for bit a gonum product's: every element of C gets its
// terms in increasing l, each a rounded multiply then a rounded add (no
// fused multiply-add).
//
//	A (m,k), element (i, l) at a[i·ras + l·las]; B (k,n) row stride ldb;
//	C (m,n) row stride ldc: C += A·B
//
// A is read as stored (ras the row stride, las 1) or transposed (ras 1,
// las the row stride of Aᵀ). With AVX2 the 4×8 tiles of C run in an
// assembly kernel (VMULPD, VADDPD) that keeps them in registers along l,
// the edges in Go; elsewhere gonum's Dgemm runs.
func mulAdd(m, n, k int, a []float64, ras, las int, b []float64, ldb int, c []float64, ldc int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	if !haveMulAdd4x8 {
		if las == 1 {
			blas64.Implementation().Dgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, ras, b, ldb, 1, c, ldc)
		} else {
			blas64.Implementation().Dgemm(blas.Trans, blas.NoTrans, m, n, k, 1, a, las, b, ldb, 1, c, ldc)
		}
		return
	}
	m4, n8 := m/4*4, n/8*8
	for i := 0; i < m4; i += 4 {
		for j := 0; j < n8; j += 8 {
			mulAdd4x8(k, &a[i*ras], ras, las, &b[j], ldb, &c[i*ldc+j], ldc)
		}
	}
	mulAddGo(0, m4, n8, n, k, a, ras, las, b, ldb, c, ldc)
	mulAddGo(m4, m, 0, n, k, a, ras, las, b, ldb, c, ldc)
}

// mulAddGo is mulAdd for rows [i0, i1) and columns [j0, j1) of C, in Go.
func mulAddGo(i0, i1, j0, j1, k int, a []float64, ras, las int, b []float64, ldb int, c []float64, ldc int) {
	for i := i0; i < i1; i++ {
		for j := j0; j < j1; j++ {
			s := c[i*ldc+j]
			for l := range k {
				s += float64(a[i*ras+l*las] * b[l*ldb+j]) // the conversion forbids fusing
			}
			c[i*ldc+j] = s
		}
	}
}
