package model

import (
	"errors"
	"testing"

	"github.com/lorakit/lorakit/format"
)

func TestLoadBadInput(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(s *memSource)
		target error
	}{
		{"missing tensor", func(s *memSource) {
			for i, info := range s.infos {
				if info.Name == "blk.1.attn_v.weight" {
					s.infos = append(s.infos[:i], s.infos[i+1:]...)
					break
				}
			}
		}, format.ErrNotFound},
		{"mismatched shape", func(s *memSource) {
			for i := range s.infos {
				if s.infos[i].Name == "blk.0.ffn_up.weight" {
					s.infos[i].Shape = []int64{s.infos[i].Shape[1], s.infos[i].Shape[0]}
				}
			}
		}, format.ErrShape},
		{"unsupported architecture", func(s *memSource) { s.md[0].Value = "mamba" }, format.ErrUnsupported},
		{"missing hyperparameter", func(s *memSource) { s.md.Delete("llama.block_count") }, format.ErrNotFound},
		{"bad head count", func(s *memSource) { s.md.Set("llama.attention.head_count_kv", uint32(3)) }, format.ErrFormat},
		{"integer tensor", func(s *memSource) { s.infos[0].DType = format.I32 }, format.ErrUnsupported},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := tinySource(tinyLlama)
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
		{"zero LoRA rank", func() error { return m.AddLoRA(LoRAConfig{Targets: []string{"q"}, Rank: 0, Alpha: 2}) }, format.ErrFormat},
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
