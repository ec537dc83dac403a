package arch

import "regexp"

// GPT2 is OpenAI's GPT-2 as Hugging Face's GPT2Model/GPT2LMHeadModel
// stores it and llama.cpp's "gpt2" loads it. Conv1D weights are stored
// [in, out] by HF and transposed for GGUF; the LM head is tied to the token
// embedding.
var GPT2 = register(&Family{
	Name:        "gpt2",
	ModelTypes:  []string{"gpt2"},
	HFClass:     "GPT2LMHeadModel",
	HFModelType: "gpt2",
	Params: []Param{
		{JSON: "n_positions", Key: "context_length"},
		{JSON: "n_embd", Key: "embedding_length"},
		{JSON: "n_inner", Key: "feed_forward_length",
			Default: func(c Config) (float64, bool) { e, ok := c.Number("n_embd"); return 4 * e, ok }},
		{JSON: "n_layer", Key: "block_count"},
		{JSON: "n_head", Key: "attention.head_count"},
		{JSON: "layer_norm_epsilon", Key: "attention.layer_norm_epsilon", Type: F32, Default: constant(1e-5)},
	},
	Tensors: []Tensor{
		{HF: "wte.weight", GGUF: "token_embd.weight"},
		{HF: "wpe.weight", GGUF: "position_embd.weight"},
		{HF: "h.{L}.ln_1.weight", GGUF: "blk.{L}.attn_norm.weight"},
		{HF: "h.{L}.ln_1.bias", GGUF: "blk.{L}.attn_norm.bias"},
		{HF: "h.{L}.attn.c_attn.weight", GGUF: "blk.{L}.attn_qkv.weight", Transform: Transpose, Parts: []string{"q", "k", "v"}},
		{HF: "h.{L}.attn.c_attn.bias", GGUF: "blk.{L}.attn_qkv.bias", Parts: []string{"q", "k", "v"}},
		{HF: "h.{L}.attn.c_proj.weight", GGUF: "blk.{L}.attn_output.weight", Transform: Transpose},
		{HF: "h.{L}.attn.c_proj.bias", GGUF: "blk.{L}.attn_output.bias"},
		{HF: "h.{L}.ln_2.weight", GGUF: "blk.{L}.ffn_norm.weight"},
		{HF: "h.{L}.ln_2.bias", GGUF: "blk.{L}.ffn_norm.bias"},
		{HF: "h.{L}.mlp.c_fc.weight", GGUF: "blk.{L}.ffn_up.weight", Transform: Transpose},
		{HF: "h.{L}.mlp.c_fc.bias", GGUF: "blk.{L}.ffn_up.bias"},
		{HF: "h.{L}.mlp.c_proj.weight", GGUF: "blk.{L}.ffn_down.weight", Transform: Transpose},
		{HF: "h.{L}.mlp.c_proj.bias", GGUF: "blk.{L}.ffn_down.bias"},
		{HF: "ln_f.weight", GGUF: "output_norm.weight"},
		{HF: "ln_f.bias", GGUF: "output_norm.bias"},
		{HF: "lm_head.weight", GGUF: "output.weight"},
	},
	HFPrefixes:    []Prefix{{From: "transformer.", To: ""}},
	PEFTPrefix:    "transformer.",
	TiedByDefault: true,
	HFSkip:        regexp.MustCompile(`(^|\.)attn\.(masked_)?bias$`),
	HFExtra: map[string]any{
		"activation_function": "gelu_new",
		"tie_word_embeddings": true,
	},
})
