package merge

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/lorakit/lorakit/format"
)

// orthonormalize replaces the columns of x (each of the same length) by an
// orthonormal basis of their span and returns R (n, n, row-major) with
// x = Q·R: classical Gram–Schmidt applied twice ("CGS2"), which is as
// accurate as Householder QR for the thin, well-scaled blocks used here.
// Columns that are (numerically) dependent on earlier ones become zero,
// with a zero on R's diagonal.
func orthonormalize(x [][]float64) []float64 {
	n := len(x)
	r := make([]float64, n*n)
	for j := range n {
		v := x[j]
		orig := norm2(v)
		for range 2 {
			for i := range j {
				d := dot(x[i], v)
				r[i*n+j] += d
				for t := range v {
					v[t] -= d * x[i][t]
				}
			}
		}
		nv := norm2(v)
		if nv <= 1e-12*orig || nv == 0 {
			clear(v)
			continue
		}
		r[j*n+j] = nv
		for t := range v {
			v[t] /= nv
		}
	}
	return r
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func norm2(a []float64) float64 { return math.Sqrt(dot(a, a)) }

// factors is a truncated SVD M ≈ U·diag(S)·Vᵀ with U (m, k) and V (n, k)
// stored column by column.
type factors struct {
	U, V [][]float64
	S    []float64
}

// lowRankSVD returns the SVD of M = Σ_k left_k·right_kᵀ (left_k of length
// m, right_k of length n) without forming M: QR of both sides, then the
// SVD of the small core R_L·R_Rᵀ, so the cost is O((m+n)·K²) for K terms
// (DESIGN idea 5). The inputs are overwritten.
func lowRankSVD(left, right [][]float64) (*factors, error) {
	k := len(left)
	rl := orthonormalize(left)
	rr := orthonormalize(right)
	core := mat.NewDense(k, k, nil)
	for i := range k {
		for j := range k {
			var s float64
			for t := range k {
				s += rl[i*k+t] * rr[j*k+t]
			}
			core.Set(i, j, s)
		}
	}
	var svd mat.SVD
	if !svd.Factorize(core, mat.SVDThin) {
		return nil, fmt.Errorf("SVD of a %d×%d core did not converge: %w", k, k, format.ErrUnsupported)
	}
	var uc, vc mat.Dense
	svd.UTo(&uc)
	svd.VTo(&vc)
	f := &factors{S: svd.Values(nil), U: rotate(left, &uc), V: rotate(right, &vc)}
	return f, nil
}

// rotate returns the columns of Q·C for Q given by columns and C (k, k).
func rotate(q [][]float64, c *mat.Dense) [][]float64 {
	k := len(q)
	m := 0
	if k > 0 {
		m = len(q[0])
	}
	out := make([][]float64, k)
	for j := range k {
		col := make([]float64, m)
		for t := range k {
			if w := c.At(t, j); w != 0 {
				for i, v := range q[t] {
					col[i] += w * v
				}
			}
		}
		out[j] = col
	}
	return out
}

// toModuleFactors turns a truncated SVD into LoRA factors of rank r (zero
// padded when fewer singular triplets exist), splitting S between B and A
// by the exponents pb + pa = 1: B = U·S^pb (out, r), A = S^pa·Vᵀ (r, in).
func toModuleFactors(f *factors, r, out, in int, pb float64) (bm, am []float32) {
	bm = make([]float32, out*r)
	am = make([]float32, r*in)
	for k := range min(r, len(f.S)) {
		sb, sa := math.Pow(f.S[k], pb), math.Pow(f.S[k], 1-pb)
		for i := range out {
			bm[i*r+k] = float32(f.U[k][i] * sb)
		}
		for j := range in {
			am[k*in+j] = float32(f.V[k][j] * sa)
		}
	}
	return bm, am
}
