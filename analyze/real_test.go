package analyze

import (
	"context"
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	_ "github.com/lorakit/lorakit/format/gguf"
	_ "github.com/lorakit/lorakit/format/safetensors"
	"github.com/lorakit/lorakit/internal/testshared"
	"gonum.org/v1/gonum/mat"
)

// sharedDir returns ../shared beside the module root, or skips the test.
func sharedDir(t *testing.T) string {
	t.Helper()
	return testshared.Path(t, "")
}

// readMatrix reads a 2-D tensor of src as float64.
func readMatrix(t *testing.T, src format.Source, name string) *mat.Dense {
	t.Helper()
	info, ok := format.TensorIndex(src.Tensors(), name)
	if !ok || len(info.Shape) != 2 {
		t.Fatalf("tensor %q: missing or not 2-D (%v)", name, info.Shape)
	}
	raw, err := src.TensorData(name)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]float64, info.Shape[0]*info.Shape[1])
	if err := format.ToFloat64(data, raw, info.DType); err != nil {
		t.Fatal(err)
	}
	return mat.NewDense(int(info.Shape[0]), int(info.Shape[1]), data)
}

// adapterLayout says how a file stores its LoRA pairs.
type adapterLayout struct {
	aSuffix, bSuffix string
	transposed       bool // MLX: lora_a is (in, r), lora_b is (r, out)
	alpha, scale     float64
}

// loadAdapter reads every A/B pair of the file at path (a test-side stand-in
// for package lora, which is integrated later).
func loadAdapter(t *testing.T, path string, l adapterLayout) []Module {
	t.Helper()
	src, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var mods []Module
	for _, info := range src.Tensors() {
		name, ok := strings.CutSuffix(info.Name, l.aSuffix)
		if !ok {
			continue
		}
		a := readMatrix(t, src, info.Name)
		b := readMatrix(t, src, name+l.bSuffix)
		if l.transposed {
			a, b = mat.DenseCopyOf(a.T()), mat.DenseCopyOf(b.T())
		}
		mods = append(mods, Module{Name: name, A: a, B: b, Alpha: l.alpha, Scale: l.scale})
	}
	if len(mods) == 0 {
		t.Fatalf("%s: no LoRA pairs", path)
	}
	return mods
}

func TestRealPEFTGPT2(t *testing.T) {
	path := filepath.Join(sharedDir(t), "data/adapters/gpt2-tigrinya-peft-lora/adapter_model.safetensors")
	// adapter_config.json: r 8, lora_alpha 32, no rsLoRA: s = 32/8.
	mods := loadAdapter(t, path, adapterLayout{".lora_A.weight", ".lora_B.weight", false, 32, 4})
	if len(mods) != 36 {
		t.Fatalf("PEFT GPT-2 adapter has %d modules, want 36 (12 layers × c_attn, attn.c_proj, mlp.c_proj)", len(mods))
	}
	s, err := Spectra(context.Background(), mods)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Skipped) != 0 {
		t.Errorf("Spectra skipped %v", s.Skipped)
	}
	for _, m := range s.Modules {
		if m.Rank != 8 || m.NumericalRank > 8 || m.EnergyRank99 > m.NumericalRank || m.Frobenius <= 0 {
			t.Errorf("%s: rank %d, numerical %d, energy99 %d, ‖ΔW‖ %g", m.Name, m.Rank, m.NumericalRank, m.EnergyRank99, m.Frobenius)
		}
	}
	// One module against gonum's dense values-only SVD of the formed ΔW.
	if !testing.Short() {
		m := mods[1] // attn.c_proj, 768×768
		var svd mat.SVD
		if !svd.Factorize(denseDelta(m), mat.SVDNone) {
			t.Fatal("dense SVD failed")
		}
		want := svd.Values(nil)
		got := s.Modules[1].SingularValues
		for i := range got {
			// Values below 1e-6·σ₁ are rounding in the dense path.
			if want[i] > 1e-6*want[0] && math.Abs(got[i]-want[i]) > svTol*want[i]*10 {
				t.Errorf("%s σ_%d = %.15g, dense %.15g", m.Name, i+1, got[i], want[i])
			}
		}
	}
	sim, err := Compare(context.Background(), mods, mods, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range sim.Modules {
		for i := range m.PhiRight {
			if math.Abs(m.PhiRight[i][i]-1) > 1e-9 || math.Abs(m.PhiLeft[i][i]-1) > 1e-9 {
				t.Fatalf("%s: φ(A, A)(%d, %d) = %v, %v, want 1", m.Name, i+1, i+1, m.PhiRight[i][i], m.PhiLeft[i][i])
			}
		}
	}
}

