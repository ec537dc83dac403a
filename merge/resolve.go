package merge

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

// op is one change to a base tensor, applied in adapter order:
//
//	replace: the tensor becomes data (modules_to_save);
//	lora:    W (rows, cols) += scale · left (rows, rank) · right (rank, cols),
//	         then, for DoRA, each output feature is rescaled to magnitude.
//
// left/right are B and A, or Aᵀ and Bᵀ when the base stores the weight
// transposed (In, Out).
type op struct {
	who        string // "adapter X: module Y" for errors and reports
	replace    *lora.Tensor
	left       []float32
	right      []float32
	rank       int
	scale      float32
	transposed bool
	magnitude  []float32
	// expertRows, for stacked experts, is each expert's row count: right
	// holds one (rank, cols) matrix per expert (see addExperts).
	expertRows int
}

// plan maps each base tensor name to the ops that change it.
type plan map[string][]op

// resolver finds the base tensor an adapter module (or saved tensor)
// updates, for bases with Hugging Face names: the tensor whose name is the
// module's name plus ".weight", allowing either side to carry prefixes the
// other lacks ("transformer.h.0.attn.c_attn" ↔ "h.0.attn.c_attn.weight"),
// as long as the match is unique and keeps every layer index.
type resolver struct {
	bySuffix map[string][]string
}

func newResolver(infos []format.TensorInfo) *resolver {
	r := &resolver{bySuffix: map[string][]string{}}
	for _, t := range infos {
		parts := strings.Split(t.Name, ".")
		for i := range parts {
			s := strings.Join(parts[i:], ".")
			r.bySuffix[s] = append(r.bySuffix[s], t.Name)
		}
	}
	return r
}

// lookup returns the base tensor for the full name want (e.g.
// "transformer.h.0.attn.c_attn.weight").
func (r *resolver) lookup(want string) (string, bool) {
	parts := strings.Split(want, ".")
	for i := range parts {
		if i > 0 && isNumber(parts[i-1]) {
			break // never drop a layer index
		}
		if i == len(parts)-1 && i > 0 {
			break // a bare "weight" matches nothing useful
		}
		if names := r.bySuffix[strings.Join(parts[i:], ".")]; len(names) == 1 {
			return names[0], true
		}
	}
	return "", false
}

func isNumber(s string) bool {
	return s != "" && strings.IndexFunc(s, func(c rune) bool { return !unicode.IsDigit(c) }) < 0
}

// planOps reads every input and works out the ops on the base's tensors.
// Errors name the adapter, the module and the shapes.
func planOps(b *base, inputs []Input) (plan, error) {
	p := plan{}
	infos := map[string]format.TensorInfo{}
	for _, t := range b.src.Tensors() {
		infos[t.Name] = t
	}
	res := newResolver(b.src.Tensors())
	for _, in := range inputs {
		a, err := in.load()
		if err != nil {
			return nil, err
		}
		if a, err = renameForBase(b, in, a); err != nil {
			return nil, err
		}
		for _, m := range a.Modules {
			who := fmt.Sprintf("adapter %s: module %q", in.name(), m.Name)
			target, ok := moduleTarget(b, res, m.Name+".weight")
			if !ok {
				return nil, fmt.Errorf("%s: the base has no tensor %q: %w", who, m.Name+".weight", format.ErrNotFound)
			}
			if err := checkNotPrequantized(who, infos, target); err != nil {
				return nil, err
			}
			t := infos[target]
			o, err := loraOp(who, m, t, in.Scale)
			if err != nil {
				return nil, err
			}
			p[target] = append(p[target], o)
			if m.Bias != nil {
				bt := strings.TrimSuffix(target, ".weight") + ".bias"
				bi, ok := infos[bt]
				if !ok || !format.SameShape(bi.Shape, []int64{int64(m.Out)}) {
					return nil, fmt.Errorf("%s: lora_B has a bias of %d but the base has no bias tensor %q of that size: %w", who, m.Out, bt, format.ErrShape)
				}
				p[bt] = append(p[bt], op{who: who + " (bias)", left: []float32{1}, right: m.Bias, rank: 1, scale: o.scale})
			}
		}
		for i := range a.Saved {
			s := &a.Saved[i]
			who := fmt.Sprintf("adapter %s: saved module %q", in.name(), s.Name)
			if in.Scale != 1 {
				return nil, fmt.Errorf("%s: modules_to_save replace a tensor and cannot be applied at scale %g (or unmerged): %w", who, in.Scale, format.ErrUnsupported)
			}
			target, ok := savedTarget(b, res, s.Name)
			if !ok {
				return nil, fmt.Errorf("%s: the base has no tensor %q: %w", who, s.Name, format.ErrNotFound)
			}
			if t := infos[target]; !format.SameShape(t.Shape, s.Shape) {
				return nil, fmt.Errorf("%s: saved tensor is %v but base tensor %q is %v: %w", who, s.Shape, target, t.Shape, format.ErrShape)
			}
			if !format.CanDecode(s.DType) {
				return nil, fmt.Errorf("%s: cannot decode %v: %w", who, s.DType, format.ErrUnsupported)
			}
			p[target] = append(p[target], op{who: who, replace: s})
		}
	}
	return p, nil
}

