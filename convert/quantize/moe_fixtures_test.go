package quantize

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
)

// TestMoEFixturesMatchLlamaQuantize: the MoE models of fixtures/arch (3-D
// ffn_{gate,up,down}_exps stacks, an F32-kept router ffn_gate_inp)
// quantize to llama-quantize's Q8_0 files byte for byte: KV list, tensor
// order and types, every tensor's bytes, the whole file.
func TestMoEFixturesMatchLlamaQuantize(t *testing.T) {
	dir := testshared.Path(t, "fixtures/arch")
	for _, stem := range []string{"mixtral-q8_0", "qwen3moe-q8_0"} {
		t.Run(stem, func(t *testing.T) {
			out := quantizeFixture(t, dir, stem, "Q8_0", Options{})
			checkQuantized(t, out, dir, "tensor-sha256", stem)
		})
	}
}

// TestMoEMixtures: an 8-expert llama (Mixtral-8x7B's expert count, 8
// layers) under Q4_K_M and Q2_K, 3-D expert stacks included, against types
// worked out by hand from llama-quant.cpp: the router ffn_gate_inp stays
// F32; with n_expert == 8, attn_v and attn_k become Q8_0 and attn_output
// Q5_K (Q4_K_M) or Q5_K (Q2_K's n_expert == 8 branch); ffn_down_exps
// follows ffn_down's layer rule with the layer parsed from the name
// (Q4_K_M: Q6_K where use_more_bits(i, 8), i in {0,3,6,7}; Q2_K: Q3_K).
func TestMoEMixtures(t *testing.T) {
	md := append(llamaMeta(8, 32, 8), format.KV{Key: "llama.expert_count", Value: uint32(8)})
	var infos []format.TensorInfo
	for l := range 8 {
		add := func(name string, shape ...int64) {
			infos = append(infos, format.TensorInfo{Name: fmt.Sprintf("blk.%d.%s", l, name), DType: format.F32, Shape: shape})
		}
		add("attn_norm.weight", 4096)
		add("attn_q.weight", 4096, 4096)
		add("attn_k.weight", 1024, 4096)
		add("attn_v.weight", 1024, 4096)
		add("attn_output.weight", 4096, 4096)
		add("ffn_gate_inp.weight", 8, 4096)
		add("ffn_gate_exps.weight", 8, 512, 4096)
		add("ffn_down_exps.weight", 8, 4096, 512)
		add("ffn_up_exps.weight", 8, 512, 4096)
	}
	more := map[int]bool{0: true, 3: true, 6: true, 7: true}
	for _, c := range []struct {
		preset                          string
		q, v, k, o, gateUp, down, downX format.DType // downX: ffn_down_exps where use_more_bits
	}{
		{"Q4_K_M", format.Q4_K, format.Q8_0, format.Q8_0, format.Q5_K, format.Q4_K, format.Q4_K, format.Q6_K},
		{"Q2_K", format.Q2_K, format.Q8_0, format.Q8_0, format.Q5_K, format.Q2_K, format.Q3_K, format.Q3_K},
	} {
		t.Run(c.preset, func(t *testing.T) {
			plan, err := NewPlan(fakeSource{infos: infos, md: md}, Options{Preset: mustPreset(t, c.preset)})
			if err != nil {
				t.Fatal(err)
			}
			for _, pt := range plan.Tensors {
				l, _ := layerOf(pt.In.Name)
				want := map[string]format.DType{
					"attn_norm.weight": format.F32, "attn_q.weight": c.q, "attn_k.weight": c.k, "attn_v.weight": c.v,
					"attn_output.weight": c.o, "ffn_gate_inp.weight": format.F32,
					"ffn_gate_exps.weight": c.gateUp, "ffn_up_exps.weight": c.gateUp, "ffn_down_exps.weight": c.down,
				}[pt.In.Name[len(fmt.Sprintf("blk.%d.", l)):]]
				if strings.HasSuffix(pt.In.Name, "ffn_down_exps.weight") && more[l] {
					want = c.downX
				}
				if pt.Out != want {
					t.Errorf("%s: %v, want %v", pt.In.Name, pt.Out, want)
				}
			}
		})
	}
}
