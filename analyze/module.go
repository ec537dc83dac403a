package analyze

import (
	"fmt"
	"math"

	"github.com/lorakit/lorakit/format"
	"gonum.org/v1/gonum/mat"
)

// Module is one LoRA pair: the update it stands for is ΔW = Scale·B·A.
type Module struct {
	// Name is the adapter's own name for the module (PEFT or GGUF).
	Name string
	// A is the down projection, r×in.
	A mat.Matrix
	// B is the up projection, out×r.
	B mat.Matrix
	// Alpha is the adapter's lora_alpha, reported as is.
	Alpha float64
	// Scale is s in ΔW = s·B·A (alpha/r, or alpha/√r with rsLoRA).
	Scale float64
}

// Rank is the number of rows of A (0 when A is missing).
func (m Module) Rank() int {
	if empty(m.A) {
		return 0
	}
	r, _ := m.A.Dims()
	return r
}

// Shape is [out, in] of ΔW, from B's rows and A's columns (0 when missing).
func (m Module) Shape() [2]int {
	var s [2]int
	if !empty(m.B) {
		s[0], _ = m.B.Dims()
	}
	if !empty(m.A) {
		_, s[1] = m.A.Dims()
	}
	return s
}

// Validate reports why m cannot be analysed: a missing factor or rank 0
// (format.ErrShape), inner dimensions that disagree (format.ErrShape), or a
// non-finite scale, alpha or matrix element (format.ErrFormat).
func (m Module) Validate() error {
	if empty(m.A) || empty(m.B) {
		return fmt.Errorf("analyze: module %q: missing A or B, or rank 0: %w", m.Name, format.ErrShape)
	}
	r, _ := m.A.Dims()
	_, rb := m.B.Dims()
	if r != rb {
		return fmt.Errorf("analyze: module %q: A has %d rows but B has %d columns: %w", m.Name, r, rb, format.ErrShape)
	}
	if math.IsNaN(m.Scale) || math.IsInf(m.Scale, 0) || math.IsNaN(m.Alpha) || math.IsInf(m.Alpha, 0) {
		return fmt.Errorf("analyze: module %q: scale %v or alpha %v is not finite: %w", m.Name, m.Scale, m.Alpha, format.ErrFormat)
	}
	if err := checkFinite(m.A); err != nil {
		return fmt.Errorf("analyze: module %q: lora A: %w", m.Name, err)
	}
	if err := checkFinite(m.B); err != nil {
		return fmt.Errorf("analyze: module %q: lora B: %w", m.Name, err)
	}
	return nil
}

// checkFinite returns an error wrapping format.ErrFormat at the first NaN or
// infinite element of x.
func checkFinite(x mat.Matrix) error {
	bad := func(i, j int, v float64) error {
		return fmt.Errorf("element (%d, %d) is %v: %w", i, j, v, format.ErrFormat)
	}
	switch x := x.(type) {
	case f32Matrix:
		for k, v := range x.data {
			if v-v != 0 { // NaN or ±Inf
				return bad(k/x.cols, k%x.cols, float64(v))
			}
		}
	case *mat.Dense:
		raw := x.RawMatrix()
		for i := range raw.Rows {
			if err := checkFiniteRows(raw.Data[i*raw.Stride:i*raw.Stride+raw.Cols], i, raw.Cols, false); err != nil {
				return err
			}
		}
	default:
		r, c := x.Dims()
		for i := range r {
			for j := range c {
				if v := x.At(i, j); v-v != 0 {
					return bad(i, j, v)
				}
			}
		}
	}
	return nil
}

// Skip records a module left out of an analysis and why.
type Skip struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}
