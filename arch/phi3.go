package arch

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
	HFSkip:  rotarySkip,
	HFExtra: map[string]any{"hidden_act": "silu"},
	Rope:    []string{"longrope"},
})
