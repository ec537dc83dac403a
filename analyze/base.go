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
	targets map[string]resolve.Target
	misses  map[string]error
}

// NewBase returns a Base over b. It does not take b over: close b when
// done.
func NewBase(b *resolve.Base) *Base {
	return &Base{b: b, targets: map[string]resolve.Target{}, misses: map[string]error{}}
}

// Modules gives a the base's naming and layout (resolve.Base.Adapt, which
// modifies a) and returns its modules for analysis, named as the adapter
// named them before, each recorded with the base tensor it updates. A
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
	mods := FromAdapter(a)
	for i, m := range a.Modules {
		mods[i].Name = names[i]
		if t, err := r.b.Module(m); err == nil {
			r.targets[names[i]] = t
			delete(r.misses, names[i])
		} else if _, ok := r.targets[names[i]]; !ok {
			r.misses[names[i]] = err
		}
	}
	return mods, nil
}

// Weight is a BaseFunc: the base weight W of the module name (as Modules
// returned it), (out, in) like ΔW, transposed back where the base stores
// it (in, out).
func (r *Base) Weight(name string) (*mat.Dense, error) {
	t, ok := r.targets[name]
	if !ok {
		if err := r.misses[name]; err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("analyze: module %q: not given to Base.Modules: %w", name, format.ErrNotFound)
	}
	w, err := r.b.Weight(t)
	if err != nil {
		return nil, err
	}
	out, in := t.Tensor.Shape[0], t.Tensor.Shape[1]
	if t.Transposed {
		out, in = in, out
	}
	return mat.NewDense(int(out), int(in), widen(w)), nil
}
