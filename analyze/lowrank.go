package analyze

import (
	"fmt"
	"math"

	"github.com/lorakit/lorakit/format"
	"gonum.org/v1/gonum/blas/blas64"
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
// ΔW = Scale·B·A without forming ΔW: LQ factorizations Bᵀ = L₁Q₁ and
// A = L₂Q₂ (the thin QRs of B and Aᵀ), then the SVD of the small core
// Scale·L₁ᵀL₂ = u·Σ·vᵀ, so that ΔW = (Q₁ᵀu)·Σ·(Q₂ᵀv)ᵀ. Cost
// O((out+in)·r²); k = min(out, in, r) values.
func LowRank(m Module) (*Factors, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	c, err := factorProduct(m.B.T(), m.A, m.Scale, mat.SVDThin)
	if err != nil {
		return nil, fmt.Errorf("analyze: module %q: %w", m.Name, err)
	}
	return &Factors{Values: c.values, U: c.left.dense(), V: c.right.dense()}, nil
}

// RightSingular returns the right-singular vectors of a (r×in) as the
// columns of an in×min(r, in) matrix, sorted by singular value: the U_A of
// the paper's subspace similarity.
func RightSingular(a mat.Matrix) (*mat.Dense, error) {
	b, err := rightBasis(a)
	if err != nil {
		return nil, err
	}
	return b.dense(), nil
}

// LeftSingular returns the left-singular vectors of b (out×r) as the
// columns of an out×min(out, r) matrix, sorted by singular value.
func LeftSingular(b mat.Matrix) (*mat.Dense, error) {
	l, err := leftBasis(b)
	if err != nil {
		return nil, err
	}
	return l.dense(), nil
}

// rightBasis is RightSingular kept implicit: a = I·a, one LQ of a.
func rightBasis(a mat.Matrix) (basis, error) {
	r, _ := a.Dims()
	p, err := factorProduct(identity(r), a, 1, mat.SVDThinV)
	if err != nil {
		return basis{}, err
	}
	return p.right, nil
}

// leftBasis is LeftSingular kept implicit: b = b·I, one LQ of bᵀ.
func leftBasis(b mat.Matrix) (basis, error) {
	_, r := b.Dims()
	p, err := factorProduct(b.T(), identity(r), 1, mat.SVDThinU)
	if err != nil {
		return basis{}, err
	}
	return p.left, nil
}

// basis is a set of orthonormal columns Qᵀ·coef kept implicit: Q (k'×n) is
// the orthonormal factor of an LQ factorization, coef is k'×c.
type basis struct {
	f    *lq
	coef blas64.General
}

// cols is the number of columns c.
func (b basis) cols() int { return b.coef.Cols }

// dense forms the n×c columns explicitly, in O(n·k'·c).
func (b basis) dense() *mat.Dense {
	var d mat.Dense
	d.SetRawMatrix(transposeRaw(b.f.rows(b.coef)))
	return &d
}

// cross returns b1ᵀ·b2 (c₁×c₂) for two bases of the same space ℝⁿ without
// forming the larger one: the smaller is formed as rows (c×n), projected on
// the other's Q by its reflectors (O(n·k'·c)), and multiplied by the
// other's coef.
func cross(b1, b2 basis) *mat.Dense {
	small, big, swap := b1, b2, false
	if b1.cols() > b2.cols() {
		small, big, swap = b2, b1, true
	}
	var p, coef, m mat.Dense
	p.SetRawMatrix(big.f.project(small.f.rows(small.coef))) // (c_small, k'_big)
	coef.SetRawMatrix(big.coef)                             // (k'_big, c_big)
	if swap {
		m.Mul(coef.T(), p.T()) // (c1, c2)
	} else {
		m.Mul(&p, &coef) // (c1, c2)
	}
	return &m
}

// product is the thin SVD of s·Xᵀ·Y with the singular vectors implicit.
type product struct {
	values      []float64
	left, right basis
}

// factorProduct computes the thin SVD of s·Xᵀ·Y for X (r×m) and Y (r×n):
// X = L₁Q₁, Y = L₂Q₂ (LQ), core s·L₁ᵀL₂ (k₁×k₂) = u·Σ·vᵀ, left vectors
// Q₁ᵀu (m×k), right vectors Q₂ᵀv (n×k), k = min(k₁, k₂). The singular
// values cost O((m+n)·r²); forming vectors costs as much again. kind says
// which of u and v to compute (mat.SVDNone, SVDThinU, SVDThinV or both);
// a basis whose vectors were not asked for is left empty.
func factorProduct(x, y mat.Matrix, s float64, kind mat.SVDKind) (*product, error) {
	r1, _ := x.Dims()
	r2, _ := y.Dims()
	if r1 != r2 {
		return nil, fmt.Errorf("inner dimensions %d and %d differ: %w", r1, r2, format.ErrShape)
	}
	// Both factors are divided by their largest |element| before the LQ
	// and the singular values multiplied back by |s|·m₁·m₂ at the end, so
	// no intermediate overflows (or underflows to zero) where the result
	// would not.
	xr, yr := rawCopy(x), rawCopy(y)
	m1, m2 := normalize(xr.Data), normalize(yr.Data)
	f1, f2 := newLQ(xr), newLQ(yr)
	var l1, l2, core mat.Dense
	l1.SetRawMatrix(f1.lower())
	l2.SetRawMatrix(f2.lower())
	core.Mul(l1.T(), &l2) // (k1, k2)
	if !finite(core.RawMatrix().Data...) {
		return nil, fmt.Errorf("ΔW exceeds the float64 range: %w", format.ErrFormat)
	}

	var svd mat.SVD
	if !svd.Factorize(&core, kind) {
		k1, k2 := core.Dims()
		return nil, fmt.Errorf("SVD of the %d×%d core did not converge: %w", k1, k2, format.ErrUnsupported)
	}
	var u, v mat.Dense
	if kind&mat.SVDThinU != 0 {
		svd.UTo(&u)
	}
	if kind&mat.SVDThinV != 0 {
		svd.VTo(&v)
	}
	values := svd.Values(nil)
	for i := range values {
		values[i] *= math.Abs(s) * m1 * m2
	}
	if s < 0 && !u.IsEmpty() {
		u.Scale(-1, &u) // s·u·Σ·vᵀ = (−u)·|s|Σ·vᵀ
	}
	if !finite(values...) {
		return nil, fmt.Errorf("ΔW exceeds the float64 range: %w", format.ErrFormat)
	}
	return &product{
		values: values,
		left:   basis{f: f1, coef: u.RawMatrix()},
		right:  basis{f: f2, coef: v.RawMatrix()},
	}, nil
}

// normalize divides data by its largest |element| and returns that (data
// must be finite; an all-zero slice is left as it is and 0 returned).
func normalize(data []float64) float64 {
	var m float64
	for _, v := range data {
		m = max(m, math.Abs(v))
	}
	if m > 0 {
		for i := range data {
			data[i] /= m
		}
	}
	return m
}

// thinQR returns the m×k orthonormal factor Q of x (m×n), k = min(m, n),
// as the transposed Q of the LQ factorization of xᵀ.
func thinQR(x mat.Matrix) *mat.Dense {
	f := newLQ(rawCopy(x.T()))
	return basis{f: f, coef: identity(len(f.tau)).RawMatrix()}.dense()
}

// identity returns the n×n identity matrix.
func identity(n int) *mat.Dense {
	id := mat.NewDense(n, n, nil)
	for i := range n {
		id.Set(i, i, 1)
	}
	return id
}
