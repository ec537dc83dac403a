package analyze

import (
	"gonum.org/v1/gonum/mat"

	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/resolve"
)

// ResolvedBase returns the modules of adapter a (named as the adapter
// names them) and a BaseFunc that reads each module's base weight from b
// through package resolve, the one way from adapter modules to base
// tensors. Each weight is decoded (dequantized where needed) when asked
// for, in the module's (out, in) layout, so a base is streamed one module
// at a time. name labels a in errors. a's module names are rewritten to
// the base's naming (see resolve.Base.Adapt); the returned modules keep
// the original ones.
func ResolvedBase(b *resolve.Base, a *lora.Adapter, name string) ([]Module, BaseFunc, error) {
	names := make([]string, len(a.Modules))
	for i, m := range a.Modules {
		names[i] = m.Name
	}
	if err := b.Adapt(a, name); err != nil {
		return nil, nil, err
	}
	mods := FromAdapter(a)
	targets := map[string]resolve.Target{}
	misses := map[string]error{}
	for i, m := range a.Modules {
		mods[i].Name = names[i]
		if t, err := b.Module(m); err == nil {
			targets[names[i]] = t
		} else {
			misses[names[i]] = err
		}
	}
	base := func(module string) (*mat.Dense, error) {
		t, ok := targets[module]
		if !ok {
			return nil, misses[module]
		}
		w, err := b.Weight(t)
		if err != nil {
			return nil, err
		}
		out, in := t.Tensor.Shape[0], t.Tensor.Shape[1]
		if t.Transposed {
			out, in = in, out
		}
		wide := make([]float64, len(w))
		for i, v := range w {
			wide[i] = float64(v)
		}
		return mat.NewDense(int(out), int(in), wide), nil
	}
	return mods, base, nil
}
