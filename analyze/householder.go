package analyze

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/gonum"
)

// qrBlock is the panel width of the blocked Householder QR. gonum's Dgeqrf
// only blocks above 128 columns; LoRA factors have 8 to 64, where the
// unblocked matrix-vector form is three times slower than panels of 16
// updated with matrix products.
const qrBlock = 16

var lapackImpl gonum.Implementation

// householder is a QR factorization x = Q·R kept in LAPACK's compact form:
// R in the upper triangle of a, the Householder vectors below it, and their
// scalars in tau.
type householder struct {
	a   blas64.General // (m, n)
	tau []float64      // (min(m, n))
}

// newHouseholder factors a (m×n, stride n), overwriting it, by blocked
// Householder QR: unblocked dgeqr2 on each panel of qrBlock columns, then
// the panel's reflectors applied to the columns to its right at once
// (dlarft, dlarfb).
func newHouseholder(a blas64.General) *householder {
	m, n := a.Rows, a.Cols
	if a.Stride != n {
		panic("analyze: newHouseholder needs a compact matrix")
	}
	k := min(m, n)
	h := &householder{a: a, tau: make([]float64, k)}
	t := make([]float64, qrBlock*qrBlock)
	work := make([]float64, max(n, 1)*qrBlock)
	for i := 0; i < k; i += qrBlock {
		ib := min(k-i, qrBlock)
		panel := a.Data[i*n+i:]
		lapackImpl.Dgeqr2(m-i, ib, panel, n, h.tau[i:i+ib], work)
		if i+ib < n {
			lapackImpl.Dlarft(lapack.Forward, lapack.ColumnWise, m-i, ib, panel, n, h.tau[i:], t, qrBlock)
			lapackImpl.Dlarfb(blas.Left, blas.Trans, lapack.Forward, lapack.ColumnWise,
				m-i, n-i-ib, ib, panel, n, t, qrBlock, a.Data[i*n+i+ib:], n, work, qrBlock)
		}
	}
	return h
}

// r returns the k×n upper trapezoidal factor R, k = min(m, n).
func (h *householder) r() blas64.General {
	k, n := len(h.tau), h.a.Cols
	r := blas64.General{Rows: k, Cols: n, Stride: n, Data: make([]float64, k*n)}
	for i := range k {
		copy(r.Data[i*n+i:(i+1)*n], h.a.Data[i*n+i:(i+1)*n])
	}
	return r
}

// mulQ returns Q·[c; 0] (m×c.Cols) for c with k = min(m, n) rows, without
// forming Q: the thin Q times a small matrix, by blocked dormqr.
func (h *householder) mulQ(c blas64.General) blas64.General {
	m, k, nc := h.a.Rows, len(h.tau), c.Cols
	out := blas64.General{Rows: m, Cols: nc, Stride: max(nc, 1), Data: make([]float64, m*nc)}
	for i := range k {
		copy(out.Data[i*out.Stride:i*out.Stride+nc], c.Data[i*c.Stride:i*c.Stride+nc])
	}
	if k == 0 || nc == 0 {
		return out
	}
	work := []float64{0}
	lapackImpl.Dormqr(blas.Left, blas.NoTrans, m, nc, k, h.a.Data, h.a.Stride, h.tau, out.Data, out.Stride, work, -1)
	work = make([]float64, int(work[0]))
	lapackImpl.Dormqr(blas.Left, blas.NoTrans, m, nc, k, h.a.Data, h.a.Stride, h.tau, out.Data, out.Stride, work, len(work))
	return out
}

// mulQT returns the first k rows of Qᵀ·x for x (m×c): the coordinates of
// x's columns in the thin Q's basis, by blocked dormqr.
func (h *householder) mulQT(x blas64.General) blas64.General {
	m, k, nc := h.a.Rows, len(h.tau), x.Cols
	y := blas64.General{Rows: m, Cols: nc, Stride: max(nc, 1), Data: make([]float64, m*max(nc, 1))}
	for i := range m {
		copy(y.Data[i*y.Stride:i*y.Stride+nc], x.Data[i*x.Stride:i*x.Stride+nc])
	}
	if k > 0 && nc > 0 {
		work := []float64{0}
		lapackImpl.Dormqr(blas.Left, blas.Trans, m, nc, k, h.a.Data, h.a.Stride, h.tau, y.Data, y.Stride, work, -1)
		work = make([]float64, int(work[0]))
		lapackImpl.Dormqr(blas.Left, blas.Trans, m, nc, k, h.a.Data, h.a.Stride, h.tau, y.Data, y.Stride, work, len(work))
	}
	y.Rows = k
	y.Data = y.Data[:k*y.Stride]
	return y
}
