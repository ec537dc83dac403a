package arch

import "github.com/lorakit/lorakit/format"

// Phi3 is Phi3ForCausalLM (Phi-3, 3.5 and 4 mini), llama.cpp's "phi3":
// q, k and v stay fused in attn_qkv (rows q|k|v) and gate and up in ffn_up
// (rows gate|up), as llama.cpp keeps them; NEOX rope, no permutation;
// LongRoPE scaling becomes the rope_factors_long/short tensors and
// rope.scaling.attn_factor. llama.cpp ignores the sliding window (it logs
// "Phi SWA is currently disabled").
var Phi3 = register(&Family{
	Name:        "phi3",
	ModelTypes:  []string{"phi3"},
	HFClass:     "Phi3ForCausalLM",
	HFModelType: "phi3",
	Params: []Param{
		{JSON: "max_position_embeddings", Key: "context_length"},
		{JSON: "original_max_position_embeddings", Key: "rope.scaling.original_context_length"},
		pEmbd, pFF, pBlocks, pHeads, pKVHeads,
		{JSON: "rms_norm_eps", Key: "attention.layer_norm_rms_epsilon", Type: F32},
		{Key: "rope.dimension_count", Default: func(c Config) (float64, bool) {
			d, err := phi3RopeDims(c)
			return float64(d), err == nil
		}},
		{JSON: "rope_theta", Key: "rope.freq_base", Type: F32},
		{JSON: "sliding_window", Key: "attention.sliding_window", Default: constant(0)},
	},
	Tensors: []Tensor{
		decoder["embed"], decoder["norm_a"],
		{HF: "model.layers.{L}.self_attn.qkv_proj.weight", GGUF: "blk.{L}.attn_qkv.weight", Rows: QKVRows, Parts: []string{"q", "k", "v"}},
		decoder["o"], decoder["norm_f"],
		{HF: "model.layers.{L}.mlp.gate_up_proj.weight", GGUF: "blk.{L}.ffn_up.weight", Parts: []string{"gate", "up"}},
		decoder["down"], decoder["norm"], decoder["head"],
	},
	HFSkip:    rotarySkip,
	HFExtra:   map[string]any{"hidden_act": "silu"},
	HFDerived: phi3Derived,
	Rope:      []string{"longrope"},
})

// phi3Derived states a partial rotary width (Phi-4-mini rotates 3/4 of
// each head) as partial_rotary_factor = rope dims · heads / hidden.
func phi3Derived(cfg map[string]any, md format.Metadata) {
	dim, ok1 := md.Int("phi3.rope.dimension_count")
	heads, ok2 := md.Int("phi3.attention.head_count")
	hidden, ok3 := md.Int("phi3.embedding_length")
	if ok1 && ok2 && ok3 && hidden > 0 && dim*heads != hidden {
		cfg["partial_rotary_factor"] = float64(dim*heads) / float64(hidden)
	}
}
