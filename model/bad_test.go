package model

import (
	"errors"
	"testing"

	"github.com/lorakit/lorakit/format"
)

func TestLoadBadInput(t *testing.T) {
	family := func(arch string) tinyConfig {
		for _, c := range tinyFamilies {
			if c.arch == arch {
				return c
			}
		}
		panic(arch)
	}
	extra := func(name string, n int64) func(s *memSource) {
		return func(s *memSource) { s.add(name, make([]float32, n), n) }
	}
	cases := []struct {
		name   string
		base   tinyConfig // tinyLlama when zero
		edit   func(s *memSource)
		target error
	}{
		// a tensor the recipe has no place for is never ignored
		{"rope_freqs in qwen2", family("qwen2"), extra("rope_freqs.weight", 2), format.ErrUnsupported},
		{"ffn_gate bias in qwen3", family("qwen3"), extra("blk.0.ffn_gate.bias", 24), format.ErrUnsupported},
		{"output.weight in gemma2", family("gemma2"), extra("output.weight", 16), format.ErrUnsupported},
		{"post norm in llama", tinyConfig{}, extra("blk.1.post_ffw_norm.weight", 16), format.ErrUnsupported},
		{"attn_q beside attn_qkv", family("phi3"), extra("blk.0.attn_q.weight", 16), format.ErrUnsupported},
		{"unknown tensor", tinyConfig{}, extra("blk.0.attn_sinks", 4), format.ErrUnsupported},
		{"bad rope factor", family("llama"), func(s *memSource) { s.add("rope_freqs.weight", []float32{1, 0}, 2) }, format.ErrFormat},
		{"experts in qwen2", family("qwen2"), func(s *memSource) { s.md.Set("qwen2.expert_count", uint32(4)) }, format.ErrUnsupported},
		{"experts without a used count", tinyConfig{}, func(s *memSource) { s.md.Set("llama.expert_count", uint32(4)) }, format.ErrNotFound},
		{"expert weight scale", family("qwen3moe"), func(s *memSource) { s.md.Set("qwen3moe.expert_weights_scale", float32(2)) }, format.ErrUnsupported},
		{"more experts used than there are", family("qwen3moe"), func(s *memSource) { s.md.Set("qwen3moe.expert_used_count", uint32(9)) }, format.ErrFormat},
		{"dense ffn in a MoE model", family("qwen3moe"), extra("blk.0.ffn_up.weight", 16), format.ErrUnsupported},
		{"yarn rope scaling", family("qwen2"), func(s *memSource) { s.md.Set("qwen2.rope.scaling.type", "yarn") }, format.ErrUnsupported},
		{"per-layer head counts", tinyConfig{}, func(s *memSource) { s.md.Set("llama.attention.head_count_kv", []uint32{2, 2}) }, format.ErrUnsupported},
		{"per-layer swa pattern", family("gemma3"), func(s *memSource) { s.md.Set("gemma3.attention.sliding_window_pattern", []bool{true, false}) }, format.ErrUnsupported},
		{"missing norm epsilon", family("qwen3"), func(s *memSource) { s.md.Delete("qwen3.attention.layer_norm_rms_epsilon") }, format.ErrNotFound},
		{"block count above the tensors", tinyConfig{}, func(s *memSource) { s.md.Set("llama.block_count", uint32(1<<20)) }, format.ErrFormat},
		{"value_length differs", family("gemma3"), func(s *memSource) { s.md.Set("gemma3.attention.value_length", uint32(4)) }, format.ErrUnsupported},
		{"missing tensor", tinyConfig{}, func(s *memSource) {
			for i, info := range s.infos {
				if info.Name == "blk.1.attn_v.weight" {
					s.infos = append(s.infos[:i], s.infos[i+1:]...)
					break
				}
			}
		}, format.ErrNotFound},
		{"mismatched shape", tinyConfig{}, func(s *memSource) {
			for i := range s.infos {
				if s.infos[i].Name == "blk.0.ffn_up.weight" {
					s.infos[i].Shape = []int64{s.infos[i].Shape[1], s.infos[i].Shape[0]}
				}
			}
		}, format.ErrShape},
		{"unsupported architecture", tinyConfig{}, func(s *memSource) { s.md[0].Value = "mamba" }, format.ErrUnsupported},
		{"missing hyperparameter", tinyConfig{}, func(s *memSource) { s.md.Delete("llama.block_count") }, format.ErrNotFound},
		{"bad head count", tinyConfig{}, func(s *memSource) { s.md.Set("llama.attention.head_count_kv", uint32(3)) }, format.ErrFormat},
		{"integer tensor", tinyConfig{}, func(s *memSource) { s.infos[0].DType = format.I32 }, format.ErrUnsupported},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base := c.base
			if base.arch == "" {
				base = tinyLlama
			}
			s := tinySource(base)
			c.edit(s)
			if _, err := Load(s, Options{}); !errors.Is(err, c.target) {
				t.Errorf("Load() error = %v, want %v", err, c.target)
			}
		})
	}
}

