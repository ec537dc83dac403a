package gemm

import (
	"unsafe"

	"github.com/lorakit/lorakit/internal/parallel"
)

// dotFunc computes out[i·cols+j] = Σ_{p<k} x_i[p]·w_j[p] for the rows
// x_i = x + i·ldx (i < rows) and w_j = w + j·ldw (j < cols) of a dot
// kernel; k is a multiple of its vector width.
type dotFunc func(k int, x *float32, ldx int, w *float32, ldw int, out *float32)

// dotKernel computes a (rows,cols) block of dot products in place.
type dotKernel struct {
	rows, cols, width int
	fn                dotFunc
}

// Narrow NT products — x (m,k) · w (n,k)ᵀ with few outputs n, like a LoRA
// down projection x · A (r,C)ᵀ — are computed as dot products of rows
// that are both contiguous along k: nothing is packed, x is read once.
const (
	dotMaxN = 32 // widest C computed by dot products
	dotMinK = 64 // shortest k: below it the blocked path loses nothing
)

// useDot reports whether p suits the dot-product path.
func (p *problem) useDot() bool {
	dk := p.kern.dot
	return !p.a.trans && p.b.trans && p.n <= dotMaxN && p.k >= dotMinK &&
		p.m >= dk.rows && p.n >= dk.cols
}

// dotRowsPerItem is how many rows of C one parallel work item computes.
const dotRowsPerItem = 32

// dotNT computes C (m,n) = alpha·x (m,k)·w (n,k)ᵀ + beta·C block by block.
// A block that would run past the last row or column is shifted back to
// end there, and stores only what earlier blocks did not.
func (p *problem) dotNT() {
	dk := p.kern.dot
	x, w := p.a, p.b
	kv := p.k / dk.width * dk.width
	parallel.Dynamic(p.workers(), ceilDiv(p.m, dotRowsPerItem), func(_, item int) {
		var out [16]float32
		iEnd := min(p.m, (item+1)*dotRowsPerItem)
		for i0 := item * dotRowsPerItem; i0 < iEnd; i0 += dk.rows {
			is := min(i0, p.m-dk.rows)
			for j0 := 0; j0 < p.n; j0 += dk.cols {
				js := min(j0, p.n-dk.cols)
				dk.fn(kv, &x.data[is*x.ld], x.ld, &w.data[js*w.ld], w.ld, &out[0])
				for i := i0; i < min(is+dk.rows, iEnd); i++ {
					xr := x.data[i*x.ld+kv : i*x.ld+p.k]
					crow := p.c[i*p.ldc : i*p.ldc+p.n]
					for j := j0; j < js+dk.cols; j++ {
						s := out[(i-is)*dk.cols+j-js]
						for q, v := range w.data[j*w.ld+kv : j*w.ld+p.k] {
							s += xr[q] * v
						}
						s *= p.alpha
						if p.beta != 0 {
							s += p.beta * crow[j]
						}
						crow[j] = s
					}
				}
			}
		}
	})
}

// goDotKernel is the portable dot kernel: 2 rows of x by 4 rows of w.
var goDotKernel = dotKernel{rows: 2, cols: 4, width: 1, fn: goDot}

// goDot: x (2,k) stride ldx, w (4,k) stride ldw -> out (2,4).
func goDot(k int, x *float32, ldx int, w *float32, ldw int, out *float32) {
	xs := unsafe.Slice(x, ldx+k)
	ws := unsafe.Slice(w, 3*ldw+k)
	x0, x1 := xs[:k], xs[ldx:ldx+k]
	w0, w1, w2, w3 := ws[:k], ws[ldw:ldw+k], ws[2*ldw:2*ldw+k], ws[3*ldw:3*ldw+k]
	var s00, s01, s02, s03, s10, s11, s12, s13 float32
	for p, a := range x0 {
		b := x1[p]
		s00 += a * w0[p]
		s01 += a * w1[p]
		s02 += a * w2[p]
		s03 += a * w3[p]
		s10 += b * w0[p]
		s11 += b * w1[p]
		s12 += b * w2[p]
		s13 += b * w3[p]
	}
	*(*[8]float32)(unsafe.Pointer(out)) = [8]float32{s00, s01, s02, s03, s10, s11, s12, s13}
}
