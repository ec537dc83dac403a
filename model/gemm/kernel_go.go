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

// goMicro: a (k,4) packed, b (k,4) with row stride bstride -> c (mr,nr)
// with row stride ldc.
func goMicro(k int, a, b *float32, bstride int, c *float32, ldc int, beta float32, mr, nr int) {
	if k == 0 {
		goStore(c, ldc, beta, mr, nr, &[4][4]float32{})
		return
	}
	as := unsafe.Slice(a, 4*k)
	bs := unsafe.Slice(b, (k-1)*bstride+4)
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	for p := range k {
		ap := as[4*p : 4*p+4 : 4*p+4]
		bp := bs[p*bstride : p*bstride+4 : p*bstride+4]
		a0, a1, a2, a3 := ap[0], ap[1], ap[2], ap[3]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	goStore(c, ldc, beta, mr, nr, &[4][4]float32{
		{c00, c01, c02, c03},
		{c10, c11, c12, c13},
		{c20, c21, c22, c23},
		{c30, c31, c32, c33},
	})
}

// goStore stores C (mr,nr) = tile + beta·C.
func goStore(c *float32, ldc int, beta float32, mr, nr int, tile *[4][4]float32) {
	cs := unsafe.Slice(c, (mr-1)*ldc+nr)
	for i := range mr {
		row := cs[i*ldc : i*ldc+nr]
		for j := range row {
			if beta == 0 {
				row[j] = tile[i][j]
			} else {
				row[j] = tile[i][j] + beta*row[j]
			}
		}
	}
}
