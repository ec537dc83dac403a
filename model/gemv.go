package model

// gemvRows is the most rows of x a product computes as dot products
// (token-by-token decoding): below it the packed GEMM would copy a whole
// weight matrix to multiply it by one or two vectors.
const gemvRows = 4

// dot returns Σ a[i]·b[i] over len(a) (b at least as long).
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s float32
	i := 0
	if haveVec {
		i = len(a) &^ 31
		s = dotAVX2(a[:i], b[:i])
	}
	for ; i < len(a); i++ {
		s += a[i] * b[i]
	}
	return s
}

// mulNTRows computes y (n, rows) = x (n, cols) · wᵀ (+ y when
// accumulate) as dot products, for n ≤ gemvRows, in parallel over w's
// rows when the product is large.
//
//	x (n,cols), w (rows,cols) -> y (n, ldy), columns [0, rows)
func mulNTRows(y []float32, ldy int, x []float32, n int, w []float32, rows, cols int, accumulate bool) {
	parallelFor(rows, 2*n*cols, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			wj := w[j*cols : (j+1)*cols]
			for i := range n {
				s := dot(x[i*cols:(i+1)*cols], wj)
				if accumulate {
					s += y[i*ldy+j]
				}
				y[i*ldy+j] = s
			}
		}
	})
}
