package arch

import (
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	_ "github.com/lorakit/lorakit/format/gguf"
	"github.com/lorakit/lorakit/internal/testshared"
)

func TestLookupUnknown(t *testing.T) {
	_, err := Lookup("mamba")
	if !errors.Is(err, format.ErrUnsupported) {
		t.Fatalf("Lookup(mamba) = %v, want ErrUnsupported", err)
	}
	for _, n := range Names() {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not list %s", err, n)
		}
	}
	if _, err := ForModelType("llama"); err != nil {
		t.Errorf("ForModelType(llama) = %v", err)
	}
	if f, err := ForModelType("mistral"); err != nil || f != Llama {
		t.Errorf("ForModelType(mistral) = %v, %v, want llama", f, err)
	}
}

func TestHintFromName(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"Qwen/Qwen2.5-0.5B-Instruct", "qwen2"},
		{"/teamspace/models/Qwen2.5-1.5B-Instruct", "qwen2"},
		{"Qwen/Qwen3-0.6B", "qwen3"},
		{"Qwen/Qwen3-30B-A3B-Instruct-2507", "qwen3moe"},
		{"mistralai/Mixtral-8x7B-v0.1", "llama"},
		{"google/gemma-3-270m-it", "gemma3"},
		{"gemma3-270m-it", "gemma3"},
		{"google/gemma-2-2b-it", "gemma2"},
		{"google/gemma-2b", ""}, // Gemma 1, not 2
		{"meta-llama/Llama-3.2-1B-Instruct", "llama"},
		{"/Users/pdevine/git/Meta-Llama-3-8B-Instruct", "llama"},
		{"TinyLlama/TinyLlama-1.1B-Chat-v1.0", "llama"},
		{"mistralai/Mistral-Nemo-Instruct-2407", "llama"},
		{"HuggingFaceTB/SmolLM2-135M", "llama"},
		{"HuggingFaceTB/SmolLM3-3B", "smollm3"},
		{"microsoft/Phi-3-mini-4k-instruct", "phi3"},
		{"microsoft/phi-4", "phi3"},
		{"gpt2", "gpt2"},
		{"my-org/my-finetune", ""},
		{"", ""},
	} {
		if got := HintFromName(c.name); got != c.want {
			t.Errorf("HintFromName(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestIdentifyAdapter(t *testing.T) {
	llamaLayout := []string{"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj"}
	for _, c := range []struct {
		name    string
		modules []string
		base    string
		want    string
		err     error
	}{
		{"qwen by name", llamaLayout, "Qwen/Qwen2.5-0.5B-Instruct", "qwen2", nil},
		{"gemma by name", llamaLayout, "google/gemma-3-270m-it", "gemma3", nil},
		{"llama by name", llamaLayout, "meta-llama/Llama-3.2-1B", "llama", nil},
		{"no name: never llama by default", llamaLayout, "", "", format.ErrUnsupported},
		{"gpt2 by modules alone", []string{"transformer.h.0.attn.c_attn"}, "", "gpt2", nil},
		{"phi3 by modules alone", []string{"model.layers.0.self_attn.qkv_proj"}, "", "phi3", nil},
		{"name contradicts modules", []string{"model.layers.0.self_attn.qkv_proj"}, "Qwen/Qwen2.5-7B", "", format.ErrUnsupported},
		{"modules of no family", []string{"backbone.layers.0.mixer.in_proj"}, "mamba-130m", "", format.ErrUnsupported},
		{"multimodal gemma 3 text tower", []string{"language_model.model.layers.0.self_attn.q_proj"}, "google/gemma-3-4b-it", "gemma3", nil},
		{"multimodal gemma 3 with vision modules", []string{"model.language_model.layers.0.self_attn.q_proj",
			"model.vision_tower.vision_model.encoder.layers.0.self_attn.q_proj"}, "google/gemma-3-4b-it", "gemma3", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := IdentifyAdapter(c.modules, c.base)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("IdentifyAdapter = %v, %v, want %v", f, err, c.err)
				}
				return
			}
			if err != nil || f.Name != c.want {
				t.Fatalf("IdentifyAdapter = %v, %v, want %s", f, err, c.want)
			}
		})
	}
}

