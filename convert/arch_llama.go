package convert

import "regexp"

// llamaTensors is the decoder layout shared by Llama, Mistral and Qwen2
// (Qwen2 adds q/k/v biases).
var llamaTensors = []TensorName{
	{HF: "model.embed_tokens.weight", GGUF: "token_embd.weight"},
	{HF: "model.layers.{L}.input_layernorm.weight", GGUF: "blk.{L}.attn_norm.weight"},
	{HF: "model.layers.{L}.self_attn.q_proj.weight", GGUF: "blk.{L}.attn_q.weight", Transform: RopeQ},
	{HF: "model.layers.{L}.self_attn.k_proj.weight", GGUF: "blk.{L}.attn_k.weight", Transform: RopeK},
	{HF: "model.layers.{L}.self_attn.v_proj.weight", GGUF: "blk.{L}.attn_v.weight"},
	{HF: "model.layers.{L}.self_attn.q_proj.bias", GGUF: "blk.{L}.attn_q.bias", Transform: RopeQ},
	{HF: "model.layers.{L}.self_attn.k_proj.bias", GGUF: "blk.{L}.attn_k.bias", Transform: RopeK},
	{HF: "model.layers.{L}.self_attn.v_proj.bias", GGUF: "blk.{L}.attn_v.bias"},
	{HF: "model.layers.{L}.self_attn.o_proj.weight", GGUF: "blk.{L}.attn_output.weight"},
	{HF: "model.layers.{L}.post_attention_layernorm.weight", GGUF: "blk.{L}.ffn_norm.weight"},
	{HF: "model.layers.{L}.mlp.gate_proj.weight", GGUF: "blk.{L}.ffn_gate.weight"},
	{HF: "model.layers.{L}.mlp.up_proj.weight", GGUF: "blk.{L}.ffn_up.weight"},
	{HF: "model.layers.{L}.mlp.down_proj.weight", GGUF: "blk.{L}.ffn_down.weight"},
	{HF: "model.norm.weight", GGUF: "output_norm.weight"},
	{HF: "lm_head.weight", GGUF: "output.weight"},
}

// llamaParams are the hyperparameters of the llama layout.
var llamaParams = []Param{
	{JSON: "max_position_embeddings", Key: "context_length", Type: "u32"},
	{JSON: "hidden_size", Key: "embedding_length", Type: "u32"},
	{JSON: "intermediate_size", Key: "feed_forward_length", Type: "u32"},
	{JSON: "num_hidden_layers", Key: "block_count", Type: "u32"},
	{JSON: "num_attention_heads", Key: "attention.head_count", Type: "u32"},
	{JSON: "num_key_value_heads", Key: "attention.head_count_kv", Type: "u32",
		Default: func(c map[string]float64) (float64, bool) { h, ok := c["num_attention_heads"]; return h, ok }},
	{JSON: "head_dim", Key: "rope.dimension_count", Type: "u32", Default: headDim},
	{JSON: "rope_theta", Key: "rope.freq_base", Type: "f32",
		Default: func(map[string]float64) (float64, bool) { return 10000, true }},
	{JSON: "rms_norm_eps", Key: "attention.layer_norm_rms_epsilon", Type: "f32",
		Default: func(map[string]float64) (float64, bool) { return 1e-6, true }},
	{JSON: "head_dim", Key: "attention.key_length", Type: "u32", Default: headDim},
	{JSON: "head_dim", Key: "attention.value_length", Type: "u32", Default: headDim},
	{JSON: "vocab_size", Key: "vocab_size", Type: "u32", Default: fromEmbedding},
}

// fromEmbedding marks a field that export derives from the token
// embedding's shape; import requires it.
func fromEmbedding(map[string]float64) (float64, bool) { return 0, false }

// headDim is hidden_size / num_attention_heads, the head size when
// config.json does not state head_dim.
func headDim(c map[string]float64) (float64, bool) {
	h, ok1 := c["hidden_size"]
	n, ok2 := c["num_attention_heads"]
	if !ok1 || !ok2 || n == 0 {
		return 0, false
	}
	return h / n, true
}

// rotarySkip drops rotary-embedding caches some checkpoints store.
var rotarySkip = regexp.MustCompile(`rotary_emb\.inv_freq$`)

// llama covers LlamaForCausalLM and MistralForCausalLM, which llama.cpp
// loads as "llama" (rope type NORM: adjacent pairs, hence the q/k row
// permutation).
var llama = register(&Arch{
	Name:        "llama",
	ModelTypes:  []string{"llama", "mistral"},
	HFClass:     "LlamaForCausalLM",
	HFModelType: "llama",
	Params:      llamaParams,
	Tensors:     llamaTensors,
	HFSkip:      rotarySkip,
	Extra:       map[string]any{"hidden_act": "silu"},
})

// qwen2 has the llama layout plus q/k/v biases; llama.cpp loads it as
// "qwen2" with NEOX rope (HF's own half-split layout), so q/k rows are not
// permuted.
var _ = register(&Arch{
	Name:        "qwen2",
	ModelTypes:  []string{"qwen2"},
	HFClass:     "Qwen2ForCausalLM",
	HFModelType: "qwen2",
	Params:      llamaParams,
	Tensors:     withoutRope(llamaTensors),
	HFSkip:      rotarySkip,
	Extra:       map[string]any{"hidden_act": "silu"},
})

// withoutRope is in with the RoPE row permutations dropped.
func withoutRope(in []TensorName) []TensorName {
	out := append([]TensorName(nil), in...)
	for i := range out {
		if out[i].Transform == RopeQ || out[i].Transform == RopeK {
			out[i].Transform = None
		}
	}
	return out
}
