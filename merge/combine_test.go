package merge

import (
	"errors"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
)

// Two rank-1 adapters on "lin" (2×2), s = 1:
// A1 = [1 2], B1 = [1 0]ᵀ; A2 = [3 -5], B2 = [0 2]ᵀ.
func combineInputs(w1, w2 float64) []Input {
	m1 := &lora.Module{Name: "lin", Rank: 1, In: 2, Out: 2, Alpha: 1, A: []float32{1, 2}, B: []float32{1, 0}}
	m2 := &lora.Module{Name: "lin", Rank: 1, In: 2, Out: 2, Alpha: 1, A: []float32{3, -5}, B: []float32{0, 2}}
	return []Input{
		{Path: "a1", Scale: w1, Adapter: &lora.Adapter{Kind: lora.KindPEFT, Modules: []*lora.Module{m1}}},
		{Path: "a2", Scale: w2, Adapter: &lora.Adapter{Kind: lora.KindPEFT, Modules: []*lora.Module{m2}}},
	}
}

func TestCombineMethods(t *testing.T) {
	cases := []struct {
		name   string
		w2     float64
		opt    CombineOptions
		rank   int
		wantA  []float64 // rank × 2
		wantB  []float64 // 2 × rank
		wantDW []float64 // B·A when A/B are not pinned (svd)
	}{
		// cat: A = [w1·A1; w2·A2], B = [B1 B2].
		{"cat", 4, CombineOptions{Method: MethodCat}, 2, []float64{1, 2, 12, -20}, []float64{1, 0, 0, 2}, nil},
		// linear: A = 1·A1 + 2·A2, B = 1·B1 + 2·B2 (√4 = 2).
		{"linear", 4, CombineOptions{Method: MethodLinear}, 1, []float64{7, -8}, []float64{1, 4}, nil},
		// negative weight: the sign goes to A only.
		{"linear negative", -4, CombineOptions{Method: MethodLinear}, 1, []float64{-5, 12}, []float64{1, 4}, nil},
		// magnitude_prune 0.5 keeps one entry of each: A1 -> [0 2], A2 -> [0 -5];
		// B1 -> [1 0], B2 -> [0 2].
		{"magnitude_prune", 4, CombineOptions{Method: MethodMagnitudePrune, Density: 0.5}, 1, []float64{0, -8}, []float64{1, 4}, nil},
		// ties, total: col 0 both +: (1·1 + 2·3)/2; col 1: 2 - 5 < 0, only A2: 2·(-5).
		{"ties total", 4, CombineOptions{Method: MethodTIES, Density: 1}, 1, []float64{3.5, -10}, []float64{1, 4}, nil},
		// ties, frequency: col 1 signs +1 -1 tie -> +, only A1: 1·2.
		{"ties frequency", 4, CombineOptions{Method: MethodTIES, Density: 1, MajoritySign: SignFrequency}, 1, []float64{3.5, 2}, []float64{1, 4}, nil},
		{"dare_ties density 1 is ties", 4, CombineOptions{Method: MethodDARETIES, Density: 1}, 1, []float64{3.5, -10}, []float64{1, 4}, nil},
		{"dare_linear density 1 is linear", 4, CombineOptions{Method: MethodDARELinear, Density: 1}, 1, []float64{7, -8}, []float64{1, 4}, nil},
		// sum: exact ΔW = B1A1 + 4·B2A2 = [[1 2] [24 -40]] at rank 2.
		{"sum", 4, CombineOptions{Method: MethodSum}, 2, nil, nil, []float64{1, 2, 24, -40}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Combine(combineInputs(1, tc.w2), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			m := a.Module("lin")
			if m.Rank != tc.rank || m.Scale() != 1 || a.Config.R != tc.rank || a.Config.LoraAlpha != float64(tc.rank) {
				t.Fatalf("rank %d scale %g config r %d alpha %g, want rank %d scale 1", m.Rank, m.Scale(), a.Config.R, a.Config.LoraAlpha, tc.rank)
			}
			if tc.wantA != nil {
				checkClose(t, "A", m.A, tc.wantA)
				checkClose(t, "B", m.B, tc.wantB)
			}
			if tc.wantDW != nil {
				checkClose(t, "B·A", m.Delta(), tc.wantDW)
			}
		})
	}
}

