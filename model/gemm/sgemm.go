package gemm

import "fmt"

// Sgemm computes C = alpha·op(A)·op(B) + beta·C on row-major matrices,
// like BLAS sgemm with rows and columns swapped:
//
//	op(A) (m,k): A stored (m,k) with row stride lda >= k, or, when transA,
//	             A stored (k,m) with lda >= m.
//	op(B) (k,n): B stored (k,n) with ldb >= n, or, when transB,
//	             B stored (n,k) with ldb >= k.
//	C     (m,n): row stride ldc >= n.
//
// When beta is 0, C is only written (NaNs in it do not propagate); when
// alpha or k is 0, A and B are not read. Sgemm panics on programmer
// errors: negative sizes, strides below the row width, or slices shorter
// than the shapes and strides require.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(activeKernel(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// sgemm is Sgemm with the micro-kernel chosen by the caller.
func sgemm(kern *kernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: Sgemm: negative size m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkMatrix("A", a, ar, ac, lda)
	checkMatrix("B", b, br, bc, ldb)
	checkMatrix("C", c, m, n, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleC(c, m, n, ldc, beta)
		return
	}
	p := problem{
		m: m, n: n, k: k,
		alpha: alpha, beta: beta,
		a: operand{a, lda, transA}, b: operand{b, ldb, transB},
		c: c, ldc: ldc,
		kern: kern,
	}
	p.solve()
}

// checkMatrix panics unless s holds a (rows,cols) matrix with row stride ld.
func checkMatrix(name string, s []float32, rows, cols, ld int) {
	if ld < max(cols, 1) {
		panic(fmt.Sprintf("gemm: Sgemm: %s stored (%d,%d) needs leading dimension >= %d, got %d", name, rows, cols, max(cols, 1), ld))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if need := (rows-1)*ld + cols; len(s) < need {
		panic(fmt.Sprintf("gemm: Sgemm: %s stored (%d,%d) with stride %d needs %d elements, slice has %d", name, rows, cols, ld, need, len(s)))
	}
}

// scaleC sets C (m,n) = beta·C; beta 0 writes zeros without reading C.
func scaleC(c []float32, m, n, ldc int, beta float32) {
	if beta == 1 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// operand is a stored matrix and whether the product uses its transpose.
type operand struct {
	data  []float32
	ld    int
	trans bool
}

// problem is one call of Sgemm after its arguments were checked.
type problem struct {
	m, n, k     int
	alpha, beta float32
	a, b        operand
	c           []float32
	ldc         int
	kern        *kernel
}
