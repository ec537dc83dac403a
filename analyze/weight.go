package analyze

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/lorakit/lorakit/format"
)

// Weight is a base weight W (out×in, the orientation of ΔW) as Amplify
// reads it: in whole passes over the rows of the matrix it is stored as, a
// band of rows at a time, so that W is never held in memory whole (a
// 14336×4096 projection would take 470 MB as float64). Base.Stream reads
// the bands straight from a memory-mapped checkpoint; DenseWeight wraps a
// matrix already in memory.
type Weight interface {
	// Dims returns W's shape (out, in).
	Dims() (out, in int)
	// Transposed reports whether W is stored as Wᵀ (in×out: GPT-2's
	// Conv1D, embeddings), whose rows are W's columns.
	Transposed() bool
	// ReadRows writes the stored rows [i0, i1) into dst, row-major, len
	// (i1−i0)·(the stored matrix's columns), widened to float64. It is
	// called concurrently for disjoint ranges.
	ReadRows(dst []float64, i0, i1 int) error
}

// DenseWeight returns w (out×in) as a Weight.
func DenseWeight(w *mat.Dense) Weight { return denseWeight{w} }

type denseWeight struct{ m *mat.Dense }

func (d denseWeight) Dims() (int, int) { return d.m.Dims() }

func (d denseWeight) Transposed() bool { return false }

func (d denseWeight) ReadRows(dst []float64, i0, i1 int) error {
	raw := d.m.RawMatrix()
	for i := i0; i < i1; i++ {
		copy(dst[(i-i0)*raw.Cols:(i-i0+1)*raw.Cols], raw.Data[i*raw.Stride:])
	}
	return nil
}

// storedDims returns the shape of the matrix w is stored as.
func storedDims(w Weight) (rows, cols int) {
	out, in := w.Dims()
	if w.Transposed() {
		return in, out
	}
	return out, in
}

// denseOf reads all of w into memory, (out, in).
func denseOf(w Weight) (*mat.Dense, error) {
	rows, cols := storedDims(w)
	data := make([]float64, rows*cols)
	if err := w.ReadRows(data, 0, rows); err != nil {
		return nil, err
	}
	d := mat.NewDense(rows, cols, data)
	if w.Transposed() {
		d = mat.NewDense(cols, rows, transposeRaw(d.RawMatrix()).Data)
	}
	return d, nil
}

// checkFiniteRows returns an error wrapping format.ErrFormat at the first
// NaN or infinite element of panel (stored rows from i0 on, cols wide),
// naming it by its place in W.
func checkFiniteRows(panel []float64, i0, cols int, transposed bool) error {
	for k, v := range panel {
		if v-v != 0 { // NaN or ±Inf
			i, j := i0+k/cols, k%cols
			if transposed {
				i, j = j, i
			}
			return fmt.Errorf("element (%d, %d) is %v: %w", i, j, v, format.ErrFormat)
		}
	}
	return nil
}
