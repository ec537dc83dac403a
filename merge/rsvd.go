package merge

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/mat"

	"github.com/lorakit/lorakit/format"
)

// svdOptions control truncatedSVD.
type svdOptions struct {
	oversample int    // extra sketch columns (Halko et al.: 5-10)
	powerIters int    // subspace iterations, for slowly decaying spectra
	seed       uint64 // the Gaussian sketch
}

// truncatedSVD returns the leading k singular triplets of d (rows, cols,
// row-major float32). Small matrices get an exact SVD (gonum, float64);
// large ones the randomized range finder of Halko, Martinsson & Tropp
// (2011) with power iterations: Q = orth((D·Dᵀ)^q·D·Ω), then the SVD of the
// small QᵀD through a QR of DᵀQ. The matrix products run in gonum's
// float32 GEMM on all cores:
//
//	D (rows, cols), Ω (cols, k+p) -> Y (rows, k+p) -> U (rows, k), S (k), V (cols, k)
func truncatedSVD(d []float32, rows, cols, k int, opt svdOptions) (*factors, error) {
	l := min(k+opt.oversample, rows, cols)
	if min(rows, cols) <= 2*l || min(rows, cols) <= 64 {
		return denseSVD(d, rows, cols, k)
	}
	D := blas32.General{Rows: rows, Cols: cols, Stride: cols, Data: d}
	rng := rand.New(rand.NewPCG(opt.seed, opt.seed^0x5851f42d4c957f2d))
	omega := blas32.General{Rows: cols, Cols: l, Stride: l, Data: make([]float32, cols*l)}
	for i := range omega.Data {
		omega.Data[i] = float32(rng.NormFloat64())
	}
	y := blas32.General{Rows: rows, Cols: l, Stride: l, Data: make([]float32, rows*l)}
	z := blas32.General{Rows: cols, Cols: l, Stride: l, Data: make([]float32, cols*l)}
	blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, D, omega, 0, y)
	orthRows(y)
	for range opt.powerIters {
		blas32.Gemm(blas.Trans, blas.NoTrans, 1, D, y, 0, z) // Z = Dᵀ Q
		orthRows(z)
		blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, D, z, 0, y) // Y = D Z
		orthRows(y)
	}
	blas32.Gemm(blas.Trans, blas.NoTrans, 1, D, y, 0, z) // Z = Dᵀ Q = (QᵀD)ᵀ
	// Z = Q3·R3, so QᵀD = R3ᵀ·Q3ᵀ; SVD R3ᵀ = Uc·S·Vcᵀ gives
	// D ≈ (Q·Uc)·S·(Q3·Vc)ᵀ.
	q3 := columns(z)
	r3 := orthonormalize(q3)
	core := mat.NewDense(l, l, nil)
	for i := range l {
		for j := range l {
			core.Set(i, j, r3[j*l+i])
		}
	}
	var svd mat.SVD
	if !svd.Factorize(core, mat.SVDThin) {
		return nil, fmt.Errorf("SVD of the %d×%d sketch did not converge: %w", l, l, format.ErrUnsupported)
	}
	var uc, vc mat.Dense
	svd.UTo(&uc)
	svd.VTo(&vc)
	f := &factors{S: svd.Values(nil), U: rotate(columns(y), &uc), V: rotate(q3, &vc)}
	return f.truncate(k), nil
}

// truncate keeps the first k triplets.
func (f *factors) truncate(k int) *factors {
	k = min(k, len(f.S))
	return &factors{U: f.U[:k], V: f.V[:k], S: f.S[:k]}
}

// denseSVD is the exact SVD (float64) for matrices small enough.
func denseSVD(d []float32, rows, cols, k int) (*factors, error) {
	m := mat.NewDense(rows, cols, nil)
	for i := range rows {
		for j := range cols {
			m.Set(i, j, float64(d[i*cols+j]))
		}
	}
	var svd mat.SVD
	if !svd.Factorize(m, mat.SVDThin) {
		return nil, fmt.Errorf("SVD of a %d×%d matrix did not converge: %w", rows, cols, format.ErrUnsupported)
	}
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	s := svd.Values(nil)
	f := &factors{S: s, U: make([][]float64, len(s)), V: make([][]float64, len(s))}
	for t := range s {
		f.U[t] = mat.Col(nil, t, &u)
		f.V[t] = mat.Col(nil, t, &v)
	}
	return f.truncate(k), nil
}

// columns copies a row-major float32 matrix into float64 columns.
func columns(g blas32.General) [][]float64 {
	out := make([][]float64, g.Cols)
	for j := range out {
		col := make([]float64, g.Rows)
		for i := range col {
			col[i] = float64(g.Data[i*g.Stride+j])
		}
		out[j] = col
	}
	return out
}

// orthRows orthonormalizes the columns of g in place (through float64).
func orthRows(g blas32.General) {
	cols := columns(g)
	orthonormalize(cols)
	for j, col := range cols {
		for i, v := range col {
			g.Data[i*g.Stride+j] = float32(v)
		}
	}
}

// sumSquares returns Σ x² in float64.
func sumSquares(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s
}

// rankForEnergy is the smallest k whose leading singular values hold at
// least share of the total energy total = ‖D‖²_F (len(s) if none does).
func rankForEnergy(s []float64, total, share float64) int {
	var acc float64
	for k, v := range s {
		acc += v * v
		if acc >= share*total*(1-1e-12) {
			return k + 1
		}
	}
	return max(1, len(s))
}

// keptEnergy returns Σ_{i<k} s_i² / total and the relative Frobenius error
// of the rank-k truncation, √(1 − that share).
func keptEnergy(s []float64, k int, total float64) (share, relErr float64) {
	if total == 0 {
		return 1, 0
	}
	var acc float64
	for _, v := range s[:k] {
		acc += v * v
	}
	share = min(1, acc/total)
	return share, math.Sqrt(max(0, 1-share))
}
