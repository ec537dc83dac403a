package train

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/lorakit/lorakit/analyze"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
)

// AnalyzeModules turns an adapter's modules into analyze's form (float64,
// nn.Linear orientation), names unchanged.
func AnalyzeModules(a *lora.Adapter) []analyze.Module {
	out := make([]analyze.Module, 0, len(a.Modules))
	for _, m := range a.Modules {
		f64 := func(x []float32) []float64 {
			y := make([]float64, len(x))
			for i, v := range x {
				y[i] = float64(v)
			}
			return y
		}
		out = append(out, analyze.Module{
			Name: m.Name, Alpha: m.Alpha, Scale: m.Scale(),
			A: mat.NewDense(m.Rank, m.In, f64(m.A)),
			B: mat.NewDense(m.Out, m.Rank, f64(m.B)),
		})
	}
	return out
}

// SourceBase returns an analyze.BaseFunc reading a module's weight
// "<name>.weight" (GGUF names) from src, any element type.
func SourceBase(src format.Source) analyze.BaseFunc {
	return func(name string) (*mat.Dense, error) {
		info, ok := format.TensorIndex(src.Tensors(), name+".weight")
		if !ok || len(info.Shape) != 2 {
			return nil, fmt.Errorf("train: base weight %q: %w", name+".weight", format.ErrNotFound)
		}
		raw, err := src.TensorData(info.Name)
		if err != nil {
			return nil, err
		}
		rows, cols := info.Rows()
		x := make([]float32, rows*cols)
		if err := format.ToFloat32(x, raw, info.DType); err != nil {
			return nil, fmt.Errorf("train: base weight %q: %w", info.Name, err)
		}
		y := make([]float64, len(x))
		for i, v := range x {
			y[i] = float64(v)
		}
		return mat.NewDense(int(rows), int(cols), y), nil
	}
}
