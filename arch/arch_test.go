package arch

import (
	"errors"
	"math"
	"path/filepath"
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
