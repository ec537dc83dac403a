package analyze

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/lorakit/lorakit/format"
	"gonum.org/v1/gonum/mat"
)

// phiTol: φ of exactly planted subspaces is a sum of squares of dot
// products of orthonormal vectors, exact to a few ε.
const phiTol = 1e-12

func TestPhiSameAdapterIsOne(t *testing.T) {
	rng := newRNG(20)
	m := Module{Name: "q", A: randn(rng, 8, 64), B: randn(rng, 48, 8), Scale: 1}
	s, err := CompareModule(m, m)
	if err != nil {
		t.Fatal(err)
	}
	// Nested subspaces: φ(i, j) = min(i, j)/min(i, j) = 1 everywhere.
	for name, g := range map[string][][]float64{"phi_right": s.PhiRight, "phi_left": s.PhiLeft} {
		for i := range g {
			for j := range g[i] {
				if math.Abs(g[i][j]-1) > phiTol {
					t.Errorf("%s(A, A)(%d, %d) = %v, want 1", name, i+1, j+1, g[i][j])
				}
			}
		}
	}
}

func TestPhiPlantedSharedDirections(t *testing.T) {
	// A1's rows are the first 4 basis vectors q1..q4 with σ = 4,3,2,1;
	// A2's top 2 rows are q1, q2 and the rest q5..q10, all below. Then the
	// top-i of A1 and top-j of A2 share min(i, j, 2) directions:
	// φ(i, j) = min(i, j, 2)/min(i, j).
	const n, shared = 40, 2
	rng := newRNG(21)
	q := orthoCols(t, rng, n, 10)
	a1 := mat.NewDense(4, n, nil)
	for i, s := range []float64{4, 3, 2, 1} {
		for c := range n {
			a1.Set(i, c, s*q.At(c, i))
		}
	}
	a2 := mat.NewDense(8, n, nil)
	cols := []int{0, 1, 4, 5, 6, 7, 8, 9}
	for i, col := range cols {
		for c := range n {
			a2.Set(i, c, float64(20-i)*q.At(c, col))
		}
	}
	u1, _ := RightSingular(a1)
	u2, _ := RightSingular(a2)
	g, err := PhiGrid(u1, u2)
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != 4 || len(g[0]) != 8 {
		t.Fatalf("PhiGrid dims = %d×%d, want 4×8", len(g), len(g[0]))
	}
	for i := 1; i <= 4; i++ {
		for j := 1; j <= 8; j++ {
			want := float64(min(i, j, shared)) / float64(min(i, j))
			if math.Abs(g[i-1][j-1]-want) > phiTol {
				t.Errorf("φ(%d, %d) = %v, want %v", i, j, g[i-1][j-1], want)
			}
		}
	}
}

func TestPhiGaussianBaseline(t *testing.T) {
	// Two independent Gaussian A's span independent uniformly random
	// subspaces: E φ(i, j) = j/n for i ≤ j. ‖PᵀQ‖_F² is a sum of i·j
	// squared near-independent N(0, 1/n) terms, so sd φ ≈ √(2j/i)/n; over
	// trials independent pairs the mean is checked within 5 standard errors.
	const n, r1, r2, trials = 256, 8, 32, 24
	rng := newRNG(22)
	mean := make([][]float64, r1)
	for i := range mean {
		mean[i] = make([]float64, r2)
	}
	for range trials {
		u1, _ := RightSingular(randn(rng, r1, n))
		u2, _ := RightSingular(randn(rng, r2, n))
		g, err := PhiGrid(u1, u2)
		if err != nil {
			t.Fatal(err)
		}
		for i := range g {
			for j := range g[i] {
				if g[i][j] < 0 || g[i][j] > 1 {
					t.Fatalf("φ(%d, %d) = %v outside [0, 1]", i+1, j+1, g[i][j])
				}
				mean[i][j] += g[i][j] / trials
			}
		}
	}
	for i := 1; i <= r1; i++ {
		for j := i; j <= r2; j++ {
			want := ExpectedRandomPhi(i, j, n)
			tol := 5 * math.Sqrt(2*float64(j)/float64(i)) / n / math.Sqrt(trials)
			if got := mean[i-1][j-1]; math.Abs(got-want) > tol {
				t.Errorf("mean φ(%d, %d) = %.4f, want %.4f ± %.4f", i, j, got, want, tol)
			}
		}
	}
}

