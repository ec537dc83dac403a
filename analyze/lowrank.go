package analyze

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// Factors is a thin singular value decomposition M = U·diag(Values)·Vᵀ.
type Factors struct {
	// Values are the singular values, non-increasing, k of them.
	Values []float64
	// U holds the left singular vectors as columns, rows×k.
	U *mat.Dense
	// V holds the right singular vectors as columns, cols×k.
	V *mat.Dense
}

// LowRank returns the singular value decomposition of m's update
// ΔW = Scale·B·A without forming ΔW: thin QR factorizations B = Q₁R₁ and
// Aᵀ = Q₂R₂, then the SVD of the small core Scale·R₁R₂ᵀ = u·Σ·vᵀ, so that
// ΔW = (Q₁u)·Σ·(Q₂v)ᵀ. Cost O((out+in)·r²); k = min(out, in, r) values.
func LowRank(m Module) (*Factors, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	f, err := productSVD(m.B, m.A.T(), m.Scale)
	if err != nil {
		return nil, fmt.Errorf("analyze: module %q: %w", m.Name, err)
	}
	return f, nil
}

// RightSingular returns the right-singular vectors of a (r×in) as the
// columns of an in×min(r, in) matrix, sorted by singular value: the U_A of
// the paper's subspace similarity.
func RightSingular(a mat.Matrix) (*mat.Dense, error) {
	r, _ := a.Dims()
	f, err := productSVD(identity(r), a.T(), 1)
	if err != nil {
		return nil, err
	}
	return f.V, nil
}

// LeftSingular returns the left-singular vectors of b (out×r) as the
// columns of an out×min(out, r) matrix, sorted by singular value.
func LeftSingular(b mat.Matrix) (*mat.Dense, error) {
	_, r := b.Dims()
	f, err := productSVD(b, identity(r), 1)
	if err != nil {
		return nil, err
	}
	return f.U, nil
}

// productSVD computes the thin SVD of s·L·Rtᵀ for L (m×r) and Rt (n×r):
// L = Q₁R₁ (Q₁ m×k₁), Rt = Q₂R₂ (Q₂ n×k₂), core s·R₁R₂ᵀ (k₁×k₂) = u·Σ·vᵀ,
// U = Q₁u (m×k), V = Q₂v (n×k), k = min(k₁, k₂).
func productSVD(l, rt mat.Matrix, s float64) (*Factors, error) {
	_, r1 := l.Dims()
	_, r2 := rt.Dims()
	if r1 != r2 {
		return nil, fmt.Errorf("inner dimensions %d and %d differ: %w", r1, r2, format.ErrShape)
	}
	q1, rr1 := thinQR(l)
	q2, rr2 := thinQR(rt)

	var core mat.Dense
	core.Mul(rr1, rr2.T())
	core.Scale(s, &core)

	var svd mat.SVD
	if !svd.Factorize(&core, mat.SVDThin) {
		return nil, fmt.Errorf("SVD of the %d×%d core did not converge: %w", r1, r2, format.ErrUnsupported)
	}
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)

	f := &Factors{Values: svd.Values(nil), U: new(mat.Dense), V: new(mat.Dense)}
	f.U.Mul(q1, &u)
	f.V.Mul(q2, &v)
	return f, nil
}

// thinQR factors x (m×n) as Q·R with Q m×k orthonormal columns and R k×n
// upper trapezoidal, k = min(m, n), by Householder reflections (LAPACK
// dgeqrf and dorgqr), so Q is never formed beyond its k columns.
func thinQR(x mat.Matrix) (q, r *mat.Dense) {
	m, n := x.Dims()
	k := min(m, n)
	a := mat.DenseCopyOf(x)
	raw := a.RawMatrix()
	tau := make([]float64, k)

	work := []float64{0}
	lapack64.Geqrf(raw, tau, work, -1)
	work = make([]float64, max(int(work[0]), n, 1))
	lapack64.Geqrf(raw, tau, work, len(work))

	r = mat.NewDense(k, n, nil)
	for i := range k {
		for j := i; j < n; j++ {
			r.Set(i, j, raw.Data[i*raw.Stride+j])
		}
	}

	qraw := blas64.General{Rows: m, Cols: k, Stride: raw.Stride, Data: raw.Data}
	work = []float64{0}
	lapack64.Orgqr(qraw, tau, work, -1)
	work = make([]float64, max(int(work[0]), k, 1))
	lapack64.Orgqr(qraw, tau, work, len(work))

	q = mat.NewDense(m, k, nil)
	q.Copy(a.Slice(0, m, 0, k))
	return q, r
}

// identity returns the n×n identity matrix.
func identity(n int) *mat.Dense {
	id := mat.NewDense(n, n, nil)
	for i := range n {
		id.Set(i, i, 1)
	}
	return id
}
