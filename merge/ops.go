package merge

import (
	"fmt"
	"strings"

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
	// experts > 0: the base is (experts, out, in) seen as (experts·out, in);
	// left stacks each expert's (out, rank) B, right each (rank, in) A.
	experts, out int
}

// add applies the op's low-rank update to rows [lo, hi) of the tensor,
// held in f (hi-lo rows of cols values): each row takes its expert's A.
func (o *op) add(f []float32, lo, hi, cols int) {
	if o.experts == 0 {
		addLowRank(f, hi-lo, cols, o.left[lo*o.rank:hi*o.rank], o.right, o.rank, o.scale)
		return
	}
	for r := lo; r < hi; {
		e := r / o.out
		end := min(hi, (e+1)*o.out)
		addLowRank(f[(r-lo)*cols:(end-lo)*cols], end-r, cols, o.left[r*o.rank:end*o.rank], o.right[e*o.rank*cols:(e+1)*o.rank*cols], o.rank, o.scale)
		r = end
	}
}

// tensorOps maps each base tensor name to the ops that change it.
type tensorOps map[string][]op

// planOps reads every input and works out the ops on the base's tensors.
// Errors name the adapter, the module and the shapes.
func planOps(b *base, inputs []Input) (tensorOps, error) {
	p := tensorOps{}
	for _, in := range inputs {
		a, err := in.load(lora.OpenWithExperts)
		if err != nil {
			return nil, err
		}
		if err := b.Adapt(a, in.name()); err != nil {
			return nil, err
		}
		for _, m := range a.Modules {
			who := fmt.Sprintf("adapter %s: module %q", in.name(), m.Name)
			target, err := b.Module(m)
			if err != nil {
				return nil, fmt.Errorf("adapter %s: %w", in.name(), err)
			}
			if err := checkNotPrequantized(who, b, target.Tensor.Name); err != nil {
				return nil, err
			}
			o, err := loraOp(who, m, target.Tensor, in.Scale)
			if err != nil {
				return nil, err
			}
			name := target.Tensor.Name
			p[name] = append(p[name], o)
			if m.Bias != nil {
				bi, ok := b.Bias(target)
				if !ok || !format.SameShape(bi.Shape, []int64{int64(m.Out)}) {
					return nil, fmt.Errorf("%s: lora_B has a bias of %d but the base has no bias tensor %q of that size: %w", who, m.Out, strings.TrimSuffix(name, ".weight")+".bias", format.ErrShape)
				}
				p[bi.Name] = append(p[bi.Name], op{who: who + " (bias)", left: []float32{1}, right: m.Bias, rank: 1, scale: o.scale})
			}
		}
		for i := range a.Saved {
			s := &a.Saved[i]
			who := fmt.Sprintf("adapter %s: saved module %q", in.name(), s.Name)
			if in.Scale != 1 {
				return nil, fmt.Errorf("%s: modules_to_save replace a tensor and cannot be applied at scale %g (or unmerged): %w", who, in.Scale, format.ErrUnsupported)
			}
			t, ok := b.Saved(s.Name)
			if !ok {
				return nil, fmt.Errorf("%s: the base has no tensor %q: %w", who, s.Name, format.ErrNotFound)
			}
			if !format.SameShape(t.Shape, s.Shape) {
				return nil, fmt.Errorf("%s: saved tensor is %v but base tensor %q is %v: %w", who, s.Shape, t.Name, t.Shape, format.ErrShape)
			}
			if !format.CanDecode(s.DType) {
				return nil, fmt.Errorf("%s: cannot decode %v: %w", who, s.DType, format.ErrUnsupported)
			}
			p[t.Name] = append(p[t.Name], op{who: who, replace: s})
		}
	}
	return p, nil
}

// loraOp checks a module against its base tensor and builds its op.
func loraOp(who string, m *lora.Module, t format.TensorInfo, userScale float64) (op, error) {
	if !format.CanDecode(t.DType) || t.DType.IsInt() {
		return op{}, fmt.Errorf("%s: base tensor %q is %v, which cannot be merged into: %w", who, t.Name, t.DType, format.ErrUnsupported)
	}
	o := op{who: who, rank: m.Rank, scale: float32(userScale * m.Scale()), transposed: m.Transposed(), experts: m.Experts, out: m.Out}
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
		return o, nil
	}
	// Stored (In, Out): W += s · Aᵀ (In, r) · Bᵀ (r, Out).
	o.left = transpose.Of(m.A, m.Rank, m.In)
	o.right = transpose.Of(m.B, m.Out, m.Rank)
	return o, nil
}
