package check

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/convert/quantize"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/merge"
)

// baseStd is the spread of the synthetic base weights: the
// initializer_range of the Qwen2, Gemma 3 and GPT-2 configs.
const baseStd = 0.02

// layer0 selects the modules of the first layer (the synthetic bases hold
// only those).
var layer0 = regexp.MustCompile(`(layers|h)\.0\.`)

// syntheticBase writes a directory of bare safetensors with a Gaussian
// weight for each first-layer module of the adapter at path, named and laid
// out as the Hugging Face model stores it.
func syntheticBase(t *testing.T, path string) string {
	t.Helper()
	a, err := lora.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var infos []format.TensorInfo
	var data [][]byte
	for _, m := range a.Modules {
		if !layer0.MatchString(m.Name) {
			continue
		}
		shape := []int64{int64(m.Out), int64(m.In)}
		if m.Transposed() {
			shape = []int64{int64(m.In), int64(m.Out)}
		}
		name := strings.TrimPrefix(m.Name, "base_model.model.") + ".weight"
		infos = append(infos, format.TensorInfo{Name: name, DType: format.F32, Shape: shape})
		b := make([]byte, 4*m.Out*m.In)
		for i := 0; i < len(b); i += 4 {
			binary.LittleEndian.PutUint32(b[i:], math.Float32bits(float32(rng.NormFloat64()*baseStd)))
		}
		data = append(data, b)
	}
	dir := t.TempDir()
	sink, err := format.Create("safetensors", filepath.Join(dir, "model.safetensors"), infos, nil, format.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, ti := range infos {
		if err := sink.WriteTensor(ti.Name, data[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func presets(t *testing.T, names ...string) []quantize.Preset {
	t.Helper()
	out, err := quantize.ParsePresets(names...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCheckRealAdapters checks real PEFT adapters against a base of their
// shapes: every first-layer module resolves, its effective scale is the
// hand-computed alpha/r, and the share of the change a quantized release
// applies that is the update (the cosine of Q(W+ΔW)−Q(W) with ΔW) falls as
// the type coarsens (Q8_0 > Q4_K_M > Q2_K) while its error rises.
func TestCheckRealAdapters(t *testing.T) {
	adapters := testshared.Path(t, "data/adapters")
	tests := []struct {
		dir   string
		scale float64 // lora_alpha / r from adapter_config.json
	}{
		{"qwen2.5-0.5b-instruct-lora-r8-qv", 16.0 / 8},
		{"gemma3-270m-it-lora-r4-qkvo", 16.0 / 4},
		{"gpt2-tigrinya-peft-lora", 32.0 / 8},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			path := filepath.Join(adapters, tc.dir)
			base := syntheticBase(t, path)
			rep, err := Check(context.Background(), base, Options{
				Adapters: []merge.Input{{Path: path, Scale: 1}},
				Quants:   presets(t, "Q8_0", "Q4_K_M", "Q2_K"),
				Module:   layer0,
			})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK {
				t.Fatalf("blockers %v", rep.Blockers)
			}
			mods := rep.Adapters[0].Modules
			if len(mods) == 0 {
				t.Fatal("no module reported")
			}
			for _, m := range mods {
				if m.Target == "" || m.Problem != "" {
					t.Errorf("%s: target %q, problem %q", m.Name, m.Target, m.Problem)
				}
				if m.Effective != tc.scale {
					t.Errorf("%s: effective scale %g, want %g", m.Name, m.Effective, tc.scale)
				}
				s8, s4, s2 := m.Survival["Q8_0"], m.Survival["Q4_K_M"], m.Survival["Q2_K"]
				if !(s8.Cosine > s4.Cosine && s4.Cosine > s2.Cosine) || !(s8.Error < s4.Error && s4.Error < s2.Error) {
					t.Errorf("%s: survival / error Q8_0 %.3f / %.3f, Q4_K_M %.3f / %.3f (%s), Q2_K %.3f / %.3f (%s): want survival falling, error rising",
						m.Name, s8.Cosine, s8.Error, s4.Cosine, s4.Error, s4.Type, s2.Cosine, s2.Error, s2.Type)
				}
				t.Logf("%s: survival Q8_0 %.3f, Q4_K_M %.3f (%s), Q2_K %.3f (%s)", m.Name, s8.Cosine, s4.Cosine, s4.Type, s2.Cosine, s2.Type)
			}
		})
	}
}

// TestCheckScalesAndBlockers: rsLoRA and rank/alpha patterns give each
// module its own scale; a PiSSA initialisation and modules missing from
// the base are blockers; the malformed adapter is refused.
func TestCheckScalesAndBlockers(t *testing.T) {
	adapters := testshared.Path(t, "data/adapters")
	src := filepath.Join(adapters, "qwen2.5-0.5b-instruct-lora-r8-qv")
	base := syntheticBase(t, src)
	variant := func(edit func(cfg map[string]any)) string {
		t.Helper()
		dir := t.TempDir()
		raw, err := os.ReadFile(filepath.Join(src, "adapter_config.json"))
		if err != nil {
			t.Fatal(err)
		}
		var cfg map[string]any
		if err := json.Unmarshal(raw, &cfg); err != nil {
			t.Fatal(err)
		}
		edit(cfg)
		raw, _ = json.Marshal(cfg)
		if err := os.WriteFile(filepath.Join(dir, "adapter_config.json"), raw, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(src, "adapter_model.safetensors"), filepath.Join(dir, "adapter_model.safetensors")); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	run := func(path string, scale float64, module *regexp.Regexp) *Report {
		t.Helper()
		rep, err := Check(context.Background(), base, Options{Adapters: []merge.Input{{Path: path, Scale: scale}}, Module: module})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}

	rs := variant(func(c map[string]any) {
		c["use_rslora"] = true
		c["alpha_pattern"] = map[string]any{"v_proj": 4}
	})
	rep := run(rs, 0.5, layer0)
	for _, m := range rep.Adapters[0].Modules {
		alpha := 16.0
		if strings.HasSuffix(m.Name, "v_proj") {
			alpha = 4
			if !strings.Contains(m.Pattern, "alpha_pattern") {
				t.Errorf("%s: pattern %q, want alpha_pattern", m.Name, m.Pattern)
			}
		}
		want := alpha / math.Sqrt(8) // rsLoRA: alpha/√r
		if math.Abs(m.Scale-want) > 1e-12 || math.Abs(m.Effective-0.5*want) > 1e-12 {
			t.Errorf("%s: scale %g, effective %g; want %g, %g", m.Name, m.Scale, m.Effective, want, 0.5*want)
		}
	}

	pissa := variant(func(c map[string]any) { c["init_lora_weights"] = "pissa_niter_4" })
	if rep := run(pissa, 1, layer0); rep.OK || !strings.Contains(strings.Join(rep.Blockers, " "), "pissa") {
		t.Errorf("PiSSA adapter: OK %v, blockers %v; want a blocker naming the initialisation", rep.OK, rep.Blockers)
	}

	// Without --module, the other 23 layers' modules have no base tensor.
	if rep := run(src, 1, nil); rep.OK || len(rep.Blockers) != 46 {
		t.Errorf("all layers: OK %v, %d blockers; want 46 (q and v of layers 1-23)", rep.OK, len(rep.Blockers))
	}

	_, err := Check(context.Background(), base, Options{Adapters: []merge.Input{{Path: filepath.Join(adapters, "deepseek-coder-lora-MALFORMED-empty-tensors"), Scale: 1}}})
	if !errors.Is(err, format.ErrShape) {
		t.Errorf("malformed adapter: %v, want an error wrapping ErrShape", err)
	}
}

// TestCheckTiedEmbedding: LoRA on the embedding of a base whose output
// head is tied to it (GPT-2) is a warning naming the tie, and its survival
// is measured in llama.cpp's (vocab, dim) layout.
func TestCheckTiedEmbedding(t *testing.T) {
	fx := testshared.Path(t, "fixtures")
	const vocab, dim, rank = 261, 96, 2
	m := &lora.Module{Name: "token_embd", Embedding: true, Rank: rank, In: vocab, Out: dim, Alpha: rank,
		A: make([]float32, rank*vocab), B: make([]float32, dim*rank)}
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range m.A {
		m.A[i] = float32(0.1 * rng.NormFloat64())
	}
	for i := range m.B {
		m.B[i] = float32(0.1 * rng.NormFloat64())
	}
	a := &lora.Adapter{Kind: lora.KindGGUF, Arch: "gpt2", Modules: []*lora.Module{m}}
	rep, err := Check(context.Background(), filepath.Join(fx, "gpt2-f32.gguf"), Options{
		Adapters: []merge.Input{{Path: "embedding-adapter", Adapter: a, Scale: 1}},
		Quants:   presets(t, "F16"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.TiedEmbedding || rep.VocabSize != vocab || rep.EmbeddingRows != vocab {
		t.Errorf("tied %v, vocab %d, rows %d; want true, %d, %d", rep.TiedEmbedding, rep.VocabSize, rep.EmbeddingRows, vocab, vocab)
	}
	if !rep.OK || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "ties") {
		t.Errorf("OK %v, warnings %v; want one warning about the tie", rep.OK, rep.Warnings)
	}
	mr := rep.Adapters[0].Modules[0]
	if s := mr.Survival["F16"]; mr.Target != "token_embd.weight" || mr.Problem != "" || s.Cosine < 0.99 {
		t.Errorf("module: target %q, problem %q, F16 survival %+v", mr.Target, mr.Problem, s)
	}
}
