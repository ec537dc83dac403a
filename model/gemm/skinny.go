package gemm

// skinnyRows bounds the rows of C computed per pass of the transposed
// path, and so its scratch buffer: skinnyRows × n floats.
const skinnyRows = 4096

// skinny computes products with a narrow C (n at most half the kernel's
// NR, like LoRA's x (BT,C) · A (r,C)ᵀ with rank r = 8) and reports whether
// it did. Such a C would fill a fraction of each NR-wide register tile, so
// the product is computed transposed, where n becomes the kernel's row
// count:
//
//	Cᵀ (n,m) = op(B)ᵀ (n,k) · op(A)ᵀ (k,m)
//
// op(A)ᵀ then plays B's part; when A is stored (k,m), as the activations
// of a weight gradient are, the kernels read it in place without packing.
func (p *problem) skinny() bool {
	kn := p.kern
	if 2*p.n > kn.nr || p.m <= p.n {
		return false
	}
	chunk := min(p.m, skinnyRows)
	tbuf := getBuf(p.n * chunk)
	defer putBuf(tbuf)
	for i0 := 0; i0 < p.m; i0 += chunk {
		rows := min(chunk, p.m-i0)
		var at operand // op(A)ᵀ restricted to rows i0.. of C: (k,rows)
		if p.a.trans {
			at = operand{p.a.data[i0:], p.a.ld, false}
		} else {
			at = operand{p.a.data[i0*p.a.ld:], p.a.ld, true}
		}
		t := (*tbuf)[:p.n*rows]
		q := problem{
			m: p.n, n: rows, k: p.k,
			alpha: p.alpha,
			a:     operand{p.b.data, p.b.ld, !p.b.trans},
			b:     at,
			c:     t, ldc: rows,
			kern: kn,
		}
		q.blocked(q.workers())
		addTransposed(p.c[i0*p.ldc:], p.ldc, t, rows, p.n, p.beta)
	}
	return true
}

// addTransposed stores C (rows,n) = tᵀ + beta·C for t (n,rows).
func addTransposed(c []float32, ldc int, t []float32, rows, n int, beta float32) {
	for i := range rows {
		crow := c[i*ldc : i*ldc+n]
		for j := range crow {
			v := t[j*rows+i]
			if beta != 0 {
				v += beta * crow[j]
			}
			crow[j] = v
		}
	}
}
