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

// metricTol: spectrum metrics are a few floating-point operations on
// values accurate to about 1e-15 relative.
const metricTol = 1e-12

func TestSpectrumPlantedValues(t *testing.T) {
	// σ = 3, 2, 1: energy 14; 90% = 12.6 is reached at k = 2 (13), 99% =
	// 13.86 at k = 3; stable rank 14/9; p = (1/2, 1/3, 1/6).
	wantEff := math.Exp(-(0.5*math.Log(0.5) + math.Log(1.0/3)/3 + math.Log(1.0/6)/6))
	rng := newRNG(10)
	m := planted(t, rng, "layers.0.q_proj", 64, 48, []float64{3, 2, 1})
	s, err := SpectrumOf(m)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{3, 2, 1} {
		if math.Abs(s.SingularValues[i]-want) > metricTol {
			t.Errorf("σ_%d = %v, want %v", i+1, s.SingularValues[i], want)
		}
	}
	ints := []struct {
		name      string
		got, want int
	}{
		{"rank", s.Rank, 3}, {"numerical_rank", s.NumericalRank, 3},
		{"energy_rank_90", s.EnergyRank90, 2}, {"energy_rank_99", s.EnergyRank99, 3},
		{"shape[0]", s.Shape[0], 64}, {"shape[1]", s.Shape[1], 48},
	}
	for _, c := range ints {
		if c.got != c.want {
			t.Errorf("SpectrumOf(σ=3,2,1).%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	floats := []struct {
		name      string
		got, want float64
	}{
		{"stable_rank", s.StableRank, 14.0 / 9}, {"effective_rank", s.EffectiveRank, wantEff},
		{"frobenius", s.Frobenius, math.Sqrt(14)},
	}
	for _, c := range floats {
		if math.Abs(c.got-c.want) > metricTol*c.want {
			t.Errorf("SpectrumOf(σ=3,2,1).%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestSpectrumPlantedRank(t *testing.T) {
	// ΔW = B·A with r = 16 factors of rank k: the numerical rank must be k.
	rng := newRNG(11)
	for _, k := range []int{1, 3, 8, 16} {
		const out, in, r = 96, 80, 16
		// B = Bk·Ck (out×k times k×r) and A = Dk·Ek: rank k each, generic.
		var b, a mat.Dense
		b.Mul(randn(rng, out, k), randn(rng, k, r))
		a.Mul(randn(rng, r, k), randn(rng, k, in))
		s, err := SpectrumOf(Module{Name: "m", A: &a, B: &b, Scale: 0.25})
		if err != nil {
			t.Fatal(err)
		}
		if s.NumericalRank != k {
			t.Errorf("NumericalRank(planted rank %d) = %d, want %d (σ = %.3g)", k, s.NumericalRank, k, s.SingularValues)
		}
	}
}

func TestSpectrumEdgeValues(t *testing.T) {
	rng := newRNG(12)
	t.Run("equal values", func(t *testing.T) {
		sv := make([]float64, 10)
		for i := range sv {
			sv[i] = 2
		}
		s, err := SpectrumOf(planted(t, rng, "m", 30, 30, sv))
		if err != nil {
			t.Fatal(err)
		}
		if s.EnergyRank90 != 9 || s.EnergyRank99 != 10 {
			t.Errorf("energy ranks of 10 equal values = %d, %d, want 9, 10", s.EnergyRank90, s.EnergyRank99)
		}
		if math.Abs(s.EffectiveRank-10) > metricTol*10 || math.Abs(s.StableRank-10) > metricTol*10 {
			t.Errorf("effective, stable rank = %v, %v, want 10, 10", s.EffectiveRank, s.StableRank)
		}
	})
	t.Run("zero update", func(t *testing.T) {
		// A freshly initialized LoRA: B = 0.
		m := Module{Name: "m", A: randn(rng, 4, 20), B: mat.NewDense(30, 4, nil), Scale: 2}
		s, err := SpectrumOf(m)
		if err != nil {
			t.Fatal(err)
		}
		if s.NumericalRank != 0 || s.EnergyRank99 != 0 || s.StableRank != 0 || s.EffectiveRank != 0 || s.Frobenius != 0 {
			t.Errorf("SpectrumOf(B=0) = %+v, want all ranks and norms 0", s)
		}
		if _, err := json.Marshal(s); err != nil {
			t.Errorf("json.Marshal(spectrum of zero update): %v", err)
		}
	})
}

func TestSpectraSkipsBadModules(t *testing.T) {
	rng := newRNG(13)
	good := planted(t, rng, "good", 20, 20, []float64{1, 0.5})
	nan := planted(t, rng, "nan", 20, 20, []float64{1, 0.5})
	nan.A.(*mat.Dense).Set(0, 0, math.NaN())
	zero := Module{Name: "rank0", A: &mat.Dense{}, B: &mat.Dense{}}
	rep, err := Spectra(context.Background(), []Module{good, nan, zero})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Modules) != 1 || rep.Modules[0].Name != "good" {
		t.Errorf("Spectra modules = %v, want [good]", rep.Modules)
	}
	if len(rep.Skipped) != 2 || rep.Skipped[0].Name != "nan" || rep.Skipped[1].Name != "rank0" {
		t.Errorf("Spectra skipped = %v, want nan and rank0", rep.Skipped)
	}

	_, err = Spectra(context.Background(), []Module{nan, zero})
	if !errors.Is(err, format.ErrFormat) {
		t.Errorf("Spectra(all bad) error = %v, want ErrFormat from the first", err)
	}
	_, err = Spectra(context.Background(), nil)
	if !errors.Is(err, format.ErrNotFound) {
		t.Errorf("Spectra(nil) error = %v, want ErrNotFound", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Spectra(ctx, []Module{good}); !errors.Is(err, context.Canceled) {
		t.Errorf("Spectra(cancelled) error = %v, want context.Canceled", err)
	}
}

func TestSpectrumJSONFieldNames(t *testing.T) {
	// The issue fixes these names for tools that read the JSON.
	rng := newRNG(14)
	rep, err := Spectra(context.Background(), []Module{planted(t, rng, "m", 8, 8, []float64{1})})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Modules []map[string]any `json:"modules"`
	}
	b, _ := json.Marshal(rep)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := []string{"name", "rank", "alpha", "scale", "shape", "singular_values", "numerical_rank",
		"energy_rank_90", "energy_rank_99", "stable_rank", "effective_rank", "frobenius"}
	checkKeys(t, "spectrum", got.Modules[0], want)
}

// checkKeys asserts that obj has exactly the keys want.
func checkKeys(t *testing.T, what string, obj map[string]any, want []string) {
	t.Helper()
	if len(obj) != len(want) {
		t.Errorf("%s module has %d keys, want %d: %v", what, len(obj), len(want), obj)
	}
	for _, k := range want {
		if _, ok := obj[k]; !ok {
			t.Errorf("%s module lacks key %q", what, k)
		}
	}
}

func TestRecommend(t *testing.T) {
	// Energy ranks at 99%: three modules need 1, one needs 3, one needs 8.
	mk := func(name string, need int) ModuleSpectrum {
		sv := make([]float64, 8)
		for i := range need {
			sv[i] = 1
		}
		return ModuleSpectrum{Name: name, Rank: 8, SingularValues: sv}
	}
	s := &Spectrum{Modules: []ModuleSpectrum{mk("a", 1), mk("b", 1), mk("c", 1), mk("d", 3), mk("e", 8)}}
	cases := []struct {
		coverage float64
		rank     int
		summary  string
	}{
		{0.5, 1, "r=1 keeps 99% of the energy in 60% of modules (3 of 5)"},
		{0.8, 4, "r=4 keeps 99% of the energy in 80% of modules (4 of 5)"},
		{0.9, 8, "r=8 keeps 99% of the energy in 100% of modules (5 of 5)"},
	}
	for _, c := range cases {
		rec := Recommend(s, Energy99, c.coverage)
		if rec.Rank != c.rank || rec.Summary != c.summary {
			t.Errorf("Recommend(coverage %v) = %d %q, want %d %q", c.coverage, rec.Rank, rec.Summary, c.rank, c.summary)
		}
	}
	rec := Recommend(s, Energy99, 0.9)
	if got := len(rec.Candidates); got != 4 { // 1, 2, 4, 8
		t.Errorf("Recommend candidates = %v, want ranks 1, 2, 4, 8", rec.Candidates)
	}
	if rec.Modules[3].Recommended != 3 {
		t.Errorf("Recommend module d = %d, want 3", rec.Modules[3].Recommended)
	}
}

func TestPercent(t *testing.T) {
	for _, c := range []struct {
		x    float64
		want string
	}{{0.92, "92%"}, {199.0 / 200, "99.5%"}, {0.9999, "99.9%"}, {1, "100%"}, {0, "0%"}} {
		if got := percent(c.x); got != c.want {
			t.Errorf("percent(%v) = %q, want %q", c.x, got, c.want)
		}
	}
}
