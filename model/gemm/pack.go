package gemm

// Packing copies a block of op(A) or op(B) into the panel layout the
// micro-kernels walk: a panel of width w (MR for A, NR for B) holds, for
// each step p of the inner dimension, w consecutive floats. Depending on
// the transpose flag, the stored matrix runs either along p (rows must be
// interleaved) or along the panel width (rows are copied whole).

// packA copies rows [i0,i0+mc) and columns [p0,p0+kc) of op(A) into dst
// as panels of mr rows: panel q holds rows q·mr.. at
// dst[q·mr·kc:], element (i,p) of a panel at p·mr+i, rows past mc zeroed.
func packA(dst []float32, a operand, i0, mc, p0, kc, mr int) {
	if a.trans { // A stored (k,m): op(A)(i,p) = data[p·ld+i]; read each row once
		for p := range kc {
			row := a.data[(p0+p)*a.ld+i0:][:mc]
			for ip := 0; ip < mc; ip += mr {
				d := dst[ip*kc+p*mr : ip*kc+(p+1)*mr]
				padCopy(d, row[ip:min(ip+mr, mc)])
			}
		}
		return
	}
	for ip := 0; ip < mc; ip += mr { // A stored (m,k): op(A)(i,p) = data[i·ld+p]
		panel := dst[ip*kc : (ip+mr)*kc]
		interleavePanel(panel, a.data[(i0+ip)*a.ld+p0:], a.ld, kc, min(mr, mc-ip), mr)
	}
}

// packBPanel copies rows [p0,p0+kc) and columns [j0,j0+cols) of op(B) into
// the panel dst (kc,nr): element (p,j) at p·nr+j, columns past cols zeroed.
func packBPanel(dst []float32, b operand, p0, kc, j0, cols, nr int) {
	if b.trans { // B stored (n,k): op(B)(p,j) = data[j·ld+p]
		interleavePanel(dst, b.data[j0*b.ld+p0:], b.ld, kc, cols, nr)
	} else { // B stored (k,n): op(B)(p,j) = data[p·ld+j]
		copyPanel(dst, b.data[p0*b.ld+j0:], b.ld, kc, cols, nr)
	}
}

// copyPanel fills panel (kc,w) from src rows of stride ld that run along
// the panel width: panel[p·w+j] = src[p·ld+j] for j < cols, 0 after.
func copyPanel(panel, src []float32, ld, kc, cols, w int) {
	for p := range kc {
		padCopy(panel[p*w:(p+1)*w], src[p*ld:p*ld+cols])
	}
}

// padCopy copies s to the start of d and zeroes the rest of d.
func padCopy(d, s []float32) {
	clear(d[copy(d, s):])
}

// interleavePanel fills panel (kc,w) from cols source rows of stride ld
// that each run along p: panel[p·w+j] = src[j·ld+p], columns past cols
// zeroed. Four rows go together so each step writes 16 bytes.
func interleavePanel(panel, src []float32, ld, kc, cols, w int) {
	j := 0
	for ; j+4 <= cols; j += 4 {
		r0 := src[j*ld : j*ld+kc]
		r1 := src[(j+1)*ld : (j+1)*ld+kc]
		r2 := src[(j+2)*ld : (j+2)*ld+kc]
		r3 := src[(j+3)*ld : (j+3)*ld+kc]
		d := panel[j:]
		for p := range r0 {
			q := d[p*w : p*w+4 : p*w+4]
			q[0], q[1], q[2], q[3] = r0[p], r1[p], r2[p], r3[p]
		}
	}
	for ; j < cols; j++ {
		for p, v := range src[j*ld : j*ld+kc] {
			panel[p*w+j] = v
		}
	}
	for ; j < w; j++ {
		for p := range kc {
			panel[p*w+j] = 0
		}
	}
}