// TestCombineSVDMatchesDenseSVD checks the low-rank route against gonum's
// SVD of the dense sum: svd keeps the leading triplet, B = U·S, A = Vᵀ.
func TestCombineSVDMatchesDenseSVD(t *testing.T) {
	a, err := Combine(combineInputs(1, 4), CombineOptions{Method: MethodSVD})
	if err != nil {
		t.Fatal(err)
	}
	var svd mat.SVD
	svd.Factorize(mat.NewDense(2, 2, []float64{1, 2, 24, -40}), mat.SVDThin)
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	s := svd.Values(nil)
	want := make([]float64, 4)
	for i := range 2 {
		for j := range 2 {
			want[i*2+j] = s[0] * u.At(i, 0) * v.At(j, 0)
		}
	}
	m := a.Module("lin")
	checkClose(t, "svd B·A", m.Delta(), want)
	if an := math.Hypot(float64(m.A[0]), float64(m.A[1])); math.Abs(an-1) > 1e-6 {
		t.Errorf("svd A row norm = %g, want 1 (A = Vᵀ)", an)
	}
}

func TestCombineQuirksAndDARE(t *testing.T) {
	// One adapter: PEFT uses linear whatever the method.
	one := combineInputs(4, 1)[:1]
	a, err := Combine(one, CombineOptions{Method: MethodSVD})
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "single svd -> linear A", a.Module("lin").A, []float64{2, 4})
	// DARE: deterministic per seed; on average (over seeds) it is linear.
	opt := CombineOptions{Method: MethodDARELinear, Density: 0.5, Seed: 1}
	x, _ := Combine(combineInputs(1, 4), opt)
	y, _ := Combine(combineInputs(1, 4), opt)
	checkClose(t, "same seed", x.Module("lin").A, f64(y.Module("lin").A))
	mean := make([]float64, 2)
	const n = 4000
	for seed := range uint64(n) {
		opt.Seed = seed
		z, err := Combine(combineInputs(1, 4), opt)
		if err != nil {
			t.Fatal(err)
		}
		for j, v := range z.Module("lin").A {
			mean[j] += float64(v) / n
		}
	}
	// Unbiased: E[A] = linear's [7 -8]; the standard error is about 0.15.
	for j, want := range []float64{7, -8} {
		if math.Abs(mean[j]-want) > 0.6 {
			t.Errorf("DARE mean A[%d] over %d seeds = %g, want about %g", j, n, mean[j], want)
		}
	}
}

func TestCombineErrors(t *testing.T) {
	in := combineInputs(1, 1)
	in[1].Adapter.Modules[0] = &lora.Module{Name: "lin", Rank: 2, In: 2, Out: 2, Alpha: 1, A: make([]float32, 4), B: make([]float32, 4)}
	if _, err := Combine(in, CombineOptions{Method: MethodLinear}); !errors.Is(err, format.ErrShape) {
		t.Errorf("Combine(linear, ranks 1 and 2) = %v, want ErrShape", err)
	}
	if _, err := Combine(combineInputs(1, 1), CombineOptions{Method: MethodTIES}); !errors.Is(err, format.ErrInvalidOption) {
		t.Errorf("Combine(ties, no density) = %v, want ErrInvalidOption", err)
	}
	if _, err := Combine(combineInputs(1, 1), CombineOptions{Method: "slerp"}); !errors.Is(err, format.ErrUnsupported) {
		t.Errorf("Combine(slerp) = %v, want ErrUnsupported", err)
	}
	in = combineInputs(1, 1)
	in[0].Adapter.Modules[0].Magnitude = []float32{1, 1}
	if _, err := Combine(in, CombineOptions{Method: MethodCat}); !errors.Is(err, format.ErrUnsupported) {
		t.Errorf("Combine(DoRA) = %v, want ErrUnsupported", err)
	}
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func checkClose(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-5*math.Max(1, math.Abs(want[i])) {
			t.Errorf("%s = %v, want %v", what, got, want)
			return
		}
	}
}
