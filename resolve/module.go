package resolve

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/transpose"
	"github.com/lorakit/lorakit/lora"
)

// Target is the base tensor a module's update lands on.
type Target struct {
	// Tensor is the base tensor.
	Tensor format.TensorInfo
	// Transposed: the tensor is stored (In, Out), so it receives ΔWᵀ
	// (GPT-2 Conv1D with fan_in_fan_out, embeddings).
	Transposed bool
}

// Adapt gives the adapter's modules the naming and layout of the base, in
// place: llama.cpp names for a GGUF or llama2.c base (RoPE permutation of
// llama q/k B rows, shapes checked, scales folded into one alpha), Hugging
// Face module paths for a llama.cpp LoRA adapter on a Hugging Face base
// (inverse permutation; this needs the base's config.json). PEFT and MLX
// adapters on a Hugging Face base keep their names. name is how errors
// refer to the adapter.
func (b *Base) Adapt(a *lora.Adapter, name string) error {
	switch {
	case b.GGUFNames() && a.Kind == lora.KindGGUF:
		if b.Arch != nil && a.Arch != "" && a.Arch != b.Arch.Name {
			first := ""
			if len(a.Modules) > 0 {
				first = fmt.Sprintf(" (module %q, ...)", a.Modules[0].Name)
			}
			return fmt.Errorf("adapter %s%s is for architecture %q but base %s is %q: %w", name, first, a.Arch, b.Name(), b.Arch.Name, format.ErrShape)
		}
	case b.GGUFNames():
		if err := convert.ToGGUFNamesFor(a, b.Src); err != nil {
			return fmt.Errorf("adapter %s: %w", name, err)
		}
	case a.Kind == lora.KindGGUF || (hasParams(a) && !b.hasParams(a)):
		// llama.cpp names, or PEFT target_parameters on fused experts: one
		// module per expert with Hugging Face names
		if err := convert.ToHFNames(a, b.Path); err != nil {
			return fmt.Errorf("adapter %s: naming it for base %s: %w", name, b.Name(), err)
		}
	}
	return nil
}

// hasParams reports whether the base holds a's target_parameters as they
// are (a checkpoint in transformers 5's fused expert layout).
func (b *Base) hasParams(a *lora.Adapter) bool {
	for _, m := range a.Modules {
		if _, ok := b.lookup(m.Name); m.Param && !ok {
			return false
		}
	}
	return true
}

// hasParams reports whether a has PEFT target_parameters modules.
func hasParams(a *lora.Adapter) bool {
	for _, m := range a.Modules {
		if m.Param {
			return true
		}
	}
	return false
}

// Module returns the base tensor module m (named for this base, see Adapt)
// updates, checking that its shape is m's update, (Out, In), or (In, Out)
// when m.Transposed(). Errors wrap format.ErrNotFound or format.ErrShape.
func (b *Base) Module(m *lora.Module) (Target, error) {
	tensor := m.Name + ".weight"
	if m.Param { // PEFT target_parameters: the parameter itself
		tensor = m.Name
	}
	name, ok := b.lookup(tensor)
	if !ok {
		return Target{}, fmt.Errorf("module %q: the base has no tensor %q: %w", m.Name, tensor, format.ErrNotFound)
	}
	t := b.infos[name]
	want := []int64{int64(m.Out), int64(m.In)}
	orient := "(out, in)"
	if m.Experts > 0 {
		want = []int64{int64(m.Experts), int64(m.Out), int64(m.In)}
		orient = "(experts, out, in)"
	} else if m.Transposed() {
		want = []int64{int64(m.In), int64(m.Out)}
		orient = "(in, out), transposed"
	}
	if !format.SameShape(t.Shape, want) {
		return Target{}, fmt.Errorf("module %q: update is %v %s (rank %d) but base tensor %q is %v: %w", m.Name, want, orient, m.Rank, t.Name, t.Shape, format.ErrShape)
	}
	return Target{Tensor: t, Transposed: m.Transposed()}, nil
}

// Saved returns the base tensor a modules_to_save tensor (Hugging Face
// name, e.g. "lm_head.weight") replaces.
func (b *Base) Saved(name string) (format.TensorInfo, bool) {
	if b.GGUFNames() {
		if b.Arch == nil {
			return format.TensorInfo{}, false
		}
		g, tn, ok := b.Arch.GGUFName(name)
		if !ok || tn.Transform != arch.None {
			return format.TensorInfo{}, false
		}
		name = g
	}
	n, ok := b.lookup(name)
	if !ok {
		return format.TensorInfo{}, false
	}
	return b.infos[n], true
}

// Bias returns the bias tensor beside a module's target (for lora_B
// biases): target's name with ".weight" replaced by ".bias".
func (b *Base) Bias(target Target) (format.TensorInfo, bool) {
	return b.Info(strings.TrimSuffix(target.Tensor.Name, ".weight") + ".bias")
}

// lookup finds the tensor for the full name want: itself in a base with
// llama.cpp names; in a base with Hugging Face names, the unique tensor
// sharing the longest dotted suffix with want that keeps every layer index
// ("transformer.h.0.attn.c_attn.weight" finds "h.0.attn.c_attn.weight",
// and "h.0.attn.c_attn.weight" finds "transformer.h.0.attn.c_attn.weight").
func (b *Base) lookup(want string) (string, bool) {
	if _, ok := b.infos[want]; ok {
		return want, true
	}
	if b.GGUFNames() {
		return "", false
	}
	if b.suffix == nil {
		b.suffix = map[string][]string{}
		for _, t := range b.Src.Tensors() {
			parts := strings.Split(t.Name, ".")
			for i := range parts {
				s := strings.Join(parts[i:], ".")
				b.suffix[s] = append(b.suffix[s], t.Name)
			}
		}
	}
	parts := strings.Split(want, ".")
	for i := range parts {
		if i > 0 && isNumber(parts[i-1]) {
			break // never drop a layer index
		}
		if i == len(parts)-1 && i > 0 {
			break // a bare "weight" matches nothing useful
		}
		if names := b.suffix[strings.Join(parts[i:], ".")]; len(names) == 1 {
			return names[0], true
		}
	}
	return "", false
}

func isNumber(s string) bool {
	return s != "" && strings.IndexFunc(s, func(c rune) bool { return !unicode.IsDigit(c) }) < 0
}

// Weight decodes a target's base weight (dequantizing where needed) in the
// orientation of ΔW, (Out, In), or (Experts·Out, In) for a stack of
// experts: a transposed tensor is transposed back.
// The tensor's pages are released afterwards, so modules can be streamed.
func (b *Base) Weight(t Target) ([]float32, error) {
	s := t.Tensor.Shape
	stacked := len(s) == 3 && !t.Transposed // experts (E, out, in) as (E·out, in)
	if len(s) != 2 && !stacked {
		return nil, fmt.Errorf("base tensor %q has shape %v, want a matrix (or a stack of experts): %w", t.Tensor.Name, s, format.ErrShape)
	}
	raw, err := b.Src.TensorData(t.Tensor.Name)
	if err != nil {
		return nil, err
	}
	defer format.Release(b.Src, t.Tensor.Name)
	rows, cols := int(s[len(s)-2]), int(s[len(s)-1])
	if stacked {
		rows *= int(s[0])
	}
	w := make([]float32, rows*cols)
	if err := format.ToFloat32(w, raw, t.Tensor.DType); err != nil {
		return nil, fmt.Errorf("base tensor %q: %w", t.Tensor.Name, err)
	}
	if !t.Transposed {
		return w, nil
	}
	return transpose.Of(w, rows, cols), nil
}
