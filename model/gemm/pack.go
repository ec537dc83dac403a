package gemm

// packA copies rows [i0,i0+mc) and columns [p0,p0+kc) of op(A), times
// alpha, into dst as panels of mr rows: panel q holds rows q·mr.. at
// dst[q·mr·kc:], element (i,p) of a panel at p·mr+i, rows past mc zeroed.
func packA(dst []float32, a operand, i0, mc, p0, kc, mr int, alpha float32) {
	for ip := 0; ip < mc; ip += mr {
		panel := dst[ip*kc : (ip+mr)*kc]
		rows := min(mr, mc-ip)
		if a.trans { // A stored (k,m): op(A)(i,p) = data[p·ld+i]
			for p := range kc {
				src := a.data[(p0+p)*a.ld+i0+ip:][:rows]
				d := panel[p*mr : (p+1)*mr]
				for r, v := range src {
					d[r] = alpha * v
				}
				clear(d[rows:])
			}
			continue
		}
		for r := range rows { // A stored (m,k): op(A)(i,p) = data[i·ld+p]
			src := a.data[(i0+ip+r)*a.ld+p0:][:kc]
			for p, v := range src {
				panel[p*mr+r] = alpha * v
			}
		}
		for r := rows; r < mr; r++ {
			for p := range kc {
				panel[p*mr+r] = 0
			}
		}
	}
}

// packBPanel copies rows [p0,p0+kc) and columns [j0,j0+cols) of op(B) into
// the panel dst (kc,nr): element (p,j) at p·nr+j, columns past cols zeroed.
func packBPanel(dst []float32, b operand, p0, kc, j0, cols, nr int) {
	if !b.trans { // B stored (k,n): op(B)(p,j) = data[p·ld+j]
		for p := range kc {
			d := dst[p*nr : (p+1)*nr]
			copy(d, b.data[(p0+p)*b.ld+j0:][:cols])
			clear(d[cols:])
		}
		return
	}
	for j := range cols { // B stored (n,k): op(B)(p,j) = data[j·ld+p]
		src := b.data[(j0+j)*b.ld+p0:][:kc]
		for p, v := range src {
			dst[p*nr+j] = v
		}
	}
	for j := cols; j < nr; j++ {
		for p := range kc {
			dst[p*nr+j] = 0
		}
	}
}