// TestLlama3Factors compares llama3Factors with the rope_freqs.weight of
// two GGUFs made by other code: llama.cpp's converter (hf-convert
// llama32: theta 500000, head_dim 16, factor 32, original 8192) and the
// arch fixtures' generator (llama31: theta 500000, head_dim 32, factor 8,
// original 32). Torch's float32 pow is not correctly rounded, hence
// ropeFreqsTolerance rather than equality.
func TestLlama3Factors(t *testing.T) {
	for _, c := range []struct {
		file string
		dim  int
		p    llama3Params
	}{
		{"fixtures/hf-convert/llama32-f32.gguf", 16, llama3Params{factor: 32, low: 1, high: 4, old: 8192}},
		{"fixtures/arch/llama31-f32.gguf", 32, llama3Params{factor: 8, low: 1, high: 4, old: 32}},
	} {
		src, err := format.Open(testshared.Path(t, c.file))
		if err != nil {
			t.Fatal(err)
		}
		data, err := src.TensorData("rope_freqs.weight")
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float32, len(data)/4)
		format.ToFloat32(want, data, format.F32)
		src.Close()
		got := llama3Factors(c.dim, 500000, c.p)
		if len(got) != len(want) {
			t.Fatalf("%s: %d factors, want %d", c.file, len(got), len(want))
		}
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > ropeFreqsTolerance*float64(want[i]) {
				t.Errorf("%s: factor %d = %v, want %v", filepath.Base(c.file), i, got[i], want[i])
			}
		}
		p, ok := inferLlama3(want, c.dim, 500000, 256)
		if !ok || p != c.p {
			t.Errorf("%s: inferLlama3 = %+v, %v, want %+v", filepath.Base(c.file), p, ok, c.p)
		}
	}
}

// TestTextConfig: a multimodal config's text_config decides the family.
func TestTextConfig(t *testing.T) {
	cfg := map[string]any{"model_type": "gemma3", "architectures": []any{"Gemma3ForConditionalGeneration"},
		"text_config": map[string]any{"model_type": "gemma3_text", "hidden_size": 2560.0}, "vision_config": map[string]any{}}
	text, mm := TextConfig(cfg)
	if !mm {
		t.Fatal("TextConfig did not see the text_config")
	}
	if mt, _ := text.String("model_type"); mt != "gemma3_text" {
		t.Errorf("model_type = %q, want gemma3_text", mt)
	}
	if h, _ := text.Number("hidden_size"); h != 2560 {
		t.Errorf("hidden_size = %v, want 2560", h)
	}
	m, ok := Gemma3.GGUF("model.language_model.layers.3.self_attn.q_proj.weight")
	if !ok || m.Name != "blk.3.attn_q.weight" {
		t.Errorf("newer multimodal name maps to %q, %v", m.Name, ok)
	}
	if !VisionTensor("model.vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight") || VisionTensor("model.language_model.norm.weight") {
		t.Error("VisionTensor misclassifies")
	}
}

// TestChecks: configurations llama.cpp would run differently from
// transformers are refused, the ones it runs alike pass.
func TestChecks(t *testing.T) {
	nope := func(layers int, step int) []any {
		out := make([]any, layers)
		for il := range out {
			out[il] = 1.0
			if (il+1)%step == 0 {
				out[il] = 0.0
			}
		}
		return out
	}
	base := Config{"num_hidden_layers": 8.0, "hidden_size": 64.0, "intermediate_size": 96.0, "num_attention_heads": 4.0,
		"vocab_size": 304.0}
	with := func(k string, v any) Config {
		c := Config{}
		for kk, vv := range base {
			c[kk] = vv
		}
		c[k] = v
		return c
	}
	for _, c := range []struct {
		name string
		f    *Family
		cfg  Config
		ok   bool
	}{
		{"smollm3 every 4th layer NoPE", SmolLM3, with("no_rope_layers", nope(8, 4)), true},
		{"smollm3 every 3rd layer NoPE", SmolLM3, with("no_rope_layers", nope(8, 3)), false},
		{"smollm3 interval 3", SmolLM3, with("no_rope_layer_interval", 3.0), false},
		{"qwen3moe sparse step 2", Qwen3MoE, with("decoder_sparse_step", 2.0), false},
		{"gemma3 soft-capped attention", Gemma3, with("attn_logit_softcapping", 50.0), false},
		{"gemma3 no soft-capping", Gemma3, with("attn_logit_softcapping", nil), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.f.Check(c.cfg)
			if c.ok != (err == nil) || (err != nil && !errors.Is(err, format.ErrUnsupported)) {
				t.Errorf("Check = %v, want ok %v", err, c.ok)
			}
		})
	}
}

