package analyze

import (
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Defaults of the randomized top-r SVD of a base weight.
const (
	// DefaultOversample is the least number of extra random directions
	// beyond r (Halko, Martinsson & Tropp 2011, §4); the default is
	// max(DefaultOversample, r).
	DefaultOversample = 10
	// DefaultPowerIters rounds of subspace iteration. Measured on 512×512
	// matrices with k = 2r: ‖Σ_r‖ comes within 0.02% (σ_i = i^-0.5, r = 16),
	// 0.35% (σ_i = i^-0.3) and 0.6% (four spikes on a flat bulk) below the
	// truth; each further round costs two products with W.
	DefaultPowerIters = 2
)

// topSingular returns the top-r singular values and vectors of w (out×in)
// by randomized subspace iteration (Halko, Martinsson & Tropp 2011,
// Algorithms 4.4 and 5.1): q = orth(w·ω), then iters rounds of
// q = orth(w·orth(wᵀ·q)), then the SVD of the small matrix qᵀw.
// y0 = w·ω (out×k) is passed in so the caller can fuse that first product
// with others. Cost (2·iters+2) products of w with k = r+oversample columns.
func topSingular(w *mat.Dense, y0 *mat.Dense, r, iters int) (*Factors, error) {
	q, _ := thinQR(y0)
	for range iters {
		var z, y mat.Dense
		z.Mul(w.T(), q) // (in, k)
		zq, _ := thinQR(&z)
		y.Mul(w, zq) // (out, k)
		q, _ = thinQR(&y)
	}
	var bt mat.Dense
	bt.Mul(w.T(), q) // (in, k): bᵀ where b = qᵀw

	_, k := q.Dims()
	f, err := productSVD(identity(k), &bt, 1) // b = u Σ vᵀ
	if err != nil {
		return nil, err
	}
	r = min(r, len(f.Values))
	u := new(mat.Dense)
	u.Mul(q, f.U.Slice(0, k, 0, r)) // w ≈ (q u) Σ vᵀ
	return &Factors{
		Values: f.Values[:r],
		U:      u,
		V:      mat.DenseCopyOf(f.V.Slice(0, f.V.RawMatrix().Rows, 0, r)),
	}, nil
}

// randomOrthonormal returns n×k orthonormal columns spanning a uniformly
// random subspace (QR of a Gaussian matrix): the singular vectors of a
// random matrix.
func randomOrthonormal(rng *rand.Rand, n, k int) *mat.Dense {
	q, _ := thinQR(gaussian(rng, n, k))
	return q
}
