package optim

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
)

// Param is one trainable tensor, flattened: its values and the gradient of
// the loss with respect to them. Data and Grad have the same length.
type Param struct {
	Name string
	Data []float32
	Grad []float32
}

// checkParams validates a parameter list: non-empty unique names and
// gradients as long as the values.
func checkParams(params []Param) error {
	seen := make(map[string]bool, len(params))
	for _, p := range params {
		switch {
		case p.Name == "":
			return fmt.Errorf("optim: parameter without a name: %w", format.ErrFormat)
		case seen[p.Name]:
			return fmt.Errorf("optim: parameter %q listed twice: %w", p.Name, format.ErrFormat)
		case len(p.Grad) != len(p.Data):
			return fmt.Errorf("optim: parameter %q: %d values but %d gradients: %w", p.Name, len(p.Data), len(p.Grad), format.ErrShape)
		}
		seen[p.Name] = true
	}
	return nil
}

// ZeroGrad sets every gradient to zero.
func ZeroGrad(params []Param) {
	for _, p := range params {
		clear(p.Grad)
	}
}

// ScaleGrad multiplies every gradient by s (in float32).
func ScaleGrad(params []Param, s float64) {
	f := float32(s)
	for _, p := range params {
		for i := range p.Grad {
			p.Grad[i] *= f
		}
	}
}