func TestRealMLXLlama3Report(t *testing.T) {
	path := filepath.Join(sharedDir(t), "data/adapters/ollama-discollama-mlx-lora/adapters.safetensors")
	// adapter_config.json: rank 8, alpha 16, scale 2.0.
	mods := loadAdapter(t, path, adapterLayout{".lora_a", ".lora_b", true, 16, 2})
	if len(mods) != 4 {
		t.Fatalf("MLX adapter has %d modules, want 4", len(mods))
	}
	rep, err := BuildReport(context.Background(), mods, nil, nil, ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range rep.Spectrum.Modules {
		if m.Shape[1] != 4096 || m.NumericalRank < 1 || m.NumericalRank > 8 {
			t.Errorf("%s: shape %v, numerical rank %d", m.Name, m.Shape, m.NumericalRank)
		}
	}
	dir := filepath.Join(t.TempDir(), "mlx")
	if err := WriteReport(dir, rep, false); err != nil {
		t.Fatal(err)
	}
	checkPNGs(t, dir, rep.Figures)
}

// checkPNGs opens every figure and checks its size.
func checkPNGs(t *testing.T, dir string, figs []Figure) {
	t.Helper()
	for _, f := range figs {
		r, err := os.Open(filepath.Join(dir, f.File))
		if err != nil {
			t.Error(err)
			continue
		}
		cfg, _, err := image.DecodeConfig(r)
		r.Close()
		if err != nil || cfg.Width != f.Width || cfg.Height != f.Height {
			t.Errorf("%s: %d×%d, %v; want %d×%d", f.File, cfg.Width, cfg.Height, err, f.Width, f.Height)
		}
	}
}

// mergeTol: llama-export-lora stores W + ΔW in F32, so merged − base carries
// an absolute rounding error of about 2⁻²⁴·|W + ΔW| per element; on these
// shapes that moves singular values by under 1e-5 of ‖W‖₂ + ‖ΔW‖₂.
const mergeTol = 1e-5

func TestRealGGUFLoRA(t *testing.T) {
	shared := sharedDir(t)
	cases := []struct {
		adapter, base, merged string
		rank                  int
		alpha                 float64
	}{
		{"gpt2-lora-r4.gguf", "gpt2-f32.gguf", "gpt2-merged-f32.gguf", 4, 16},
		{"llama-lora-r8.gguf", "llama-f32.gguf", "llama-merged-f32.gguf", 8, 8},
	}
	for _, c := range cases {
		t.Run(c.adapter, func(t *testing.T) {
			fx := filepath.Join(shared, "fixtures")
			mods := loadAdapter(t, filepath.Join(fx, c.adapter),
				adapterLayout{".lora_a", ".lora_b", false, c.alpha, c.alpha / float64(c.rank)})
			base, err := format.Open(filepath.Join(fx, c.base))
			if err != nil {
				t.Fatal(err)
			}
			defer base.Close()
			merged, err := format.Open(filepath.Join(fx, c.merged))
			if err != nil {
				t.Fatal(err)
			}
			defer merged.Close()

			// The spectrum against llama.cpp's own merge: ΔW = merged − W.
			for _, m := range mods {
				s, err := SpectrumOf(m)
				if err != nil {
					t.Fatal(err)
				}
				w := readMatrix(t, base, m.Name)
				var delta mat.Dense
				delta.Sub(readMatrix(t, merged, m.Name), w)
				var svd, wsvd mat.SVD
				svd.Factorize(&delta, mat.SVDNone)
				wsvd.Factorize(w, mat.SVDNone)
				want, wNorm := svd.Values(nil), wsvd.Values(nil)[0]
				for i, v := range s.SingularValues {
					if math.Abs(v-want[i]) > mergeTol*(wNorm+want[0]) {
						t.Errorf("%s σ_%d = %.9g, llama-export-lora's ΔW gives %.9g", m.Name, i+1, v, want[i])
					}
				}
			}

			amp, err := Amplify(context.Background(), mods, func(name string) (Weight, error) {
				return DenseWeight(readMatrix(t, base, name)), nil
			}, AmplifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range amp.Modules {
				if !(a.ProjW >= a.ProjDW && a.ProjW <= a.WFrobenius && a.Amplification > 0) {
					t.Errorf("%s: Table 7 row %+v out of order", a.Name, a)
				}
			}
		})
	}
}
