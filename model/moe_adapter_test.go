package model

import (
	"errors"
	"math"
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
		{"no such expert tensor", func(m *lora.Module) { m.Name = "blk.999.ffn_up_exps" }, format.ErrNotFound},
		{"one expert fewer than the model", func(m *lora.Module) {
			m.Experts--
			m.A, m.B = m.A[:m.Experts*m.Rank*m.In], m.B[:m.Experts*m.Out*m.Rank]
		}, format.ErrShape},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := lora.ReadGGUF(path)
			if err != nil {
				t.Fatal(err)
			}
			c.edit(a.Module("blk.0.ffn_up_exps"))
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

// TestAddLoRAOnExperts: AddLoRA on q and on every expert's up projection
// of a Qwen3-MoE leaves the logits unchanged (B is zero); once the
// parameters move, the exported adapter (stacked modules for the experts)
// written as a llama.cpp LoRA GGUF and applied to a fresh model gives the
// same logits, and so does merging it.
func TestAddLoRAOnExperts(t *testing.T) {
	path := filepath.Join(sharedDir(t), "fixtures", "arch", "qwen3moe-f32.gguf")
	ids := []int{1, 2, 3, 4, 5}
	m := loadModel(t, path, Options{})
	before, _ := m.Logits(ids)
	if err := m.AddLoRA(LoRAConfig{Targets: []string{"q", "up_exps"}, Rank: 2, Alpha: 4, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	after, _ := m.Logits(ids)
	if d := maxAbsDiff(before, after); d != 0 {
		t.Errorf("fresh LoRA moved the logits by %g", d)
	}
	for i, p := 0, m.Params(); i < len(p); i++ {
		p[i] = float32(0.05 * math.Sin(float64(i)))
	}
	trained, _ := m.Logits(ids)
	ad := m.Adapter()
	if mod := ad.Module("blk.0.ffn_up_exps"); mod == nil || mod.Experts != m.Config.Experts || mod.Rank != 2 {
		t.Fatalf("exported expert module = %+v, want %d experts of rank 2", mod, m.Config.Experts)
	}
	out := filepath.Join(t.TempDir(), "a.gguf")
	if err := lora.WriteGGUF(ad, out, lora.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	back, err := lora.ReadGGUF(out)
	if err != nil {
		t.Fatal(err)
	}
	fresh := loadModel(t, path, Options{})
	if err := fresh.ApplyAdapter(back, 1); err != nil {
		t.Fatal(err)
	}
	got, _ := fresh.Logits(ids)
	if d := maxAbsDiff(got, trained); d != 0 {
		t.Errorf("exported adapter gives logits %g away from the trained model's", d)
	}
	if d := maxAbsDiff(got, before); d < 1e-3 {
		t.Errorf("the moved parameters change the logits by only %g", d)
	}
	fresh.MergeLoRA()
	merged, _ := fresh.Logits(ids)
	if d := maxAbsDiff(merged, trained); d > tolMerge {
		t.Errorf("merged logits differ by %g, want <= %g", d, tolMerge)
	}
}