// renameForBase gives the adapter's modules the naming of the base: GGUF
// names for a GGUF base (through convert's architecture tables, which also
// permute llama q/k rows and check shapes), Hugging Face names otherwise.
func renameForBase(b *base, in Input, a *lora.Adapter) (*lora.Adapter, error) {
	switch {
	case b.kind == kindGGUF && a.Kind == lora.KindGGUF:
		if b.arch != nil && a.Arch != "" && a.Arch != b.arch.Name {
			return nil, fmt.Errorf("adapter %s is for architecture %q but base %s is %q: %w", in.name(), a.Arch, b.path, b.arch.Name, format.ErrShape)
		}
		return a, nil
	case b.kind == kindGGUF:
		if err := convert.ToGGUFNames(a, b.path); err != nil {
			return nil, fmt.Errorf("adapter %s: %w", in.name(), err)
		}
		return a, nil
	case a.Kind != lora.KindGGUF && hasExperts(a):
		// target_parameters modules onto a base with one tensor per expert
		if err := convert.ToHFNames(a, b.path); err != nil {
			return nil, fmt.Errorf("adapter %s: naming its experts for base %s: %w", in.name(), b.path, err)
		}
		return a, nil
	case a.Kind == lora.KindGGUF:
		// llama.cpp names onto a Hugging Face base: inverse RoPE
		// permutation, HF module paths.
		if err := convert.ToHFNames(a, b.path); err != nil {
			return nil, fmt.Errorf("adapter %s: naming it for base %s: %w", in.name(), b.path, err)
		}
		return a, nil
	}
	return a, nil
}

// moduleTarget finds the base tensor a module's weight name refers to.
func moduleTarget(b *base, res *resolver, name string) (string, bool) {
	if b.kind == kindGGUF {
		for _, t := range b.src.Tensors() {
			if t.Name == name {
				return name, true
			}
		}
		return "", false
	}
	return res.lookup(name)
}

// savedTarget finds the base tensor a modules_to_save tensor replaces.
func savedTarget(b *base, res *resolver, name string) (string, bool) {
	if b.kind == kindGGUF && b.arch != nil {
		if g, tn, ok := b.arch.GGUFName(name); ok && tn.Transform == arch.None {
			return moduleTarget(b, res, g)
		}
		return "", false
	}
	return moduleTarget(b, res, name)
}

// loraOp checks a module against its base tensor and builds its op.
func loraOp(who string, m *lora.Module, t format.TensorInfo, userScale float64) (op, error) {
	want := []int64{int64(m.Out), int64(m.In)}
	orient := "(out, in)"
	if m.Experts > 0 {
		want, orient = []int64{int64(m.Experts), int64(m.Out), int64(m.In)}, "(experts, out, in)"
	}
	if m.Transposed() {
		want = []int64{int64(m.In), int64(m.Out)}
		orient = "(in, out), transposed"
	}
	if !format.SameShape(t.Shape, want) {
		return op{}, fmt.Errorf("%s: update is %v %s (rank %d) but base tensor %q is %v: %w", who, want, orient, m.Rank, t.Name, t.Shape, format.ErrShape)
	}
	if !format.CanDecode(t.DType) || t.DType.IsInt() {
		return op{}, fmt.Errorf("%s: base tensor %q is %v, which cannot be merged into: %w", who, t.Name, t.DType, format.ErrUnsupported)
	}
	o := op{who: who, rank: m.Rank, scale: float32(userScale * m.Scale()), transposed: m.Transposed()}
	if m.Magnitude != nil {
		if userScale < 0 {
			return op{}, fmt.Errorf("%s: a DoRA merge cannot be undone without the base's norms (scale %g): %w", who, userScale, format.ErrUnsupported)
		}
		if len(m.Magnitude) != m.Out {
			return op{}, fmt.Errorf("%s: DoRA magnitude has %d values, want %d: %w", who, len(m.Magnitude), m.Out, format.ErrShape)
		}
		o.magnitude = m.Magnitude
	}
	if !o.transposed {
		o.left, o.right = m.B, m.A
		if m.Experts > 0 {
			o.expertRows = m.Out
		}
		return o, nil
	}
	// Stored (In, Out): W += s · Aᵀ (In, r) · Bᵀ (r, Out).
	o.left = transpose.Of(m.A, m.Rank, m.In)
	o.right = transpose.Of(m.B, m.Out, m.Rank)
	return o, nil
}