func TestRunBadInput(t *testing.T) {
	m, err := Load(tinySource(tinyGPT2), Options{})
	if err != nil {
		t.Fatal(err)
	}
	long := make([]int, tinyGPT2.ctx+1)
	cases := []struct {
		name   string
		run    func() error
		target error
	}{
		{"token out of range", func() error { _, err := m.Logits([]int{1, tinyGPT2.vocab}); return err }, ErrTokenRange},
		{"negative token", func() error { _, err := m.Logits([]int{-1}); return err }, ErrTokenRange},
		{"prompt longer than context", func() error { _, err := m.Logits(long); return err }, ErrContext},
		{"session past context", func() error {
			s := m.NewSession()
			if _, err := s.Step(long[:tinyGPT2.ctx]); err != nil {
				return err
			}
			_, err := s.Step([]int{1})
			return err
		}, ErrContext},
		{"batch longer than context", func() error {
			_, err := m.Loss(Batch{B: 1, T: len(long), Tokens: long, Targets: long})
			return err
		}, ErrContext},
		{"target out of range", func() error {
			_, err := m.Loss(Batch{B: 1, T: 1, Tokens: []int{1}, Targets: []int{999}})
			return err
		}, ErrTokenRange},
		{"batch size mismatch", func() error {
			_, err := m.Loss(Batch{B: 2, T: 2, Tokens: []int{1}, Targets: []int{1}})
			return err
		}, format.ErrShape},
		{"backward without forward", func() error { return m.Backward() }, ErrNoForward},
		{"unknown LoRA target", func() error { return m.AddLoRA(LoRAConfig{Targets: []string{"gate"}, Rank: 2, Alpha: 2}) }, format.ErrNotFound},
		{"zero LoRA rank", func() error { return m.AddLoRA(LoRAConfig{Targets: []string{"q"}, Rank: 0, Alpha: 2}) }, format.ErrInvalidOption},
		{"LoRA rank above the layer", func() error { return m.AddLoRA(LoRAConfig{Targets: []string{"q"}, Rank: 17, Alpha: 2}) }, format.ErrShape},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.run(); !errors.Is(err, c.target) {
				t.Errorf("error = %v, want %v", err, c.target)
			}
		})
	}
}

// FuzzLoad: a tiny model of any recipe with one hyperparameter or one
// tensor dimension changed loads and runs, or is refused with an error;
// never a panic.
func FuzzLoad(f *testing.F) {
	f.Add(uint8(5), uint8(3), uint32(7), false)
	f.Add(uint8(7), uint8(40), uint32(2), true)
	keys := []string{"embedding_length", "block_count", "attention.head_count", "attention.head_count_kv",
		"attention.key_length", "feed_forward_length", "rope.dimension_count", "attention.sliding_window",
		"attention.sliding_window_pattern", "expert_count", "expert_used_count", "expert_feed_forward_length"}
	f.Fuzz(func(t *testing.T, family, which uint8, v uint32, tensor bool) {
		tc := tinyFamilies[int(family)%len(tinyFamilies)]
		s := tinySource(tc)
		v %= 1 << 12
		if tensor {
			info := &s.infos[int(which)%len(s.infos)]
			info.Shape = append([]int64(nil), info.Shape...)
			info.Shape[int(v)%len(info.Shape)] = int64(v % 64)
		} else {
			s.md.Set(tc.arch+"."+keys[int(which)%len(keys)], v)
		}
		m, err := Load(s, Options{})
		if err != nil {
			return
		}
		if _, err := m.Logits([]int{1, 2, 3}); err != nil {
			t.Fatalf("a model that loads fails to run: %v", err)
		}
	})
}
