package encoder

import (
	"fmt"
	"strings"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
)

// tensorName maps an adapter's tensor name (PEFT's HF names, or a llama.cpp
// LoRA GGUF's) to the encoder's GGUF-style name.
func (m *Model) tensorName(a *lora.Adapter, name string) (string, bool) {
	switch {
	case a.Kind == lora.KindGGUF:
		return name, true
	case m.deb != nil:
		return debertaName(name)
	}
	g, _, ok := arch.BERT.GGUFName(name)
	return g, ok
}

// ApplyAdapter attaches a LoRA adapter at run time: each A/B pair becomes
// the LoRA of its linear (any linear of the encoder or head), and the
// adapter's full tensors (PEFT modules_to_save: the classification head)
// replace the base's. The adapter must fit: every module a linear of this
// model with its shape, a saved head of the model's label count; DoRA,
// lora_B biases and embedding adapters are refused. On error the model is
// unchanged.
func (m *Model) ApplyAdapter(a *lora.Adapter) error {
	where := a.Path
	if where == "" {
		where = "adapter"
	}
	type plan struct {
		l *Linear
		p *LoRA
	}
	var plans []plan
	for _, mod := range a.Modules {
		g, ok := m.tensorName(a, mod.Name+".weight")
		name := strings.TrimSuffix(g, ".weight")
		l := m.linears[name]
		if !ok || l == nil {
			return fmt.Errorf("encoder: %s: module %q is not a linear layer of this encoder (BERT/RoBERTa): %w", where, mod.Name, format.ErrNotFound)
		}
		switch {
		case mod.Magnitude != nil, mod.Bias != nil, mod.Embedding, mod.FanInFanOut:
			return fmt.Errorf("encoder: %s: module %q: DoRA, lora_B biases, embedding and fan_in_fan_out adapters are not supported at run time (merge them instead): %w", where, mod.Name, format.ErrUnsupported)
		case mod.In != l.In || mod.Out != l.Out:
			return fmt.Errorf("encoder: %s: module %q is %dx%d, but %s is %dx%d: %w", where, mod.Name, mod.Out, mod.In, name, l.Out, l.In, format.ErrShape)
		}
		plans = append(plans, plan{l, &LoRA{Rank: mod.Rank, Scale: mod.Scale(), A: mod.A, B: mod.B,
			DA: make([]float32, len(mod.A)), DB: make([]float32, len(mod.B))}})
	}
	type repl struct {
		dst  *[]float32
		vals []float32
	}
	var repls []repl
	for _, t := range a.Saved {
		g, ok := m.tensorName(a, t.Name)
		mod, isWeight := strings.CutSuffix(g, ".weight")
		mod, isBias := strings.CutSuffix(mod, ".bias")
		if !ok || !(isWeight || isBias) || !strings.HasPrefix(mod, "cls") {
			return fmt.Errorf("encoder: %s: saved tensor %q is not part of a classification head (only heads can be replaced at run time): %w", where, t.Name, format.ErrUnsupported)
		}
		l := m.linears[mod]
		if l == nil {
			return fmt.Errorf("encoder: %s: saved tensor %q is a %s head's, but the base model's head is %v: %w", where, t.Name, mod, m.Config.Head, format.ErrShape)
		}
		want := []int64{int64(l.Out), int64(l.In)}
		dst := &l.W
		if isBias {
			want, dst = []int64{int64(l.Out)}, &l.B
		}
		if !format.SameShape(t.Shape, want) {
			if mod == "cls.output" {
				return fmt.Errorf("encoder: %s: saved head %q is %v: %d labels, but the base model has %d (%s): %w", where, t.Name, t.Shape, t.Shape[0], l.Out, strings.Join(m.Config.Labels, ", "), format.ErrShape)
			}
			return fmt.Errorf("encoder: %s: saved tensor %q is %v, the base's %s is %v: %w", where, t.Name, t.Shape, g, want, format.ErrShape)
		}
		vals, err := floats(t.Data, format.TensorInfo{Name: t.Name, DType: t.DType, Shape: t.Shape})
		if err != nil {
			return fmt.Errorf("encoder: %s: saved tensor %q: %w", where, t.Name, err)
		}
		repls = append(repls, repl{dst, vals})
	}
	for _, p := range plans {
		p.l.LoRA = p.p
	}
	for _, r := range repls {
		*r.dst = r.vals
	}
	return nil
}
