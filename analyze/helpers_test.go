package analyze

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// newRNG returns a deterministic generator for test data.
func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// randn returns a rows×cols matrix of standard normals.
func randn(rng *rand.Rand, rows, cols int) *mat.Dense { return gaussian(rng, rows, cols) }

// orthoCols returns n×k orthonormal columns, computed with gonum's dense QR
// (an independent path from the package's thinQR).
func orthoCols(t testing.TB, rng *rand.Rand, n, k int) *mat.Dense {
	t.Helper()
	var qr mat.QR
	qr.Factorize(randn(rng, n, k))
	var q mat.Dense
	qr.QTo(&q)
	return mat.DenseCopyOf(q.Slice(0, n, 0, k))
}

// planted returns a module whose ΔW = U·diag(sv)·Vᵀ exactly, with U (out×r)
// and V (in×r) orthonormal, B = U·diag(sv), A = Vᵀ, scale 1.
func planted(t testing.TB, rng *rand.Rand, name string, out, in int, sv []float64) Module {
	t.Helper()
	r := len(sv)
	u := orthoCols(t, rng, out, r)
	v := orthoCols(t, rng, in, r)
	b := mat.NewDense(out, r, nil)
	for i := range out {
		for j := range r {
			b.Set(i, j, u.At(i, j)*sv[j])
		}
	}
	return Module{Name: name, A: mat.DenseCopyOf(v.T()), B: b, Alpha: float64(r), Scale: 1}
}

// denseDelta forms ΔW = s·B·A explicitly (the reference path).
func denseDelta(m Module) *mat.Dense {
	var d mat.Dense
	d.Mul(m.B, m.A)
	d.Scale(m.Scale, &d)
	return &d
}

// denseSVD is gonum's full SVD of x: values and thin U, V.
func denseSVD(t testing.TB, x mat.Matrix) (sv []float64, u, v *mat.Dense) {
	t.Helper()
	var s mat.SVD
	if !s.Factorize(x, mat.SVDThin) {
		t.Fatal("dense SVD failed")
	}
	u, v = new(mat.Dense), new(mat.Dense)
	s.UTo(u)
	s.VTo(v)
	return s.Values(nil), u, v
}
