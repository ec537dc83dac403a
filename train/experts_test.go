package train

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/model"
)

// TestModelAdapterExperts: LoRA on a Qwen3-MoE's q and experts' up
// projections comes out for PEFT as one module per expert with Hugging
// Face names (and only those in target_modules), and for llama.cpp as one
// stacked module per layer.
func TestModelAdapterExperts(t *testing.T) {
	src, err := format.Open(testshared.Path(t, "fixtures/arch/qwen3moe-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	m, err := model.Load(src, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddLoRA(model.LoRAConfig{Targets: []string{"q", "up_exps"}, Rank: 2, Alpha: 4}); err != nil {
		t.Fatal(err)
	}
	a, peft, err := ModelAdapter(m, "tiny-qwen3moe")
	if err != nil || !peft {
		t.Fatalf("ModelAdapter = %v, peft %v", err, peft)
	}
	var names []string
	for _, mod := range a.Modules {
		names = append(names, mod.Name)
	}
	E, L := m.Config.Experts, m.Config.Layers
	last := fmt.Sprintf("model.layers.%d.mlp.experts.%d.up_proj", L-1, E-1)
	for _, want := range []string{"model.layers.0.self_attn.q_proj", last} {
		if !slices.Contains(names, want) {
			t.Errorf("PEFT modules %v lack %s", names, want)
		}
	}
	if len(names) != L*(1+E) {
		t.Errorf("%d PEFT modules, want %d (q and %d experts in %d layers)", len(names), L*(1+E), E, L)
	}
	for _, tm := range a.Config.TargetModules.List {
		if strings.HasPrefix(tm, "blk.") {
			t.Errorf("target_modules holds llama.cpp's name %q", tm)
		}
	}
	g := m.Adapter()
	if mod := g.Module("blk.0.ffn_up_exps"); mod == nil || mod.Experts != E {
		t.Errorf("llama.cpp adapter: blk.0.ffn_up_exps = %+v, want %d stacked experts", mod, E)
	}
}
