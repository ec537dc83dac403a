package train

import (
	"slices"
	"testing"

	"github.com/lorakit/lorakit/model"
)

func TestGGUFTargets(t *testing.T) {
	for _, c := range []struct {
		arch      string
		in, want  []string
		sameAsFor []string // training with in adapts what these adapt (fixture stem in arch)
	}{
		{"qwen2", []string{"q_proj", "v_proj"}, []string{"attn_q", "attn_v"}, []string{"q", "v"}},
		{"gemma3", []string{"self_attn.o_proj", "mlp.down_proj"}, []string{"attn_output", "ffn_down"}, []string{"o", "down"}},
		{"phi3", []string{"qkv_proj", "gate_up_proj"}, []string{"attn_qkv", "ffn_up"}, []string{"qkv", "gate_up"}},
		{"gpt2", []string{"c_attn"}, []string{"attn_qkv"}, nil},
		// short and GGUF names pass; "gate" is not Qwen-MoE's router mlp.gate
		{"qwen3moe", []string{"q", "gate", "attn_v"}, []string{"q", "gate", "attn_v"}, nil},
		{"qwen2", []string{"zz_proj"}, []string{"zz_proj"}, nil},
		{"nosucharch", []string{"q_proj"}, []string{"q_proj"}, nil},
	} {
		t.Run(c.arch, func(t *testing.T) {
			if got := GGUFTargets(c.arch, c.in); !slices.Equal(got, c.want) {
				t.Fatalf("GGUFTargets(%s, %v) = %v, want %v", c.arch, c.in, got, c.want)
			}
			if c.sameAsFor == nil {
				return
			}
			count := func(targets []string) int {
				cfg := familyConfig(1)
				cfg.Targets = targets
				return newFamilyTrainer(t, c.arch+"-f32.gguf", model.Options{}, "", cfg).Trainable()
			}
			if a, b := count(c.in), count(c.sameAsFor); a != b || a == 0 {
				t.Errorf("targets %v train %d parameters, %v %d", c.in, a, c.sameAsFor, b)
			}
		})
	}
}
