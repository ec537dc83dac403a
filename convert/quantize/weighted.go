package quantize

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
)

// quantizeWeighted encodes rows of cols values of x as dt with ggml's
// importance-weighted quantizer (imp: cols weights, nil for ggml's
// unweighted path of types that only have that quantizer).
func quantizeWeighted(dst []byte, x []float32, cols int, dt format.DType, imp []float32) error {
	return fmt.Errorf("no importance-weighted quantizer for %v yet: %w", dt, format.ErrUnsupported)
}
