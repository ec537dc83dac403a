package merge

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/lora"
)

// TestRealAdaptersMergeAndExtract merges the real Qwen2.5-0.5B and
// Gemma-3-270m adapters into randomly initialised bases of their models'
// shapes (../testdata/configs: the families' published config.json),
// checks every merged weight against W + s·B·A computed here in float64,
// checks that a GGUF base (the same base converted by lorakit) merges to
// the same values, and extracts the adapters back from the difference.
func TestRealAdaptersMergeAndExtract(t *testing.T) {
	for _, c := range []struct{ dir, config string }{
		{"qwen2.5-0.5b-instruct-lora-r8-qv", "qwen2.5-0.5b-instruct.json"},
		{"gemma3-270m-it-lora-r4-qkvo", "gemma-3-270m-it.json"},
	} {
		t.Run(c.dir, func(t *testing.T) {
			adapterDir := sharedDir(t, filepath.Join("data/adapters", c.dir))
			full, err := lora.ReadPEFT(adapterDir)
			if err != nil {
				t.Fatal(err)
			}
			cfgRaw, err := os.ReadFile(filepath.Join("..", "testdata", "configs", c.config))
			if err != nil {
				t.Fatal(err)
			}
			var cfg struct {
				Hidden  int `json:"hidden_size"`
				Heads   int `json:"num_attention_heads"`
				KV      int `json:"num_key_value_heads"`
				HeadDim int `json:"head_dim"`
				Layers  int `json:"num_hidden_layers"`
			}
			if err := json.Unmarshal(cfgRaw, &cfg); err != nil {
				t.Fatal(err)
			}
			if cfg.HeadDim == 0 {
				cfg.HeadDim = cfg.Hidden / cfg.Heads
			}
			// The base tensors of the attention projections, as the
			// family lays them out (PyTorch (out, in)).
			shapes := map[string][]int64{
				"q_proj": {int64(cfg.Heads * cfg.HeadDim), int64(cfg.Hidden)},
				"k_proj": {int64(cfg.KV * cfg.HeadDim), int64(cfg.Hidden)},
				"v_proj": {int64(cfg.KV * cfg.HeadDim), int64(cfg.Hidden)},
				"o_proj": {int64(cfg.Hidden), int64(cfg.Heads * cfg.HeadDim)},
			}
			// -short merges layer 0 into a one-layer base (conversion
			// requires every layer config.json names); the full test
			// every layer of the published shape.
			layers := map[int]bool{0: true}
			if testing.Short() {
				cfgRaw = oneLayerConfig(t, cfgRaw)
			} else {
				for l := range cfg.Layers {
					layers[l] = true
				}
			}
			moduleRE := regexp.MustCompile(`^model\.layers\.(\d+)\.self_attn\.([a-z]_proj)$`)
			sub := *full
			sub.Modules = nil
			var specs []tensorSpec
			rng := rand.New(rand.NewPCG(7, 7))
			for _, m := range full.Modules {
				g := moduleRE.FindStringSubmatch(m.Name)
				if g == nil {
					t.Fatalf("module %q is not a self-attention projection", m.Name)
				}
				l, _ := strconv.Atoi(g[1])
				if !layers[l] {
					continue
				}
				sub.Modules = append(sub.Modules, m)
				shape := shapes[g[2]]
				if shape[0] != int64(m.Out) || shape[1] != int64(m.In) {
					t.Fatalf("module %s is %dx%d, the published config gives %v", m.Name, m.Out, m.In, shape)
				}
				v := make([]float32, shape[0]*shape[1])
				for i := range v {
					v[i] = float32(0.02 * rng.NormFloat64())
				}
				specs = append(specs, tensorSpec{name: m.Name + ".weight", shape: shape, vals: v})
			}
			dir := t.TempDir()
			base, merged := filepath.Join(dir, "base"), filepath.Join(dir, "merged")
			os.MkdirAll(base, 0o755)
			os.WriteFile(filepath.Join(base, "config.json"), cfgRaw, 0o644)
			writeSafetensors(t, filepath.Join(base, "model.safetensors"), specs)
			if _, err := Merge(context.Background(), base, []Input{{Path: adapterDir, Adapter: &sub, Scale: 1}}, merged, Options{}); err != nil {
				t.Fatal(err)
			}
			got := openSource(t, filepath.Join(merged, "model.safetensors"))
			for i, m := range sub.Modules {
				w, g := specs[i].vals, floats(t, got, m.Name+".weight")
				d := m.Delta()
				worst := 0.0
				for j := range w {
					worst = math.Max(worst, math.Abs(float64(g[j])-(float64(w[j])+float64(d[j]))))
				}
				// W' is W + dW rounded once to float32 (|W'| < 0.2: half an
				// ulp is below 1e-8), dW itself accumulated in float64.
				if worst > 1e-7 {
					t.Errorf("merged %s differs from W + s·B·A by %g", m.Name, worst)
				}
			}
			// The same base as GGUF (qwen2/gemma3 names, no RoPE
			// permutation) merges to the same values.
			ggufBase, ggufMerged := filepath.Join(dir, "base.gguf"), filepath.Join(dir, "merged.gguf")
			if err := convert.Model(context.Background(), base, ggufBase, convert.ModelOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := Merge(context.Background(), ggufBase, []Input{{Path: adapterDir, Adapter: &sub, Scale: 1}}, ggufMerged, Options{}); err != nil {
				t.Fatal(err)
			}
			gm := openSource(t, ggufMerged)
			for _, m := range sub.Modules {
				l := moduleRE.FindStringSubmatch(m.Name)
				name := fmt.Sprintf("blk.%s.attn_%s.weight", l[1], map[string]string{"q_proj": "q", "k_proj": "k", "v_proj": "v", "o_proj": "output"}[l[2]])
				if d := maxAbsDiff(floats(t, gm, name), floats(t, got, m.Name+".weight")); d != 0 {
					t.Errorf("GGUF merge of %s differs from the HF merge by %g", name, d)
				}
			}
			res, err := Extract(context.Background(), base, merged, ExtractOptions{Rank: full.Config.R})
			if err != nil {
				t.Fatal(err)
			}
			ex := res.Adapter
			for _, m := range sub.Modules {
				e := ex.Module(m.Name)
				if e == nil {
					t.Fatalf("module %q not extracted", m.Name)
				}
				want, have := m.Delta(), e.Delta()
				var num, den float64
				for i := range want {
					num += (float64(have[i]) - float64(want[i])) * (float64(have[i]) - float64(want[i]))
					den += float64(want[i]) * float64(want[i])
				}
				if r := math.Sqrt(num / den); r > extractRelTol {
					t.Errorf("Extract: %s ‖ΔW' − ΔW‖/‖ΔW‖ = %g, want <= %g", m.Name, r, extractRelTol)
				}
			}
		})
	}
}

// oneLayerConfig rewrites a config.json to one hidden layer (and one entry
// of a per-layer list such as Gemma 3's layer_types).
func oneLayerConfig(t *testing.T, raw []byte) []byte {
	t.Helper()
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["num_hidden_layers"] = 1
	if lt, ok := cfg["layer_types"].([]any); ok && len(lt) > 0 {
		cfg["layer_types"] = lt[:1]
	}
	out, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
