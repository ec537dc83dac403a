package merge

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/transpose"
	"github.com/lorakit/lorakit/lora"
)

// exactTol: hand-computed cases use small integers; only the DoRA norms
// and float32 rounding of the sums leave anything.
const exactTol = 1e-6

// W = [[1 2 3] [4 5 6]]; A = [[1 0 2]], B = [[1] [-1]]: B·A = [[1 0 2] [-1 0 -2]].
var (
	semW = []float32{1, 2, 3, 4, 5, 6}
	semA = []float32{1, 0, 2}
	semB = []float32{1, -1}
)

func semModule(name string, alpha float64) *lora.Module {
	return &lora.Module{Name: name, A: append([]float32(nil), semA...), B: append([]float32(nil), semB...), Rank: 1, In: 3, Out: 2, Alpha: alpha}
}

func semAdapter(mods ...*lora.Module) *lora.Adapter {
	return &lora.Adapter{Kind: lora.KindPEFT, Modules: mods, DType: format.F32}
}

func TestMergeSemantics(t *testing.T) {
	rs := &lora.Module{Name: "lin", Rank: 4, In: 3, Out: 2, Alpha: 4, RSLoRA: true,
		A: []float32{1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0}, B: []float32{1, 0, 0, 0, -1, 0, 0, 0}}
	fifo := semModule("lin", 1)
	fifo.FanInFanOut = true
	dora := semModule("lin", 1)
	dora.Magnitude = []float32{1, 2}
	biased := semModule("lin", 2)
	biased.Bias = []float32{10, 20}
	saved := semAdapter(semModule("lin", 1))
	saved.Saved = []lora.Tensor{{Name: "head.weight", DType: format.F32, Shape: []int64{2}, Data: f32bytes(7, 8)}}
	n33, n50 := math.Sqrt(33), math.Sqrt(50)
	cases := []struct {
		name      string
		inputs    []Input
		transpose bool
		want      map[string][]float64
	}{
		{"alpha/r", []Input{{Adapter: semAdapter(semModule("lin", 2)), Scale: 1}}, false,
			map[string][]float64{"lin.weight": {3, 2, 7, 2, 5, 2}}},
		{"user scale 0.5", []Input{{Adapter: semAdapter(semModule("lin", 2)), Scale: 0.5}}, false,
			map[string][]float64{"lin.weight": {2, 2, 5, 3, 5, 4}}},
		{"unmerge", []Input{{Adapter: semAdapter(semModule("lin", 2)), Scale: -1}}, false,
			map[string][]float64{"lin.weight": {-1, 2, -1, 6, 5, 10}}},
		{"rsLoRA alpha/sqrt(r)", []Input{{Adapter: semAdapter(rs), Scale: 1}}, false,
			map[string][]float64{"lin.weight": {3, 2, 7, 2, 5, 2}}},
		{"two adapters add", []Input{{Adapter: semAdapter(semModule("lin", 1)), Scale: 1}, {Adapter: semAdapter(semModule("lin", 1)), Scale: 2}}, false,
			map[string][]float64{"lin.weight": {4, 2, 9, 1, 5, 0}}},
		{"fan_in_fan_out", []Input{{Adapter: semAdapter(fifo), Scale: 1}}, true,
			map[string][]float64{"lin.weight": {2, 3, 2, 5, 5, 4}}},
		{"DoRA", []Input{{Adapter: semAdapter(dora), Scale: 1}}, false,
			map[string][]float64{"lin.weight": {2 / n33, 2 / n33, 5 / n33, 6 / n50, 10 / n50, 8 / n50}}},
		{"lora_B bias", []Input{{Adapter: semAdapter(biased), Scale: 1}}, false,
			map[string][]float64{"lin.weight": {3, 2, 7, 2, 5, 2}, "lin.bias": {20.5, 39.5}}},
		{"modules_to_save", []Input{{Adapter: saved, Scale: 1}}, false,
			map[string][]float64{"head.weight": {7, 8}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			basePath := filepath.Join(dir, "base.safetensors")
			w, shape := semW, []int64{2, 3}
			if tc.transpose {
				w, shape = transpose.Of(semW, 2, 3), []int64{3, 2}
			}
			writeSafetensors(t, basePath, []tensorSpec{{"lin.weight", shape, w}, {"lin.bias", []int64{2}, []float32{0.5, -0.5}}, {"head.weight", []int64{2}, []float32{0, 0}}})
			out := filepath.Join(dir, "out.safetensors")
			for i := range tc.inputs {
				tc.inputs[i].Path = "mem" + string(rune('0'+i))
			}
			if _, err := Merge(context.Background(), basePath, tc.inputs, out, Options{}); err != nil {
				t.Fatal(err)
			}
			got := openSource(t, out)
			for name, want := range tc.want {
				g := floats(t, got, name)
				for i := range want {
					if math.Abs(float64(g[i])-want[i]) > exactTol {
						t.Errorf("Merge(%s) %s = %v, want %v", tc.name, name, g, want)
						break
					}
				}
			}
		})
	}
}

func f32bytes(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	format.FromFloat32(b, v, format.F32)
	return b
}

// TestMergePatternsFromPEFTConfig reads rank_pattern and alpha_pattern from
// a hand-written adapter_config.json: default r 4 / alpha 8, but "lin" has
// r 1 and alpha 3, so s = 3.
func TestMergePatternsFromPEFTConfig(t *testing.T) {
	dir := t.TempDir()
	ad := filepath.Join(dir, "adapter")
	os.Mkdir(ad, 0o755)
	cfg := `{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["lin"], "rank_pattern": {"lin": 1}, "alpha_pattern": {"lin": 3}}`
	if err := os.WriteFile(filepath.Join(ad, "adapter_config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	writeSafetensors(t, filepath.Join(ad, "adapter_model.safetensors"), []tensorSpec{
		{"base_model.model.lin.lora_A.weight", []int64{1, 3}, semA},
		{"base_model.model.lin.lora_B.weight", []int64{2, 1}, semB},
	})
	basePath := filepath.Join(dir, "base.safetensors")
	writeSafetensors(t, basePath, []tensorSpec{{"model.lin.weight", []int64{2, 3}, semW}})
	out := filepath.Join(dir, "out.safetensors")
	if _, err := Merge(context.Background(), basePath, []Input{{Path: ad, Scale: 1}}, out, Options{}); err != nil {
		t.Fatal(err)
	}
	want := []float32{4, 2, 9, 1, 5, 0}
	if g := floats(t, openSource(t, out), "model.lin.weight"); maxAbsDiff(g, want) > exactTol {
		t.Errorf("Merge with patterns = %v, want %v", g, want)
	}
}
