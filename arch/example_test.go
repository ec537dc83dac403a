package arch_test

import (
	"fmt"

	"github.com/lorakit/lorakit/arch"
)

// An adapter's family comes from its module names and base model name.
func ExampleIdentifyAdapter() {
	f, err := arch.IdentifyAdapter([]string{"model.layers.0.self_attn.q_proj"}, "Qwen/Qwen2.5-0.5B-Instruct")
	if err != nil {
		fmt.Println(err)
		return
	}
	name, t, _ := f.GGUFName("model.layers.0.self_attn.q_proj.weight")
	fmt.Println(f.Name, name, t.Transform == arch.RopeQ)
	// Output: qwen2 blk.0.attn_q.weight false
}

// config.json fields become llama.cpp's typed hyperparameter keys.
func ExampleFamily_GGUFMetadata() {
	cfg := arch.Config{"num_hidden_layers": 2.0, "hidden_size": 64.0, "intermediate_size": 96.0,
		"num_attention_heads": 4.0, "num_key_value_heads": 2.0, "rope_theta": 1e6, "rms_norm_eps": 1e-6,
		"head_dim": 32.0}
	md, err := arch.Qwen3.GGUFMetadata(cfg, "config.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, kv := range md {
		fmt.Printf("%s = %v (%T)\n", kv.Key, kv.Value, kv.Value)
	}
	// Output:
	// qwen3.block_count = 2 (uint32)
	// qwen3.embedding_length = 64 (uint32)
	// qwen3.feed_forward_length = 96 (uint32)
	// qwen3.attention.head_count = 4 (uint32)
	// qwen3.attention.head_count_kv = 2 (uint32)
	// qwen3.rope.freq_base = 1e+06 (float32)
	// qwen3.attention.layer_norm_rms_epsilon = 1e-06 (float32)
	// qwen3.attention.key_length = 32 (uint32)
	// qwen3.attention.value_length = 32 (uint32)
}
