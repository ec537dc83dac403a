package format

import (
	"fmt"
	"strings"
)

// maxBytes bounds any size lorakit computes (2^56 bytes): far beyond any
// real file, small enough that products of it never overflow int64.
const maxBytes = int64(1) << 56

// TensorInfo describes one tensor. Shape is row-major, outermost dimension
// first, in every package of lorakit (GGUF's reversed ne order is undone in
// format/gguf). An empty Shape is a scalar.
type TensorInfo struct {
	Name  string
	DType DType
	Shape []int64
}

// NumElements returns the product of Shape (1 for a scalar), or an error if a
// dimension is negative or the product overflows.
func (t TensorInfo) NumElements() (int64, error) {
	n := int64(1)
	for _, d := range t.Shape {
		if d < 0 {
			return 0, fmt.Errorf("tensor %q: negative dimension in shape %v: %w", t.Name, t.Shape, ErrFormat)
		}
		if d != 0 && n > maxBytes/d {
			return 0, fmt.Errorf("tensor %q: shape %v overflows: %w", t.Name, t.Shape, ErrFormat)
		}
		n *= d
	}
	return n, nil
}

// NumBytes returns the size of the tensor's data. For block types the
// innermost dimension (the row) must be a whole number of blocks.
func (t TensorInfo) NumBytes() (int64, error) {
	n, err := t.NumElements()
	if err != nil {
		return 0, err
	}
	if t.DType.IsBlock() {
		if len(t.Shape) == 0 || t.Shape[len(t.Shape)-1]%int64(t.DType.BlockSize()) != 0 {
			return 0, fmt.Errorf("tensor %q: row of shape %v is not a multiple of the %v block size %d: %w",
				t.Name, t.Shape, t.DType, t.DType.BlockSize(), ErrShape)
		}
	}
	b, err := t.DType.RowBytes(n)
	if err != nil {
		return 0, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	return b, nil
}

// Rows returns the number of rows (the product of all but the innermost
// dimension) and the row length. A scalar or 1-D tensor is one row.
func (t TensorInfo) Rows() (rows, cols int64) {
	if len(t.Shape) == 0 {
		return 1, 1
	}
	cols = t.Shape[len(t.Shape)-1]
	rows = 1
	for _, d := range t.Shape[:len(t.Shape)-1] {
		rows *= d
	}
	return rows, cols
}

// String formats the info as `name F32 [768 3072]`.
func (t TensorInfo) String() string {
	dims := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = fmt.Sprint(d)
	}
	return fmt.Sprintf("%s %v [%s]", t.Name, t.DType, strings.Join(dims, " "))
}

// SameShape reports whether two shapes are equal.
func SameShape(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
