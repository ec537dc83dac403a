// Package diff compares two checkpoints tensor by tensor, by name, across
// formats and dtypes (the engine of `lorakit diff`).
package diff

import (
	"fmt"
	"math"

	"github.com/lorakit/lorakit/format"
)

// Tolerance says when two values count as equal enough: |a-b| <= Abs + Rel*|b|
// (numpy's allclose rule, b being the reference side).
type Tolerance struct {
	Abs, Rel float64
}

// Status classifies one tensor of a comparison.
type Status string

// The statuses of a Tensor.
const (
	Equal         Status = "equal"  // every value identical
	Within        Status = "within" // values differ, all within tolerance
	Differ        Status = "differ" // some value outside tolerance
	OnlyA         Status = "only_a" // tensor present only in A
	OnlyB         Status = "only_b" // tensor present only in B
	ShapeMismatch Status = "shape"  // shapes disagree
)

// Tensor is the comparison of one tensor present in A and/or B.
type Tensor struct {
	Name   string  `json:"name"`
	DTypeA string  `json:"dtype_a,omitempty"`
	DTypeB string  `json:"dtype_b,omitempty"`
	ShapeA []int64 `json:"shape_a,omitempty"`
	ShapeB []int64 `json:"shape_b,omitempty"`
	MaxAbs float64 `json:"max_abs"`
	MaxRel float64 `json:"max_rel"`
	Status Status  `json:"status"`
}

// Report is the comparison of two checkpoints.
type Report struct {
	Tensors []Tensor `json:"tensors"`
	MaxAbs  float64  `json:"max_abs"`
	OK      bool     `json:"ok"`
}

// chunk is the number of elements compared at a time: a multiple of
// every block size, so chunks always start on block boundaries, and small
// enough to bound memory whatever the tensor size.
const chunk = 1 << 16

// Compare compares a and b tensor by tensor, by name, across formats and
// dtypes: values are decoded (dequantized where a codec exists) and compared
// as float64. Tensors are listed in A's order, then those only in B. NaNs
// compare equal to NaNs at the same position.
func Compare(a, b format.Source, tol Tolerance) (*Report, error) {
	d := &Report{OK: true}
	bInfos := b.Tensors()
	seen := make(map[string]bool, len(bInfos))
	for _, ta := range a.Tensors() {
		seen[ta.Name] = true
		tb, ok := format.TensorIndex(bInfos, ta.Name)
		td := Tensor{Name: ta.Name, DTypeA: ta.DType.String(), ShapeA: ta.Shape}
		switch {
		case !ok:
			td.Status = OnlyA
		case !format.SameShape(ta.Shape, tb.Shape):
			td.DTypeB, td.ShapeB, td.Status = tb.DType.String(), tb.Shape, ShapeMismatch
		default:
			td.DTypeB, td.ShapeB = tb.DType.String(), tb.Shape
			if err := compareValues(a, b, ta, tb, tol, &td); err != nil {
				return nil, err
			}
		}
		d.add(td)
	}
	for _, tb := range bInfos {
		if !seen[tb.Name] {
			d.add(Tensor{Name: tb.Name, DTypeB: tb.DType.String(), ShapeB: tb.Shape, Status: OnlyB})
		}
	}
	return d, nil
}

func (d *Report) add(td Tensor) {
	d.Tensors = append(d.Tensors, td)
	d.MaxAbs = math.Max(d.MaxAbs, td.MaxAbs)
	if td.Status != Equal && td.Status != Within {
		d.OK = false
	}
}

// compareValues streams both tensors in chunks and fills td's maxima and
// status.
func compareValues(a, b format.Source, ta, tb format.TensorInfo, tol Tolerance, td *Tensor) error {
	da, err := a.TensorData(ta.Name)
	if err != nil {
		return err
	}
	db, err := b.TensorData(tb.Name)
	if err != nil {
		return err
	}
	n, err := ta.NumElements()
	if err != nil {
		return err
	}
	bufA := make([]float64, min(n, chunk))
	bufB := make([]float64, min(n, chunk))
	within := true
	for off := int64(0); off < n; off += chunk {
		m := min(chunk, n-off)
		if err := decodeRange(bufA[:m], da, ta, off); err != nil {
			return err
		}
		if err := decodeRange(bufB[:m], db, tb, off); err != nil {
			return err
		}
		for i := range m {
			x, y := bufA[i], bufB[i]
			if x == y || (x != x && y != y) {
				continue
			}
			diff := math.Abs(x - y)
			if diff != diff { // NaN against a number, or opposite infinities
				diff = math.Inf(1)
			}
			td.MaxAbs = math.Max(td.MaxAbs, diff)
			if y != 0 {
				td.MaxRel = math.Max(td.MaxRel, diff/math.Abs(y))
			} else {
				td.MaxRel = math.Inf(1)
			}
			if !(diff <= tol.Abs+tol.Rel*math.Abs(y)) {
				within = false
			}
		}
	}
	switch {
	case td.MaxAbs == 0 && td.MaxRel == 0:
		td.Status = Equal
	case within:
		td.Status = Within
	default:
		td.Status = Differ
	}
	return nil
}

// decodeRange decodes len(dst) elements of tensor t starting at element off
// (block-aligned) from its raw bytes.
func decodeRange(dst []float64, raw []byte, t format.TensorInfo, off int64) error {
	start, err := t.DType.RowBytes(off)
	if err != nil {
		return fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	size, err := t.DType.RowBytes(int64(len(dst)))
	if err != nil {
		return fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	if start+size > int64(len(raw)) {
		return fmt.Errorf("tensor %q: data shorter than its shape: %w", t.Name, format.ErrFormat)
	}
	if err := format.ToFloat64(dst, raw[start:start+size], t.DType); err != nil {
		return fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	return nil
}
