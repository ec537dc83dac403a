package arch

import (
	"fmt"
	"regexp"

	"github.com/lorakit/lorakit/format"
)

// decoder is the tensor layout of Llama and the families built on it
// (Mistral, Qwen2/3, Gemma 2/3, SmolLM): HF names under model.layers.{L},
// llama.cpp names under blk.{L}. Each family takes the entries it has.
var decoder = map[string]Tensor{
	"embed":  {HF: "model.embed_tokens.weight", GGUF: "token_embd.weight"},
	"norm_a": {HF: "model.layers.{L}.input_layernorm.weight", GGUF: "blk.{L}.attn_norm.weight"},
	"q":      {HF: "model.layers.{L}.self_attn.q_proj.weight", GGUF: "blk.{L}.attn_q.weight", Rows: QRows},
	"k":      {HF: "model.layers.{L}.self_attn.k_proj.weight", GGUF: "blk.{L}.attn_k.weight", Rows: KVRows},
	"v":      {HF: "model.layers.{L}.self_attn.v_proj.weight", GGUF: "blk.{L}.attn_v.weight", Rows: KVRows},
	"q_bias": {HF: "model.layers.{L}.self_attn.q_proj.bias", GGUF: "blk.{L}.attn_q.bias", Rows: QRows},
	"k_bias": {HF: "model.layers.{L}.self_attn.k_proj.bias", GGUF: "blk.{L}.attn_k.bias", Rows: KVRows},
	"v_bias": {HF: "model.layers.{L}.self_attn.v_proj.bias", GGUF: "blk.{L}.attn_v.bias", Rows: KVRows},
	"q_norm": {HF: "model.layers.{L}.self_attn.q_norm.weight", GGUF: "blk.{L}.attn_q_norm.weight", Rows: HeadDimRows},
	"k_norm": {HF: "model.layers.{L}.self_attn.k_norm.weight", GGUF: "blk.{L}.attn_k_norm.weight", Rows: HeadDimRows},
	"o":      {HF: "model.layers.{L}.self_attn.o_proj.weight", GGUF: "blk.{L}.attn_output.weight"},
	"norm_f": {HF: "model.layers.{L}.post_attention_layernorm.weight", GGUF: "blk.{L}.ffn_norm.weight"},
	"gate":   {HF: "model.layers.{L}.mlp.gate_proj.weight", GGUF: "blk.{L}.ffn_gate.weight"},
	"up":     {HF: "model.layers.{L}.mlp.up_proj.weight", GGUF: "blk.{L}.ffn_up.weight"},
	"down":   {HF: "model.layers.{L}.mlp.down_proj.weight", GGUF: "blk.{L}.ffn_down.weight"},
	"norm":   {HF: "model.norm.weight", GGUF: "output_norm.weight"},
	"head":   {HF: "lm_head.weight", GGUF: "output.weight"},
	// Mixtral's sparse MLP: a router and experts stacked by GGUF.
	"moe_router": {HF: "model.layers.{L}.block_sparse_moe.gate.weight", GGUF: "blk.{L}.ffn_gate_inp.weight", Rows: ExpertRows},
	"moe_w1":     {HF: "model.layers.{L}.block_sparse_moe.experts.{E}.w1.weight", GGUF: "blk.{L}.ffn_gate_exps.weight"},
	"moe_w2":     {HF: "model.layers.{L}.block_sparse_moe.experts.{E}.w2.weight", GGUF: "blk.{L}.ffn_down_exps.weight"},
	"moe_w3":     {HF: "model.layers.{L}.block_sparse_moe.experts.{E}.w3.weight", GGUF: "blk.{L}.ffn_up_exps.weight"},
	// Qwen-MoE's sparse MLP, in the order llama.cpp's converter stacks it.
	"exp_router": {HF: "model.layers.{L}.mlp.gate.weight", GGUF: "blk.{L}.ffn_gate_inp.weight", Rows: ExpertRows},
	"exp_down":   {HF: "model.layers.{L}.mlp.experts.{E}.down_proj.weight", GGUF: "blk.{L}.ffn_down_exps.weight"},
	"exp_gate":   {HF: "model.layers.{L}.mlp.experts.{E}.gate_proj.weight", GGUF: "blk.{L}.ffn_gate_exps.weight"},
	"exp_up":     {HF: "model.layers.{L}.mlp.experts.{E}.up_proj.weight", GGUF: "blk.{L}.ffn_up_exps.weight"},
}

