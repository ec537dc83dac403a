package analyze

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/resolve"
)

// Base supplies the base weights of adapters' modules, found through
// package resolve as merge finds them (names, prefixes, fused modules,
// transposed layouts, llama's q/k permutation).
type Base struct {
	b       *resolve.Base
	targets map[string]baseTarget
	misses  map[string]error

	cached  string    // the last stacked tensor decoded, reused by its next expert
	cachedW []float32 // its values
}

// baseTarget is the base tensor of one analysis module: a whole tensor,
// or expert e's slice of a stacked one.
type baseTarget struct {
	t      resolve.Target
	expert int // -1: not stacked
}

// NewBase returns a Base over b. It does not take b over: close b when
// done.
func NewBase(b *resolve.Base) *Base {
	return &Base{b: b, targets: map[string]baseTarget{}, misses: map[string]error{}}
}

// Modules gives a the base's naming and layout (resolve.Base.Adapt, which
// modifies a) and returns its modules for analysis, named as the adapter
// named them before (a stacked-expert module gives one module per expert,
// "<name>[e]"), each recorded with the base tensor it updates. A
// module whose tensor the base lacks is still returned; Weight reports why
// it has no weight. name refers to the adapter in errors.
func (r *Base) Modules(a *lora.Adapter, name string) ([]Module, error) {
	names := make([]string, len(a.Modules))
	for i, m := range a.Modules {
		names[i] = m.Name
	}
	if err := r.b.Adapt(a, name); err != nil {
		return nil, err
	}
	var mods []Module
	for i, m := range a.Modules {
		t, terr := r.b.Module(m)
		for e, x := range FromAdapter(&lora.Adapter{Modules: []*lora.Module{m}}) {
			expert := -1
			x.Name = names[i]
			if m.Experts > 0 {
				x.Name, expert = fmt.Sprintf("%s[%d]", names[i], e), e
			}
			mods = append(mods, x)
			if terr == nil {
				r.targets[x.Name] = baseTarget{t, expert}
				delete(r.misses, x.Name)
			} else if _, ok := r.targets[x.Name]; !ok {
				r.misses[x.Name] = terr
			}
		}
	}
	return mods, nil
}

// Weight is a BaseFunc: the base weight W of the module name (as Modules
// returned it), (out, in) like ΔW, transposed back where the base stores
// it (in, out).
func (r *Base) Weight(name string) (*mat.Dense, error) {
	tg, ok := r.targets[name]
	if !ok {
		if err := r.misses[name]; err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("analyze: module %q: not given to Base.Modules: %w", name, format.ErrNotFound)
	}
	var w []float32
	if tg.expert >= 0 && r.cached == tg.t.Tensor.Name {
		w = r.cachedW
	} else {
		var err error
		if w, err = r.b.Weight(tg.t); err != nil {
			return nil, err
		}
	}
	sh := tg.t.Tensor.Shape
	out, in := sh[len(sh)-2], sh[len(sh)-1]
	if tg.t.Transposed {
		out, in = in, out
	}
	if tg.expert >= 0 {
		r.cached, r.cachedW = tg.t.Tensor.Name, w
		n := int(out * in)
		w = w[tg.expert*n : (tg.expert+1)*n]
	}
	return mat.NewDense(int(out), int(in), widen(w)), nil
}
