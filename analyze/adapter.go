package analyze

import (
	"github.com/lorakit/lorakit/lora"
	"gonum.org/v1/gonum/mat"
)

// FromAdapter returns an adapter's modules as analysis modules, named as
// the adapter names them (PEFT module paths, GGUF names, MLX keys). A and B
// are widened to float64; ΔW = Scale·B·A is the module's update in
// nn.Linear orientation (out × in) whatever the file's layout. A module of
// stacked experts gives one module per expert, "<name>[e]".
func FromAdapter(a *lora.Adapter) []Module {
	mods := make([]Module, 0, len(a.Modules))
	for _, m := range expand(a.Modules) {
		mods = append(mods, Module{
			Name:  m.Name,
			A:     mat.NewDense(m.Rank, m.In, widen(m.A)),
			B:     mat.NewDense(m.Out, m.Rank, widen(m.B)),
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
