package analyze

import (
	"errors"
	"math"
	"testing"

	"github.com/lorakit/lorakit/format"
	"gonum.org/v1/gonum/mat"
)

// Tolerances against gonum's dense SVD of the explicitly formed ΔW.
const (
	// svTol: the acceptance bound on singular values (relative).
	svTol = 1e-10
	// vecTol: singular vectors of random matrices (gaps of order 0.1·σ₁)
	// agree to |⟨u, u'⟩| = 1 within a few ε/gap.
	vecTol = 1e-9
)

func TestLowRankMatchesDenseSVD(t *testing.T) {
	cases := []struct {
		name       string
		out, in, r int
		scale      float64
	}{
		{"square", 40, 40, 6, 2},
		{"wide", 20, 70, 5, 0.5},
		{"tall", 90, 30, 8, 1},
		{"negative scale", 33, 47, 4, -1.5},
		{"rank above out", 5, 30, 8, 1},
		{"rank above in", 30, 6, 8, 1},
		{"rank one", 25, 17, 1, 3},
	}
	rng := newRNG(1)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := Module{Name: c.name, A: randn(rng, c.r, c.in), B: randn(rng, c.out, c.r), Scale: c.scale}
			f, err := LowRank(m)
			if err != nil {
				t.Fatalf("LowRank: %v", err)
			}
			want, wu, wv := denseSVD(t, denseDelta(m))
			k := min(c.out, c.in, c.r)
			if len(f.Values) != k {
				t.Fatalf("LowRank(%s) gave %d values, want %d", c.name, len(f.Values), k)
			}
			for i := range k {
				if d := math.Abs(f.Values[i] - want[i]); d > svTol*want[i] {
					t.Errorf("σ_%d = %.17g, want %.17g (rel err %.2g)", i+1, f.Values[i], want[i], d/want[i])
				}
				du := math.Abs(mat.Dot(f.U.ColView(i), wu.ColView(i)))
				dv := math.Abs(mat.Dot(f.V.ColView(i), wv.ColView(i)))
				if math.Abs(du-1) > vecTol || math.Abs(dv-1) > vecTol {
					t.Errorf("vector %d: |⟨u,u'⟩| = %.15f, |⟨v,v'⟩| = %.15f, want 1", i+1, du, dv)
				}
			}
			// The factors reproduce ΔW.
			var us, rec mat.Dense
			us.Mul(f.U, mat.NewDiagDense(k, f.Values))
			rec.Mul(&us, f.V.T())
			if !mat.EqualApprox(&rec, denseDelta(m), svTol*want[0]) {
				t.Errorf("U·Σ·Vᵀ differs from ΔW beyond %g·σ₁", svTol)
			}
		})
	}
}

func TestRightLeftSingularOrthonormal(t *testing.T) {
	rng := newRNG(2)
	a := randn(rng, 6, 50)
	b := randn(rng, 40, 6)
	for name, u := range map[string]func() (*mat.Dense, error){
		"RightSingular(A)": func() (*mat.Dense, error) { return RightSingular(a) },
		"LeftSingular(B)":  func() (*mat.Dense, error) { return LeftSingular(b) },
	} {
		t.Run(name, func(t *testing.T) {
			q, err := u()
			if err != nil {
				t.Fatal(err)
			}
			var g mat.Dense
			g.Mul(q.T(), q)
			if !mat.EqualApprox(&g, identity(6), 1e-13) {
				t.Errorf("%s: columns are not orthonormal", name)
			}
		})
	}
	// Right singular vectors of A agree with the dense SVD of A.
	_, _, wv := denseSVD(t, a)
	v, _ := RightSingular(a)
	for i := range 6 {
		if d := math.Abs(mat.Dot(v.ColView(i), wv.ColView(i))); math.Abs(d-1) > vecTol {
			t.Errorf("RightSingular(A) column %d: |⟨v,v'⟩| = %.15f, want 1", i+1, d)
		}
	}
}

func TestLowRankBadInput(t *testing.T) {
	rng := newRNG(3)
	nan := randn(rng, 4, 10)
	nan.Set(2, 3, math.NaN())
	inf := randn(rng, 12, 4)
	inf.Set(0, 0, math.Inf(-1))
	cases := []struct {
		name string
		m    Module
		want error
	}{
		{"rank 0", Module{Name: "m", A: &mat.Dense{}, B: &mat.Dense{}, Scale: 1}, format.ErrShape},
		{"missing A", Module{Name: "m", B: randn(rng, 12, 4), Scale: 1}, format.ErrShape},
		{"missing B", Module{Name: "m", A: randn(rng, 4, 10), Scale: 1}, format.ErrShape},
		{"inner mismatch", Module{Name: "m", A: randn(rng, 4, 10), B: randn(rng, 12, 5), Scale: 1}, format.ErrShape},
		{"NaN in A", Module{Name: "m", A: nan, B: randn(rng, 12, 4), Scale: 1}, format.ErrFormat},
		{"Inf in B", Module{Name: "m", A: randn(rng, 4, 10), B: inf, Scale: 1}, format.ErrFormat},
		{"NaN scale", Module{Name: "m", A: randn(rng, 4, 10), B: randn(rng, 12, 4), Scale: math.NaN()}, format.ErrFormat},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LowRank(c.m)
			if !errors.Is(err, c.want) {
				t.Fatalf("LowRank(%s) error = %v, want %v", c.name, err, c.want)
			}
		})
	}
}

func TestCrossMatchesExplicit(t *testing.T) {
	rng := newRNG(4)
	for _, c := range []struct{ r1, r2 int }{{3, 9}, {9, 3}, {5, 5}} {
		a1, a2 := randn(rng, c.r1, 40), randn(rng, c.r2, 40)
		b1, _ := rightBasis(a1)
		b2, _ := rightBasis(a2)
		var want mat.Dense
		want.Mul(b1.dense().T(), b2.dense())
		if got := cross(b1, b2); !mat.EqualApprox(got, &want, 1e-14) {
			t.Errorf("cross(r=%d, r=%d) differs from U1ᵀU2", c.r1, c.r2)
		}
	}
}
