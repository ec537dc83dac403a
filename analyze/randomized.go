package analyze

import (
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Defaults of the randomized top-r SVD of a base weight (see ritzValues).
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

// ritzValues returns estimates of the top-r singular values of W (out×in,
// swept by w)
// by randomized subspace iteration (Halko, Martinsson & Tropp 2011,
// Algorithms 4.4 and 5.1): q = orth(w·ω), then iters rounds of
// q = orth(w·orth(wᵀ·q)), then the singular values of the small matrix
// qᵀw (k×in). y0 = w·ω (out×k) is passed in so the caller can fuse that
// first product with others. Cost 2·iters+1 more passes over w, each a
// product with k columns.
//
// With qᵀw = u·Σ·vᵀ, the vectors U = q·u and V = v satisfy UᵀwV = Σ
// exactly, so ‖U_rᵀ w V_r‖_F is the norm of the returned values: the
// vectors never need forming.
func ritzValues(w *pass, y0 *mat.Dense, r, iters int) ([]float64, error) {
	q := thinQR(y0)
	for range iters {
		z, err := w.mulWT(q) // (in, k)
		if err != nil {
			return nil, err
		}
		y, err := w.mulW(thinQR(z)) // (out, k)
		if err != nil {
			return nil, err
		}
		q = thinQR(y)
	}
	bt, err := w.mulWT(q) // (in, k) = (qᵀw)ᵀ
	if err != nil {
		return nil, err
	}

	_, k := q.Dims()
	f, err := factorProduct(identity(k), bt.T(), 1, mat.SVDNone)
	if err != nil {
		return nil, err
	}
	return f.values[:min(r, len(f.values))], nil
}

// randomOrthonormal returns n×k orthonormal columns spanning a uniformly
// random subspace (QR of a Gaussian matrix): the singular vectors of a
// random matrix.
func randomOrthonormal(rng *rand.Rand, n, k int) *mat.Dense {
	return thinQR(gaussian(rng, n, k))
}
