package arch

import (
	"strings"

	"github.com/lorakit/lorakit/format"
)

// gemmaTensors is the Gemma 2/3 decoder: four norms per layer (before and
// after attention and MLP), every norm stored as an offset from 1 in HF
// and as the factor itself in GGUF. The output head is the embedding.
func gemmaTensors(qkNorm bool) []Tensor {
	ts := pick("embed", "norm_a", "q", "k", "v")
	if qkNorm {
		ts = append(ts, pick("q_norm", "k_norm")...)
	}
	ts = append(ts, pick("o")...)
	ts = append(ts,
		Tensor{HF: "model.layers.{L}.post_attention_layernorm.weight", GGUF: "blk.{L}.post_attention_norm.weight"},
		Tensor{HF: "model.layers.{L}.pre_feedforward_layernorm.weight", GGUF: "blk.{L}.ffn_norm.weight"},
		Tensor{HF: "model.layers.{L}.post_feedforward_layernorm.weight", GGUF: "blk.{L}.post_ffw_norm.weight"})
	ts = append(ts, pick("gate", "up", "down", "norm", "head")...)
	return withTransform(ts, NormPlusOne, func(t Tensor) bool { return strings.HasSuffix(t.HF, "norm.weight") })
}

// gemmaDerived writes the config.json fields GGUF does not carry, as
// llama.cpp assumes them: attention scaled by 1/sqrt(head_dim)
// (query_pre_attn_scalar = head_dim) and the GeLU-tanh MLP.
func gemmaDerived(cfg map[string]any, _ format.Metadata) {
	if hd, ok := cfg["head_dim"]; ok {
		if _, set := cfg["query_pre_attn_scalar"]; !set {
			cfg["query_pre_attn_scalar"] = hd
		}
	}
}

// Gemma2 is Gemma2ForCausalLM, llama.cpp's "gemma2": soft-capped attention
// and final logits, sliding-window attention on alternate layers (llama.cpp
// makes even layers sliding), norms +1 in GGUF. llama.cpp's converter
// writes no rope.freq_base (its default 10000 is Gemma 2's) and no
// query_pre_attn_scalar (it scales by 1/sqrt(head_dim), as every Gemma 2
// but the 27B, which llama.cpp recognises by its size).
var Gemma2 = register(&Family{
	Name:        "gemma2",
	ModelTypes:  []string{"gemma2"},
	HFClass:     "Gemma2ForCausalLM",
	HFModelType: "gemma2",
	Params: []Param{
		{JSON: "max_position_embeddings", Key: "context_length"}, pEmbd, pBlocks, pFF, pHeads, pKVHeads,
		{JSON: "rms_norm_eps", Key: "attention.layer_norm_rms_epsilon", Type: F32},
		{JSON: "head_dim", Key: "attention.key_length"}, {JSON: "head_dim", Key: "attention.value_length"},
		{JSON: "attn_logit_softcapping", Key: "attn_logit_softcapping", Type: F32},
		{JSON: "final_logit_softcapping", Key: "final_logit_softcapping", Type: F32},
		{JSON: "sliding_window", Key: "attention.sliding_window"},
	},
	Tensors:    gemmaTensors(false),
	HFPrefixes: multimodalPrefixes,
	HFSkip:     rotarySkip,
	HFExtra: map[string]any{"hidden_act": "gelu_pytorch_tanh", "hidden_activation": "gelu_pytorch_tanh",
		"rope_theta": 10000.0, "cache_implementation": "hybrid"},
	HFDerived:  gemmaDerived,
	TiedAlways: true,
})

// Gemma3 is Gemma3ForCausalLM and the text tower of
// Gemma3ForConditionalGeneration, llama.cpp's "gemma3": per-head q/k norms,
// local (sliding, rope.freq_base_swa) and global (rope.freq_base) layers in
// a period of 6 (llama.cpp's fixed pattern: layer il is global when
// il % 6 == 5), no attention soft-capping, norms +1 in GGUF, the token
// embedding cut to the tokenizer's size. Defaults are llama.cpp's where
// config.json may omit a field.
var Gemma3 = register(&Family{
	Name:        "gemma3",
	ModelTypes:  []string{"gemma3_text", "gemma3"},
	HFClass:     "Gemma3ForCausalLM",
	HFModelType: "gemma3_text",
	Params: []Param{
		pBlocks,
		{JSON: "max_position_embeddings", Key: "context_length", Default: constant(131072)},
		pEmbd, pFF,
		{JSON: "num_attention_heads", Key: "attention.head_count", Default: constant(8)},
		{JSON: "num_key_value_heads", Key: "attention.head_count_kv", Default: constant(4)},
		{JSON: "rope_theta", Key: "rope.freq_base", Type: F32, Default: constant(1_000_000)},
		{JSON: "rope_local_base_freq", Key: "rope.freq_base_swa", Type: F32, Optional: true},
		{JSON: "rms_norm_eps", Key: "attention.layer_norm_rms_epsilon", Type: F32, Default: constant(1e-6)},
		{JSON: "head_dim", Key: "attention.key_length", Default: constant(256)},
		{JSON: "head_dim", Key: "attention.value_length", Default: constant(256)},
		{JSON: "final_logit_softcapping", Key: "final_logit_softcapping", Type: F32, Optional: true,
			When: func(c Config) bool { v, ok := c.Number("final_logit_softcapping"); return ok && v != 0 }},
		{JSON: "sliding_window", Key: "attention.sliding_window",
			When: func(c Config) bool { v, ok := c.Number("sliding_window_pattern"); return !ok || v != 1 }},
	},
	Tensors:    gemmaTensors(true),
	HFPrefixes: multimodalPrefixes,
	HFSkip:     rotarySkip,
	HFExtra: map[string]any{"hidden_activation": "gelu_pytorch_tanh", "sliding_window_pattern": 6,
		"cache_implementation": "hybrid"},
	HFDerived:     gemmaDerived,
	Rope:          []string{"linear", "yarn"},
	TiedAlways:    true,
	TrimEmbedding: true,
	Check:         gemma3Check,
})

// gemma3Check refuses attention soft-capping, which llama.cpp's gemma3 does
// not apply (Gemma 3 has none; a config stating one is not Gemma 3's).
func gemma3Check(c Config) error {
	if v, ok := c.Number("attn_logit_softcapping"); ok && v != 0 {
		return errUnsupported("gemma3 attn_logit_softcapping %v (llama.cpp's gemma3 applies none)", v)
	}
	return nil
}
