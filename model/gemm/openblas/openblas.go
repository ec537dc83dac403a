//go:build openblas && cgo

package openblas

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
*/
import "C"

import "fmt"

// Sgemm computes C = alpha·op(A)·op(B) + beta·C through cblas_sgemm in
// row-major order, with gemm.Sgemm's arguments and shapes. It panics on
// shapes the slices cannot hold.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ar, ac, br, bc := m, k, k, n
	ta, tb := uint32(C.CblasNoTrans), uint32(C.CblasNoTrans)
	if transA {
		ar, ac, ta = k, m, C.CblasTrans
	}
	if transB {
		br, bc, tb = n, k, C.CblasTrans
	}
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("openblas: Sgemm: negative size m=%d n=%d k=%d", m, n, k))
	}
	check("A", a, ar, ac, lda)
	check("B", b, br, bc, ldb)
	check("C", c, m, n, ldc)
	if m == 0 || n == 0 {
		return
	}
	var pa, pb *float32
	if k > 0 {
		pa, pb = &a[0], &b[0]
	}
	C.cblas_sgemm(C.CblasRowMajor, ta, tb, C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), (*C.float)(pa), C.blasint(max(lda, 1)), (*C.float)(pb), C.blasint(max(ldb, 1)),
		C.float(beta), (*C.float)(&c[0]), C.blasint(ldc))
}

// check panics unless s holds a (rows,cols) matrix with row stride ld.
func check(name string, s []float32, rows, cols, ld int) {
	if ld < max(cols, 1) || (rows > 0 && cols > 0 && len(s) < (rows-1)*ld+cols) {
		panic(fmt.Sprintf("openblas: Sgemm: %s (%d,%d) stride %d does not fit %d elements", name, rows, cols, ld, len(s)))
	}
}
