package arch

// qwenParams are the hyperparameters llama.cpp's Qwen2/Qwen3 converters
// write: no vocab_size or rope.dimension_count, key/value_length only when
// config.json states head_dim.
var qwenParams = []Param{pBlocks, pContext, pEmbd, pFF, pHeads, pKVHeads, pTheta, pRMSEps, pKeyLen, pValLen}

// Qwen2 (Qwen2, Qwen2.5) has the llama layout plus q/k/v biases; llama.cpp
// runs it with NEOX rope (HF's own half-split layout), so q/k rows are not
// permuted.
var Qwen2 = register(&Family{
	Name:        "qwen2",
	ModelTypes:  []string{"qwen2"},
	HFClass:     "Qwen2ForCausalLM",
	HFModelType: "qwen2",
	Params:      qwenParams,
	Tensors:     pick("embed", "norm_a", "q", "k", "v", "q_bias", "k_bias", "v_bias", "o", "norm_f", "gate", "up", "down", "norm", "head"),
	HFSkip:      rotarySkip,
	HFExtra:     map[string]any{"hidden_act": "silu"},
	Rope:        []string{"linear", "yarn"},
})

// Qwen3 adds per-head RMSNorms on q and k (attn_q_norm, attn_k_norm, of
// head_dim values) and states head_dim, which may differ from
// hidden_size / num_attention_heads; NEOX rope, no permutation.
var Qwen3 = register(&Family{
	Name:        "qwen3",
	ModelTypes:  []string{"qwen3"},
	HFClass:     "Qwen3ForCausalLM",
	HFModelType: "qwen3",
	Params:      qwenParams,
	Tensors:     pick("embed", "norm_a", "q", "k", "v", "q_norm", "k_norm", "o", "norm_f", "gate", "up", "down", "norm", "head"),
	HFSkip:      rotarySkip,
	HFExtra:     map[string]any{"hidden_act": "silu"},
	Rope:        []string{"linear", "yarn"},
})
