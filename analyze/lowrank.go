package analyze

import (
	"fmt"

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
// ΔW = Scale·B·A without forming ΔW: thin QR factorizations B = Q₁R₁ and
// Aᵀ = Q₂R₂, then the SVD of the small core Scale·R₁R₂ᵀ = u·Σ·vᵀ, so that
// ΔW = (Q₁u)·Σ·(Q₂v)ᵀ. Cost O((out+in)·r²); k = min(out, in, r) values.
func LowRank(m Module) (*Factors, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	c, err := factorProduct(m.B, m.A.T(), m.Scale)
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

// rightBasis is RightSingular kept implicit: a = I·aᵀᵀ, one QR of aᵀ.
func rightBasis(a mat.Matrix) (basis, error) {
	r, _ := a.Dims()
	p, err := factorProduct(identity(r), a.T(), 1)
	if err != nil {
		return basis{}, err
	}
	return p.right, nil
}

// leftBasis is LeftSingular kept implicit: b = b·I, one QR of b.
func leftBasis(b mat.Matrix) (basis, error) {
	_, r := b.Dims()
	p, err := factorProduct(b, identity(r), 1)
	if err != nil {
		return basis{}, err
	}
	return p.left, nil
}

// basis is a set of orthonormal columns Q·[coef; 0] kept implicit: Q is the
// thin factor of a Householder QR (n×k), coef is k×c.
type basis struct {
	h    *householder
	coef blas64.General
}

// dense forms the n×c columns explicitly, in O(n·k·c).
func (b basis) dense() *mat.Dense {
	var d mat.Dense
	d.SetRawMatrix(b.h.mulQ(b.coef))
	return &d
}

// cols is the number of columns c.
func (b basis) cols() int { return b.coef.Cols }

// cross returns b1ᵀ·b2 (c₁×c₂) for two bases of the same space ℝⁿ without
// forming the larger one: the smaller is formed (n×c), its coordinates in
// the other's Q are found by applying that Q's reflectors (O(n·k·c)), and
// multiplied by the other's coef.
func cross(b1, b2 basis) *mat.Dense {
	small, big, swap := b1, b2, false
	if b1.cols() > b2.cols() {
		small, big, swap = b2, b1, true
	}
	var y, coef, m mat.Dense
	y.SetRawMatrix(big.h.mulQT(small.h.mulQ(small.coef))) // (k_big, c_small)
	coef.SetRawMatrix(big.coef)                           // (k_big, c_big)
	if swap {
		m.Mul(coef.T(), &y) // (c1, c2)
	} else {
		m.Mul(y.T(), &coef) // (c1, c2)
	}
	return &m
}

// product is the thin SVD of s·L·Rtᵀ with the singular vectors implicit.
type product struct {
	values      []float64
	left, right basis
}

// factorProduct computes the thin SVD of s·L·Rtᵀ for L (m×r) and Rt (n×r):
// L = Q₁R₁ (Q₁ m×k₁), Rt = Q₂R₂ (Q₂ n×k₂), core s·R₁R₂ᵀ (k₁×k₂) = u·Σ·vᵀ,
// left vectors Q₁u (m×k), right vectors Q₂v (n×k), k = min(k₁, k₂). The
// singular values cost O((m+n)·r²); forming vectors costs as much again.
func factorProduct(l, rt mat.Matrix, s float64) (*product, error) {
	_, r1 := l.Dims()
	_, r2 := rt.Dims()
	if r1 != r2 {
		return nil, fmt.Errorf("inner dimensions %d and %d differ: %w", r1, r2, format.ErrShape)
	}
	h1 := newHouseholder(rawCopy(l))
	h2 := newHouseholder(rawCopy(rt))
	var r1m, r2m, core mat.Dense
	r1m.SetRawMatrix(h1.r())
	r2m.SetRawMatrix(h2.r())
	core.Mul(&r1m, r2m.T()) // (k1, k2)
	core.Scale(s, &core)

	var svd mat.SVD
	if !svd.Factorize(&core, mat.SVDThin) {
		k1, k2 := core.Dims()
		return nil, fmt.Errorf("SVD of the %d×%d core did not converge: %w", k1, k2, format.ErrUnsupported)
	}
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	return &product{
		values: svd.Values(nil),
		left:   basis{h: h1, coef: u.RawMatrix()},
		right:  basis{h: h2, coef: v.RawMatrix()},
	}, nil
}

// rawCopy returns x as a fresh compact row-major matrix. The transpose of
// a *mat.Dense (the common case, Aᵀ) is copied in cache-sized tiles.
func rawCopy(x mat.Matrix) blas64.General {
	if t, ok := x.(mat.Transpose); ok {
		if d, ok := t.Matrix.(*mat.Dense); ok {
			return transposeRaw(d.RawMatrix())
		}
	}
	return mat.DenseCopyOf(x).RawMatrix()
}

// transposeRaw returns the compact transpose of s (m×n) -> (n×m).
func transposeRaw(s blas64.General) blas64.General {
	const tile = 32
	m, n := s.Rows, s.Cols
	t := blas64.General{Rows: n, Cols: m, Stride: max(m, 1), Data: make([]float64, m*n)}
	for i0 := 0; i0 < m; i0 += tile {
		for j0 := 0; j0 < n; j0 += tile {
			for i := i0; i < min(i0+tile, m); i++ {
				row := s.Data[i*s.Stride:]
				for j := j0; j < min(j0+tile, n); j++ {
					t.Data[j*t.Stride+i] = row[j]
				}
			}
		}
	}
	return t
}

// thinQR returns the m×k orthonormal factor Q of x (m×n), k = min(m, n).
func thinQR(x mat.Matrix) *mat.Dense {
	h := newHouseholder(rawCopy(x))
	return basis{h: h, coef: identity(len(h.tau)).RawMatrix()}.dense()
}

// identity returns the n×n identity matrix.
func identity(n int) *mat.Dense {
	id := mat.NewDense(n, n, nil)
	for i := range n {
		id.Set(i, i, 1)
	}
	return id
}
