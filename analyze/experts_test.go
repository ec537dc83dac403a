package analyze

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/lora"
)

// expertTol: φ and cosines of exactly representable rank-1 updates come
// from a QR and an SVD in float64; measured error below 1e-15.
const expertTol = 1e-12

// TestCompareExpertsByHand: four rank-1 experts of a (4, 3) update,
// ΔW_e = 2·b_e·a_eᵀ: expert 1 repeats expert 0, expert 2 is its negation
// (same subspace, cosine -1), expert 3 writes rows orthogonal to it (φ 0,
// cosine 0). Expected values follow from the definitions by hand.
func TestCompareExpertsByHand(t *testing.T) {
	m := &lora.Module{Name: "blk.0.ffn_up_exps", Experts: 4, Rank: 1, In: 3, Out: 4, Alpha: 2,
		A: []float32{1, 2, 2, 1, 2, 2, 1, 2, 2, 0, 3, 4},
		B: []float32{1, 1, 0, 0, 1, 1, 0, 0, -1, -1, 0, 0, 0, 0, 1, 0}}
	s, err := CompareExpertsOf(m)
	if err != nil {
		t.Fatal(err)
	}
	wantPhi := [][]float64{{1, 1, 1, 0}, {1, 1, 1, 0}, {1, 1, 1, 0}, {0, 0, 0, 1}}
	wantCos := [][]float64{{1, 1, -1, 0}, {1, 1, -1, 0}, {-1, -1, 1, 0}, {0, 0, 0, 1}}
	for e := range 4 {
		if s.Ranks[e] != 1 {
			t.Errorf("rank of expert %d = %d, want 1", e, s.Ranks[e])
		}
		for f := range 4 {
			if math.Abs(s.Phi[e][f]-wantPhi[e][f]) > expertTol || math.Abs(s.Cosine[e][f]-wantCos[e][f]) > expertTol {
				t.Errorf("(%d,%d): φ %v cosine %v, want %v and %v", e, f, s.Phi[e][f], s.Cosine[e][f], wantPhi[e][f], wantCos[e][f])
			}
		}
	}
	// 12 ordered pairs: φ sums to 6 (pairs among 0,1,2), cosine to 2-4 = -2.
	if math.Abs(s.MeanPhi-0.5) > expertTol || math.Abs(s.MeanCosine+1.0/6) > expertTol || s.RandomPhi != 0.25 {
		t.Errorf("means φ %v cosine %v random %v, want 0.5, -1/6, 1/4", s.MeanPhi, s.MeanCosine, s.RandomPhi)
	}
}

// TestExpertFixtureModules: the experts of llama.cpp's 3-D adapter
// fixtures are analysed one by one (spectra name "<module>[e]") and
// compared with each other; independent random experts are far from alike
// (φ near the random baseline, cosines near 0).
func TestExpertFixtureModules(t *testing.T) {
	a, err := lora.ReadGGUF(testshared.Path(t, "fixtures/arch/qwen3moe-lora-r4.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	mods := FromAdapter(a)
	sp, err := Spectra(context.Background(), mods)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, m := range sp.Modules {
		names[m.Name] = true
	}
	stacked := 0
	for _, m := range a.Modules {
		if m.Experts == 0 {
			continue
		}
		stacked++
		if last := fmt.Sprintf("%s[%d]", m.Name, m.Experts-1); !names[last] {
			t.Errorf("no spectrum for %s", last)
		}
	}
	sims, err := CompareExperts(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	if stacked == 0 || len(sims) != stacked {
		t.Fatalf("CompareExperts = %d modules, want one per stacked module (%d)", len(sims), stacked)
	}
	for _, s := range sims {
		r := a.Module(s.Module).Rank
		for e := range s.Experts {
			if s.Ranks[e] != r || math.Abs(s.Phi[e][e]-1) > expertTol || math.Abs(s.Cosine[e][e]-1) > expertTol {
				t.Errorf("%s expert %d: rank %d (want %d), self φ %v, self cosine %v", s.Module, e, s.Ranks[e], r, s.Phi[e][e], s.Cosine[e][e])
			}
		}
		// independent Gaussian experts: φ near its random baseline r/out,
		// cosines near 0 (wide bands: a handful of experts)
		if s.MeanPhi > 3*s.RandomPhi+0.05 || math.Abs(s.MeanCosine) > 0.2 {
			t.Errorf("%s: mean φ %v (random %v), mean cosine %v; independent random experts should be far from alike", s.Module, s.MeanPhi, s.RandomPhi, s.MeanCosine)
		}
	}
}
