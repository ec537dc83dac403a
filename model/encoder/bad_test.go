package encoder

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/lora"
)

// TestBadAdapter: adapters that do not fit the encoder are refused with an
// error naming the tensor or module, and leave the model unchanged.
func TestBadAdapter(t *testing.T) {
	root := testshared.Path(t, "fixtures/encoder")
	open := func() *lora.Adapter {
		a, err := lora.Open(filepath.Join(root, "adapters", "bert-seqcls-lora"))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, c := range []struct {
		name string
		edit func(a *lora.Adapter)
		want error
		say  string
	}{
		{"head of 3 labels, model of 2", func(a *lora.Adapter) {
			for i, s := range a.Saved {
				if s.Name == "classifier.weight" {
					a.Saved[i].Shape = []int64{3, 32}
					a.Saved[i].Data = make([]byte, 3*32*4)
				}
			}
		}, format.ErrShape, "3 labels, but the base model has 2 (negative, positive)"},
		{"module of a decoder", func(a *lora.Adapter) { a.Modules[0].Name = "model.layers.0.self_attn.q_proj" }, format.ErrNotFound, "model.layers.0.self_attn.q_proj"},
		{"rank shape mismatch", func(a *lora.Adapter) { a.Modules[0].In = 16 }, format.ErrShape, "is 32x16"},
		{"saved tensor outside the head", func(a *lora.Adapter) { a.Saved[0].Name = "bert.embeddings.word_embeddings.weight" }, format.ErrUnsupported, "word_embeddings"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := load(t, filepath.Join(root, "hf", "bert-seqcls"))
			a := open()
			c.edit(a)
			err := m.ApplyAdapter(a)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.say) {
				t.Fatalf("ApplyAdapter = %v, want %v saying %q", err, c.want, c.say)
			}
			for _, name := range m.Linears() {
				if m.linears[name].LoRA != nil {
					t.Fatalf("%s got a LoRA from a refused adapter", name)
				}
			}
		})
	}
}

// TestBadInput: a decoder checkpoint, tokens outside the vocabulary or
// beyond the positions, and a masked first token are refused.
func TestBadInput(t *testing.T) {
	if _, err := Load(testshared.Path(t, "fixtures/arch/qwen2-f32.gguf")); !errors.Is(err, format.ErrUnsupported) || !strings.Contains(err.Error(), "not an encoder") {
		t.Errorf("Load(qwen2) = %v, want unsupported: not an encoder", err)
	}
	m := load(t, filepath.Join(testshared.Path(t, "fixtures/encoder"), "hf", "bert-seqcls"))
	long := make([]int, 65)
	for _, c := range []struct {
		name string
		seq  Sequence
		want error
	}{
		{"token outside vocab", Sequence{IDs: []int{2, 32}}, format.ErrFormat},
		{"type outside", Sequence{IDs: []int{2, 5}, Types: []int{0, 2}}, format.ErrFormat},
		{"too long", Sequence{IDs: long}, format.ErrUnsupported},
		{"first token masked", Sequence{IDs: []int{2, 5}, Mask: []bool{false, true}}, format.ErrFormat},
		{"empty", Sequence{}, format.ErrFormat},
		{"mask length", Sequence{IDs: []int{2, 5}, Mask: []bool{true}}, format.ErrShape},
	} {
		if _, err := m.Forward(c.seq); !errors.Is(err, c.want) {
			t.Errorf("%s: Forward = %v, want %v", c.name, err, c.want)
		}
	}
}