func TestPhiInUnitInterval(t *testing.T) {
	rng := newRNG(23)
	for _, c := range []struct{ r1, r2, n int }{{1, 1, 3}, {8, 64, 64}, {64, 8, 70}, {5, 5, 5}, {16, 16, 17}} {
		u1, _ := RightSingular(randn(rng, c.r1, c.n))
		u2, _ := RightSingular(randn(rng, c.r2, c.n))
		g, err := PhiGrid(u1, u2)
		if err != nil {
			t.Fatal(err)
		}
		for i := range g {
			for j := range g[i] {
				if v := g[i][j]; !(v >= 0 && v <= 1) {
					t.Errorf("PhiGrid(%v)(%d, %d) = %v, want in [0, 1]", c, i+1, j+1, v)
				}
			}
		}
	}
	if _, err := PhiGrid(mat.NewDense(3, 1, nil), mat.NewDense(4, 1, nil)); !errors.Is(err, format.ErrShape) {
		t.Errorf("PhiGrid(3-vectors, 4-vectors) error = %v, want ErrShape", err)
	}
}

func TestCompareAdapters(t *testing.T) {
	rng := newRNG(24)
	mk := func(name string, out, in, r int) Module {
		return Module{Name: name, A: randn(rng, r, in), B: randn(rng, out, r), Scale: 1}
	}
	bad := mk("nan", 32, 32, 4)
	bad.B.(*mat.Dense).Set(1, 1, math.NaN())
	a := []Module{mk("q", 32, 32, 4), mk("v", 32, 32, 4), mk("onlyA", 32, 32, 4), mk("other base", 32, 32, 4), bad}
	b := []Module{mk("v", 32, 32, 16), mk("q", 32, 32, 16), mk("onlyB", 32, 32, 16), mk("other base", 48, 32, 16), mk("nan", 32, 32, 16)}
	rep, err := Compare(context.Background(), a, b, CompareOptions{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Modules) != 2 || rep.Modules[0].Name != "q" || rep.Modules[1].Name != "v" {
		t.Fatalf("Compare modules = %v, want q, v", names(rep.Modules))
	}
	m := rep.Modules[0]
	if m.RankA != 4 || m.RankB != 16 || len(m.PhiRight) != 4 || len(m.PhiRight[0]) != 16 || len(m.PhiLeft) != 4 || len(m.PhiLeft[0]) != 16 {
		t.Errorf("Compare q: ranks %d, %d, grids %d×%d and %d×%d, want 4, 16, 4×16 twice",
			m.RankA, m.RankB, len(m.PhiRight), len(m.PhiRight[0]), len(m.PhiLeft), len(m.PhiLeft[0]))
	}
	if m.PhiRight11 != m.PhiRight[0][0] || m.PhiLeft11 != m.PhiLeft[0][0] {
		t.Errorf("phi_*_11 differ from the grids' first entries")
	}
	skipped := map[string]bool{}
	for _, s := range rep.Skipped {
		skipped[s.Name] = true
	}
	for _, n := range []string{"onlyA", "onlyB", "other base", "nan"} {
		if !skipped[n] {
			t.Errorf("Compare did not skip %q (skipped: %v)", n, rep.Skipped)
		}
	}
	sum := rep.Summary[0]
	if sum.TopK != 4 || sum.ExpectedRight11 != 1.0/32 || sum.RandomRight11 == 0 {
		t.Errorf("Compare summary = %+v, want top_k 4, expected 1/32, a sampled control", sum)
	}

	// JSON names fixed by the issue.
	var got struct {
		Modules []map[string]any `json:"modules"`
	}
	buf, _ := json.Marshal(rep)
	if err := json.Unmarshal(buf, &got); err != nil {
		t.Fatal(err)
	}
	checkKeys(t, "similarity", got.Modules[0], []string{"name", "rank_a", "rank_b", "phi_right", "phi_left", "phi_right_11", "phi_left_11"})

	if _, err := Compare(context.Background(), a[2:3], b[2:3], CompareOptions{}); !errors.Is(err, format.ErrNotFound) {
		t.Errorf("Compare(no common module) error = %v, want ErrNotFound", err)
	}
	if _, err := Compare(context.Background(), a[3:4], b[3:4], CompareOptions{}); !errors.Is(err, format.ErrShape) {
		t.Errorf("Compare(different bases) error = %v, want ErrShape", err)
	}
}

func names(ms []ModuleSimilarity) []string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Name)
	}
	return s
}
