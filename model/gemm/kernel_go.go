package gemm

import "unsafe"

// goKernel is the portable micro-kernel, a 4x4 tile held in scalars. It
// serves CPUs without the vector units the assembly kernels need, and is
// the reference the others are tested against.
var goKernel = kernel{
	name: "go", mr: 4, nr: 4,
	kc: 256, mc: 64, nc: 1024,
	maskedCols: true,
	fn:         goMicro,
	dot:        &goDotKernel,
}

// goMicro: a (4,k) with strides ars, acs; b (k,4) with row stride bstride
// -> c (mr,nr) with row stride ldc. Rows of a past mr are not read.
func goMicro(k int, a *float32, ars, acs int, b *float32, bstride int, c *float32, ldc int, alpha, beta float32, mr, nr int) {
	if k == 0 {
		goStore(c, ldc, alpha, beta, mr, nr, &[4][4]float32{})
		return
	}
	as := unsafe.Slice(a, (mr-1)*ars+(k-1)*acs+1)
	var rows [4][]float32 // row i of a from its first element; absent rows repeat row 0
	for i := range rows {
		rows[i] = as[min(i, mr-1)*ars:]
	}
	a0, a1, a2, a3 := rows[0], rows[1], rows[2], rows[3]
	bs := unsafe.Slice(b, (k-1)*bstride+4)
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	for p := range k {
		bp := bs[p*bstride : p*bstride+4 : p*bstride+4]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		x0, x1, x2, x3 := a0[p*acs], a1[p*acs], a2[p*acs], a3[p*acs]
		c00 += x0 * b0
		c01 += x0 * b1
		c02 += x0 * b2
		c03 += x0 * b3
		c10 += x1 * b0
		c11 += x1 * b1
		c12 += x1 * b2
		c13 += x1 * b3
		c20 += x2 * b0
		c21 += x2 * b1
		c22 += x2 * b2
		c23 += x2 * b3
		c30 += x3 * b0
		c31 += x3 * b1
		c32 += x3 * b2
		c33 += x3 * b3
	}
	goStore(c, ldc, alpha, beta, mr, nr, &[4][4]float32{
		{c00, c01, c02, c03},
		{c10, c11, c12, c13},
		{c20, c21, c22, c23},
		{c30, c31, c32, c33},
	})
}

// goStore stores C (mr,nr) = alpha·tile + beta·C.
func goStore(c *float32, ldc int, alpha, beta float32, mr, nr int, tile *[4][4]float32) {
	cs := unsafe.Slice(c, (mr-1)*ldc+nr)
	for i := range mr {
		row := cs[i*ldc : i*ldc+nr]
		for j := range row {
			if beta == 0 {
				row[j] = alpha * tile[i][j]
			} else {
				row[j] = alpha*tile[i][j] + beta*row[j]
			}
		}
	}
}
