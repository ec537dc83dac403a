package analyze

import (
	"github.com/lorakit/lorakit/lora"
)

// FromAdapter returns an adapter's modules as analysis modules, named as
// the adapter names them (PEFT module paths, GGUF names, MLX keys). A and B
// share the adapter's float32 values, read as float64 (so the adapter must
// not change while the modules are in use); ΔW = Scale·B·A is the module's update in
// nn.Linear orientation (out × in) whatever the file's layout. A module of
// stacked experts gives one module per expert, "<name>[e]".
func FromAdapter(a *lora.Adapter) []Module {
	mods := make([]Module, 0, len(a.Modules))
	for _, m := range expand(a.Modules) {
		mods = append(mods, Module{
			Name:  m.Name,
			A:     f32Matrix{m.Rank, m.In, m.A},
			B:     f32Matrix{m.Out, m.Rank, m.B},
			Alpha: m.Alpha,
			Scale: m.Scale(),
		})
	}
	return mods
}

func widen(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
