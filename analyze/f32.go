package analyze

import (
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// f32Matrix is a row-major float32 matrix read as float64 (a mat.Matrix):
// FromAdapter's modules share the adapter's values through it instead of
// holding widened copies (an 8B model's all-linear rank-16 adapter is
// 168 MB in float32, 335 MB more in float64). Widening is exact, and every
// analysis copies a factor into float64 before working on it (rawCopy).
type f32Matrix struct {
	rows, cols int
	data       []float32 // rows·cols
}

func (m f32Matrix) Dims() (int, int) { return m.rows, m.cols }

func (m f32Matrix) At(i, j int) float64 {
	if uint(i) >= uint(m.rows) || uint(j) >= uint(m.cols) {
		panic(mat.ErrIndexOutOfRange)
	}
	return float64(m.data[i*m.cols+j])
}

func (m f32Matrix) T() mat.Matrix { return mat.Transpose{Matrix: m} }

// empty reports whether x is missing or has no elements.
func empty(x mat.Matrix) bool {
	if d, ok := x.(*mat.Dense); x == nil || ok && (d == nil || d.IsEmpty()) {
		return true
	}
	r, c := x.Dims()
	return r == 0 || c == 0
}

// rawCopy returns x as a fresh compact row-major float64 matrix. A
// *mat.Dense or an f32Matrix, or the transpose of one (Aᵀ, the common
// case), is copied directly, transposes in cache-sized tiles.
func rawCopy(x mat.Matrix) blas64.General {
	switch x := x.(type) {
	case f32Matrix:
		return copyOf(x.data, x.rows, x.cols, x.cols)
	case *mat.Dense:
		r := x.RawMatrix()
		return copyOf(r.Data, r.Rows, r.Cols, r.Stride)
	case mat.Transpose:
		switch t := x.Matrix.(type) {
		case f32Matrix:
			return transposeOf(t.data, t.rows, t.cols, t.cols)
		case *mat.Dense:
			r := t.RawMatrix()
			return transposeOf(r.Data, r.Rows, r.Cols, r.Stride)
		}
	}
	return mat.DenseCopyOf(x).RawMatrix()
}

// copyOf returns src (m×n, row stride s) as a compact float64 matrix.
func copyOf[T float32 | float64](src []T, m, n, s int) blas64.General {
	t := blas64.General{Rows: m, Cols: n, Stride: max(n, 1), Data: make([]float64, m*n)}
	for i := range m {
		row := src[i*s : i*s+n]
		for j, v := range row {
			t.Data[i*t.Stride+j] = float64(v)
		}
	}
	return t
}

// transposeRaw returns the compact transpose of s (m×n) -> (n×m).
func transposeRaw(s blas64.General) blas64.General {
	return transposeOf(s.Data, s.Rows, s.Cols, s.Stride)
}

// transposeOf returns the compact transpose of src (m×n, row stride s),
// widened to float64, in cache-sized tiles.
//
//	src (m, n) -> (n, m)
func transposeOf[T float32 | float64](src []T, m, n, s int) blas64.General {
	const tile = 32
	t := blas64.General{Rows: n, Cols: m, Stride: max(m, 1), Data: make([]float64, m*n)}
	for i0 := 0; i0 < m; i0 += tile {
		for j0 := 0; j0 < n; j0 += tile {
			for i := i0; i < min(i0+tile, m); i++ {
				row := src[i*s:]
				for j := j0; j < min(j0+tile, n); j++ {
					t.Data[j*t.Stride+i] = float64(row[j])
				}
			}
		}
	}
	return t
}
