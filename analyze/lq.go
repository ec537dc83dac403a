package analyze

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/gonum"
)

var lapackImpl gonum.Implementation

// lq is the LQ factorization x = L·Q of a wide matrix x (k×n) kept in
// LAPACK's compact form: L in the lower trapezoid of a, the Householder
// vectors to the right of it, their scalars in tau. Q is the first
// k' = min(k, n) rows of an n×n orthogonal matrix.
//
// LoRA factors are stored row-major as A (r×in) and Bᵀ is r×out, so every
// Householder vector is a contiguous row: LQ of A is the QR of Aᵀ without
// the strided column access that makes row-major QR slow.
type lq struct {
	a   blas64.General // (k, n), compact
	tau []float64      // (k')
}

// newLQ factors x (k×n, compact), overwriting it.
func newLQ(x blas64.General) *lq {
	if x.Stride != max(x.Cols, 1) {
		panic("analyze: newLQ needs a compact matrix")
	}
	f := &lq{a: x, tau: make([]float64, min(x.Rows, x.Cols))}
	if len(f.tau) == 0 {
		return f
	}
	work := []float64{0}
	lapackImpl.Dgelqf(x.Rows, x.Cols, x.Data, x.Stride, f.tau, work, -1)
	work = make([]float64, int(work[0]))
	lapackImpl.Dgelqf(x.Rows, x.Cols, x.Data, x.Stride, f.tau, work, len(work))
	return f
}

// lower returns L (k×k'), lower trapezoidal.
func (f *lq) lower() blas64.General {
	k, kk := f.a.Rows, len(f.tau)
	l := blas64.General{Rows: k, Cols: kk, Stride: max(kk, 1), Data: make([]float64, k*kk)}
	for i := range k {
		copy(l.Data[i*l.Stride:i*l.Stride+min(i+1, kk)], f.a.Data[i*f.a.Stride:])
	}
	return l
}

// rows returns cᵀ·Q (p×n) for c (k'×p): the transposed columns of the
// basis Qᵀ·c, by blocked dormlq on [cᵀ 0].
func (f *lq) rows(c blas64.General) blas64.General {
	n, kk, p := f.a.Cols, len(f.tau), c.Cols
	out := blas64.General{Rows: p, Cols: n, Stride: n, Data: make([]float64, p*n)}
	for i := range kk {
		for j := range p {
			out.Data[j*n+i] = c.Data[i*c.Stride+j]
		}
	}
	f.apply(blas.NoTrans, out)
	return out
}

// project returns x·Qᵀ (p×k') for x (p×n): the coordinates of x's rows in
// the basis of Q's rows.
func (f *lq) project(x blas64.General) blas64.General {
	n, kk, p := f.a.Cols, len(f.tau), x.Rows
	y := blas64.General{Rows: p, Cols: n, Stride: n, Data: make([]float64, p*n)}
	for i := range p {
		copy(y.Data[i*n:(i+1)*n], x.Data[i*x.Stride:i*x.Stride+n])
	}
	f.apply(blas.Trans, y)
	out := blas64.General{Rows: p, Cols: kk, Stride: max(kk, 1), Data: make([]float64, p*kk)}
	for i := range p {
		copy(out.Data[i*out.Stride:(i+1)*out.Stride], y.Data[i*n:i*n+kk])
	}
	return out
}

// apply overwrites c (p×n) with c·Q_full (NoTrans) or c·Q_fullᵀ (Trans).
func (f *lq) apply(trans blas.Transpose, c blas64.General) {
	kk := len(f.tau)
	if kk == 0 || c.Rows == 0 {
		return
	}
	work := []float64{0}
	lapackImpl.Dormlq(blas.Right, trans, c.Rows, c.Cols, kk, f.a.Data, f.a.Stride, f.tau, c.Data, c.Stride, work, -1)
	work = make([]float64, int(work[0]))
	lapackImpl.Dormlq(blas.Right, trans, c.Rows, c.Cols, kk, f.a.Data, f.a.Stride, f.tau, c.Data, c.Stride, work, len(work))
}
