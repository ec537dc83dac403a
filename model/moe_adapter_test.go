package model

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
)

// TestApplyAdapterBadExperts: an adapter whose stacked module names no
// expert tensor, or has another expert count than the model, is refused
// before anything is attached (its 2-D modules included).
func TestApplyAdapterBadExperts(t *testing.T) {
	path := filepath.Join(sharedDir(t), "fixtures", "arch", "mixtral-lora-r4.gguf")
	for _, c := range []struct {
		name string
		edit func(m *lora.Module)
		want error
	}{
		{"no such expert tensor", func(m *lora.Module) { m.Name = "blk.5.ffn_up_exps" }, format.ErrNotFound},
		{"three experts of four", func(m *lora.Module) {
			m.Experts = 3
			m.A, m.B = m.A[:3*m.Rank*m.In], m.B[:3*m.Out*m.Rank]
		}, format.ErrShape},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := lora.ReadGGUF(path)
			if err != nil {
				t.Fatal(err)
			}
			c.edit(a.Module("blk.1.ffn_up_exps"))
			m := loadModel(t, filepath.Join(sharedDir(t), "fixtures", "arch", "mixtral-f32.gguf"), Options{})
			if err := m.ApplyAdapter(a, 1); !errors.Is(err, c.want) {
				t.Fatalf("ApplyAdapter = %v, want %v", err, c.want)
			}
			if got := m.Adapter(); len(got.Modules) != 0 {
				t.Errorf("a refused adapter left %d modules attached", len(got.Modules))
			}
		})
	}
}