// pick returns the decoder entries named, in order.
func pick(names ...string) []Tensor {
	out := make([]Tensor, len(names))
	for i, n := range names {
		t, ok := decoder[n]
		if !ok {
			panic("arch: no decoder tensor " + n)
		}
		out[i] = t
	}
	return out
}

// withTransform returns a copy of ts with transform t set on the entries
// match selects.
func withTransform(ts []Tensor, t Transform, match func(Tensor) bool) []Tensor {
	out := append([]Tensor(nil), ts...)
	for i := range out {
		if match(out[i]) {
			out[i].Transform = t
		}
	}
	return out
}

// ropePermuted gives the q/k weights and biases llama.cpp's RoPE row
// permutation (families run with NORM rope).
func ropePermuted(ts []Tensor) []Tensor {
	out := append([]Tensor(nil), ts...)
	for i := range out {
		switch out[i].Rows {
		case QRows:
			out[i].Transform = RopeQ
		case KVRows:
			if out[i].GGUF == decoder["k"].GGUF || out[i].GGUF == decoder["k_bias"].GGUF {
				out[i].Transform = RopeK
			}
		}
	}
	return out
}

// rotarySkip drops rotary-embedding caches some checkpoints store.
var rotarySkip = regexp.MustCompile(`rotary_emb\.inv_freq$`)

// multimodalPrefixes hold the text tower of Gemma 3 and Mistral 3
// ForConditionalGeneration checkpoints (older and newer transformers).
var multimodalPrefixes = []Prefix{{From: "language_model.", To: ""}, {From: "model.language_model.", To: "model."}}

// visionSkip drops the vision tower and projector of a multimodal
// checkpoint: lorakit converts its text tower only.
var visionSkip = regexp.MustCompile(`^(model\.)?(vision_tower|vision_model|multi_modal_projector|multimodal_projector)\.|rotary_emb\.inv_freq$`)

// VisionTensor reports whether an HF tensor belongs to a multimodal
// checkpoint's vision side, which lorakit leaves out (text tower only).
func VisionTensor(name string) bool {
	return visionSkip.MatchString(name) && !rotarySkip.MatchString(name)
}

// The llama hyperparameters, in llama.cpp's key order.
var (
	pBlocks  = Param{JSON: "num_hidden_layers", Key: "block_count"}
	pContext = Param{JSON: "max_position_embeddings", Key: "context_length", Optional: true}
	pEmbd    = Param{JSON: "hidden_size", Key: "embedding_length"}
	pFF      = Param{JSON: "intermediate_size", Key: "feed_forward_length"}
	pHeads   = Param{JSON: "num_attention_heads", Key: "attention.head_count"}
	pKVHeads = Param{JSON: "num_key_value_heads", Key: "attention.head_count_kv", Default: sameAs("num_attention_heads")}
	pTheta   = Param{JSON: "rope_theta", Key: "rope.freq_base", Type: F32, Optional: true}
	pRMSEps  = Param{JSON: "rms_norm_eps", Key: "attention.layer_norm_rms_epsilon", Type: F32, Optional: true}
	pExperts = Param{JSON: "num_local_experts", Key: "expert_count", Optional: true}
	pUsed    = Param{JSON: "num_experts_per_tok", Key: "expert_used_count", Optional: true}
	pKeyLen  = Param{JSON: "head_dim", Key: "attention.key_length", Optional: true}
	pValLen  = Param{JSON: "head_dim", Key: "attention.value_length", Optional: true}
	pVocab   = Param{JSON: "vocab_size", Key: "vocab_size"}
	// rope.dimension_count is head_dim, stated or not; on export head_dim
	// comes from key_length alone (HF's default is hidden / heads).
	pRopeDim = Param{Key: "rope.dimension_count", Default: func(c Config) (float64, bool) {
		if v, ok := c.Number("head_dim"); ok {
			return v, true
		}
		return headDim(c)
	}}
)