// TestPhi3PartialRotary: Phi-4-mini rotates 3/4 of each head (config
// partial_rotary_factor 0.75, hidden 3072, 24 heads): rope.dimension_count
// = int(0.75·3072)/24 = 96, and back.
func TestPhi3PartialRotary(t *testing.T) {
	cfg := Config{"max_position_embeddings": 131072.0, "original_max_position_embeddings": 4096.0, "hidden_size": 3072.0,
		"intermediate_size": 8192.0, "num_hidden_layers": 32.0, "num_attention_heads": 24.0, "num_key_value_heads": 8.0,
		"rms_norm_eps": 1e-5, "rope_theta": 10000.0, "partial_rotary_factor": 0.75}
	md, err := Phi3.GGUFMetadata(cfg, "config.json")
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := md.Int("phi3.rope.dimension_count"); d != 96 {
		t.Errorf("rope.dimension_count = %d, want 96", d)
	}
	back, err := Phi3.HFConfig(md, nil, 200064, true)
	if err != nil {
		t.Fatal(err)
	}
	if back["partial_rotary_factor"] != 0.75 {
		t.Errorf("partial_rotary_factor = %v, want 0.75", back["partial_rotary_factor"])
	}
}

// TestRopeParameters: transformers 5 configs state RoPE as
// rope_parameters; they give the same keys as the older fields.
func TestRopeParameters(t *testing.T) {
	base := map[string]any{"model_type": "llama", "num_hidden_layers": 2.0, "hidden_size": 64.0, "intermediate_size": 96.0,
		"num_attention_heads": 4.0, "num_key_value_heads": 2.0, "vocab_size": 304.0, "rms_norm_eps": 1e-5}
	old, v5 := map[string]any{}, map[string]any{}
	for k, v := range base {
		old[k], v5[k] = v, v
	}
	old["rope_theta"] = 500000.0
	old["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192.0}
	v5["rope_parameters"] = map[string]any{"rope_type": "llama3", "rope_theta": 500000.0, "factor": 32.0, "low_freq_factor": 1.0,
		"high_freq_factor": 4.0, "original_max_position_embeddings": 8192.0}
	a, _ := TextConfig(old)
	b, _ := TextConfig(v5)
	ma, err1 := Llama.GGUFMetadata(a, "old")
	mb, err2 := Llama.GGUFMetadata(b, "v5")
	ga, _ := Llama.Generate(a, "old")
	gb, _ := Llama.Generate(b, "v5")
	if err1 != nil || err2 != nil || !reflect.DeepEqual(ma, mb) || !reflect.DeepEqual(ga, gb) || len(gb) != 1 {
		t.Errorf("rope_parameters: %v %v\n%v\n%v\n%v %v", err1, err2, ma, mb, ga, gb)
	}
	g3, _ := TextConfig(map[string]any{"rope_parameters": map[string]any{
		"full_attention": map[string]any{"rope_type": "default", "rope_theta": 1e6}, "sliding_attention": map[string]any{"rope_type": "default", "rope_theta": 1e4}}})
	if g3["rope_theta"] != 1e6 || g3["rope_local_base_freq"] != 1e4 || g3["rope_scaling"] != nil {
		t.Errorf("Gemma 3 rope_parameters read as %v", g3)
	}
}

// TestSortKeyExperts: llama.cpp's converter reads HF tensors in name
// order and writes a layer's stacked experts when the last of them
// arrives: with 64 experts that is expert 9 ("experts.9." sorts after
// "experts.63."), so the stacks come after a tensor named between them.
func TestSortKeyExperts(t *testing.T) {
	if got := lastInNameOrder(64); got != 9 {
		t.Errorf("lastInNameOrder(64) = %d, want 9", got)
	}
	if got := lastInNameOrder(4); got != 3 {
		t.Errorf("lastInNameOrder(4) = %d, want 3", got)
	}
	_, key, _ := Qwen3MoE.SortKey("blk.0.ffn_gate_exps.weight", 64)
	if key != "model.layers.0.mlp.experts.9.up_proj.weight" {
		t.Errorf("SortKey(ffn_gate_exps, 64 experts) = %q", key)
	}
}

// TestGenerateBadHeadDim: a hostile head_dim is refused before any rope
// factor is allocated from it.
func TestGenerateBadHeadDim(t *testing.T) {
	for _, hd := range []float64{1e12, 0, 7.5} {
		cfg := Config{"hidden_size": 64.0, "num_attention_heads": 4.0, "head_dim": hd,
			"rope_scaling": map[string]any{"rope_type": "llama3", "factor": 8.0}}
		if _, err := Llama.Generate(cfg, "config.json"); !errors.Is(err, format.ErrFormat) {
			t.Errorf("Generate(head_dim %v) = %v, want ErrFormat", hd, err)
		}
	}
}
