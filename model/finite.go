package model

import (
	"fmt"
	"math"

	"github.com/lorakit/lorakit/format"
)

// ErrNonFinite: a forward pass produced NaN or ±Inf (weights or an adapter
// holding such values, or an overflow), so no token can be chosen or scored.
var ErrNonFinite = fmt.Errorf("non-finite logits: %w", format.ErrFormat)

// checkLogits refuses logits holding NaN or ±Inf, naming the first.
func checkLogits(logits []float32) error {
	for i, v := range logits {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("model: logit of token %d is %v (do the weights or the adapter hold NaN or Inf?): %w", i, v, ErrNonFinite)
		}
	}
	return nil
}
