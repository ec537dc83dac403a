package analyze

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
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

// SourceBase returns a BaseFunc that reads the weight of each module from
// src, a checkpoint with llama.cpp names: module names[i] (the adapter's
// own name) is read from the tensor ggufNames[i]+".weight". Each matrix is
// decoded (dequantized where needed) when asked for, so the base is
// streamed one module at a time.
func SourceBase(src format.Source, names, ggufNames []string) BaseFunc {
	byName := make(map[string]string, len(names))
	for i, n := range names {
		byName[n] = ggufNames[i] + ".weight"
	}
	return func(name string) (*mat.Dense, error) {
		tensor, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("module %q: no base tensor: %w", name, format.ErrNotFound)
		}
		info, ok := format.TensorIndex(src.Tensors(), tensor)
		if !ok {
			return nil, fmt.Errorf("module %q: base has no tensor %q: %w", name, tensor, format.ErrNotFound)
		}
		if len(info.Shape) != 2 {
			return nil, fmt.Errorf("module %q: base tensor %q has shape %v, want a matrix: %w", name, tensor, info.Shape, format.ErrShape)
		}
		raw, err := src.TensorData(tensor)
		if err != nil {
			return nil, err
		}
		data := make([]float64, info.Shape[0]*info.Shape[1])
		if err := format.ToFloat64(data, raw, info.DType); err != nil {
			return nil, fmt.Errorf("module %q: %w", name, err)
		}
		format.Release(src, tensor)
		return mat.NewDense(int(info.Shape[0]), int(info.Shape[1]), data), nil
	}
}
