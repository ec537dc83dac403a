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

// Qwen3MoE is Qwen3MoeForCausalLM (Qwen3-30B-A3B, 235B-A22B), llama.cpp's
// "qwen3moe": Qwen3's attention, and in every layer a router
// (ffn_gate_inp) and experts that GGUF stacks into ffn_{down,gate,up}_exps
// of shape [experts, out, in]. llama.cpp always normalises the top-k
// weights and makes every layer sparse, so configs that say otherwise are
// refused.
var Qwen3MoE = register(&Family{
	Name:        "qwen3moe",
	ModelTypes:  []string{"qwen3_moe"},
	HFClass:     "Qwen3MoeForCausalLM",
	HFModelType: "qwen3_moe",
	Params: []Param{pBlocks, pContext, pEmbd, pFF, pHeads, pKVHeads, pTheta, pRMSEps,
		{JSON: "num_experts", Key: "expert_count"}, {JSON: "num_experts_per_tok", Key: "expert_used_count"},
		pKeyLen, pValLen, {JSON: "moe_intermediate_size", Key: "expert_feed_forward_length"}},
	Tensors: pick("embed", "norm_a", "q", "k", "v", "q_norm", "k_norm", "o", "norm_f",
		"exp_down", "exp_gate", "exp_up", "exp_router", "norm", "head"),
	HFSkip:  rotarySkip,
	HFExtra: map[string]any{"hidden_act": "silu", "norm_topk_prob": true, "decoder_sparse_step": 1, "mlp_only_layers": []int{}},
	Rope:    []string{"linear", "yarn"},
	Check:   qwenMoECheck,
})

// qwenMoECheck refuses what llama.cpp's qwen3moe does not run: top-k
// weights left unnormalised, dense layers among the sparse ones.
func qwenMoECheck(c Config) error {
	if v, ok := c.Number("norm_topk_prob"); ok && v == 0 {
		return errUnsupported("qwen3moe norm_topk_prob false (llama.cpp always normalises the top-k weights)")
	}
	if v, ok := c.Number("decoder_sparse_step"); ok && v != 1 {
		return errUnsupported("qwen3moe decoder_sparse_step %v (llama.cpp makes every layer sparse)", v)
	}
	if l, ok := c["mlp_only_layers"].([]any); ok && len(l) > 0 {
		return errUnsupported("qwen3moe mlp_only_layers %v (llama.cpp makes every layer sparse)", l)
	}
	return nil
}