// llamaTensors is the llama layout with llama.cpp's RoPE permutation.
var llamaTensors = ropePermuted(pick("embed", "norm_a", "q", "k", "v", "q_bias", "k_bias", "v_bias", "o",
	"norm_f", "gate", "up", "down", "moe_w1", "moe_w2", "moe_w3", "moe_router", "norm", "head"))

// llamaParams are the hyperparameters llama.cpp's LlamaModel writes.
var llamaParams = []Param{pBlocks, pContext, pEmbd, pFF, pHeads, pKVHeads, pTheta, pRMSEps, pExperts, pUsed,
	pKeyLen, pValLen, pVocab, pRopeDim}

// Llama is LlamaForCausalLM, MistralForCausalLM and MixtralForCausalLM
// (Llama 1-3.x, Mistral 7B, NeMo, Small 3, SmolLM2, Mixtral; Mistral 3's
// text tower), which llama.cpp loads as "llama" with NORM rope, hence the
// q/k row permutation. Llama 3.x rope scaling becomes the generated
// rope_freqs tensor; Mixtral's experts are stacked per layer.
var Llama = register(&Family{
	Name:         "llama",
	ModelTypes:   []string{"llama", "mistral", "mixtral"},
	HFClass:      "LlamaForCausalLM",
	HFModelType:  "llama",
	MoEClass:     "MixtralForCausalLM",
	MoEModelType: "mixtral",
	Params:       llamaParams,
	Tensors:      llamaTensors,
	HFPrefixes:   multimodalPrefixes,
	HFSkip:       rotarySkip,
	HFExtra:      map[string]any{"hidden_act": "silu"},
	Rope:         []string{"linear", "yarn", "llama3"},
})

// SmolLM3 is the llama layout with NoPE layers: llama.cpp's "smollm3"
// skips RoPE on every fourth layer, the pattern SmolLM3 was trained with.
var SmolLM3 = register(&Family{
	Name:        "smollm3",
	ModelTypes:  []string{"smollm3"},
	HFClass:     "SmolLM3ForCausalLM",
	HFModelType: "smollm3",
	Params:      llamaParams,
	Tensors:     llamaTensors,
	HFSkip:      rotarySkip,
	HFExtra:     map[string]any{"hidden_act": "silu"},
	Rope:        []string{"linear", "yarn", "llama3"},
	Check:       smolNoPE,
})

// smolNoPE refuses a SmolLM3 config whose NoPE layers are not llama.cpp's
// fixed pattern (layer il has no RoPE when (il+1) % 4 == 0).
func smolNoPE(c Config) error {
	if step, ok := c.Number("no_rope_layer_interval"); ok && step != 4 {
		return fmt.Errorf("smollm3 no_rope_layer_interval %v: %w (llama.cpp assumes 4)", step, format.ErrUnsupported)
	}
	if list, ok := c["no_rope_layers"].([]any); ok {
		for il, v := range list {
			useRope, _ := v.(float64)
			if want := (il+1)%4 != 0; (useRope != 0) != want {
				return fmt.Errorf("smollm3 no_rope_layers[%d] = %v: %w (llama.cpp uses RoPE on layer il unless (il+1) %% 4 == 0)", il, v, format.ErrUnsupported)
			}
		}
	}
	return nil
}
