package merge

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/lorakit/lorakit/format"
)

// The task-vector primitives of PEFT's utils/merge_utils.py. Each task
// tensor is a flat []float32 of the same length; weights apply per tensor.

// weightedSum returns Σ_i w_i·t_i (task_arithmetic).
func weightedSum(ts [][]float32, w []float64) []float32 {
	out := make([]float32, len(ts[0]))
	for j := range out {
		var s float64
		for i, t := range ts {
			s += w[i] * float64(t[j])
		}
		out[j] = float32(s)
	}
	return out
}

// magnitudePrune keeps the k = int(density·n) entries of largest |t| (ties:
// the earlier index wins) and zeroes the rest; density >= 1 keeps all.
func magnitudePrune(t []float32, density float64) []float32 {
	out := append([]float32(nil), t...)
	if density >= 1 {
		return out
	}
	k := int(density * float64(len(t)))
	idx := make([]int, len(t))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return math.Abs(float64(t[idx[a]])) > math.Abs(float64(t[idx[b]])) })
	for _, i := range idx[k:] {
		out[i] = 0
	}
	return out
}

// randomPrune keeps each entry with probability density and rescales the
// kept ones by 1/density (DARE); density >= 1 keeps all.
func randomPrune(t []float32, density float64, rng *rand.Rand) []float32 {
	out := append([]float32(nil), t...)
	if density >= 1 {
		return out
	}
	for i := range out {
		if rng.Float64() < density {
			out[i] = float32(float64(out[i]) / density)
		} else {
			out[i] = 0
		}
	}
	return out
}

// signOf is torch.sign: -1, 0 or +1.
func signOf(x float32) float32 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// tiesMerge elects a sign per entry from the (pruned, unweighted) tensors —
// the sign of Σ t_i ("total") or of Σ sign(t_i) ("frequency"), ties to +
// — and returns Σ_i w_i·t_i over the i whose sign agrees, divided by the
// number that agree (at least 1): PEFT's calculate_majority_sign_mask and
// disjoint_merge.
func tiesMerge(ts [][]float32, w []float64, method string) []float32 {
	out := make([]float32, len(ts[0]))
	for j := range out {
		var tot float64
		for _, t := range ts {
			if method == SignFrequency {
				tot += float64(signOf(t[j]))
			} else {
				tot += float64(t[j])
			}
		}
		elected := float32(1)
		if tot < 0 {
			elected = -1
		}
		var s float64
		n := 0
		for i, t := range ts {
			if signOf(t[j]) == elected {
				s += w[i] * float64(t[j])
				n++
			}
		}
		out[j] = float32(s / float64(max(n, 1)))
	}
	return out
}

// combineTasks applies a PEFT combination method to task tensors.
func combineTasks(method string, ts [][]float32, w []float64, density float64, sign string, rng *rand.Rand) ([]float32, error) {
	switch method {
	case MethodLinear:
		return weightedSum(ts, w), nil
	case MethodMagnitudePrune, MethodTIES:
		pruned := make([][]float32, len(ts))
		for i, t := range ts {
			pruned[i] = magnitudePrune(t, density)
		}
		if method == MethodTIES {
			return tiesMerge(pruned, w, sign), nil
		}
		return weightedSum(pruned, w), nil
	case MethodDARELinear, MethodDARETIES:
		pruned := make([][]float32, len(ts))
		for i, t := range ts {
			pruned[i] = randomPrune(t, density, rng)
		}
		if method == MethodDARETIES {
			return tiesMerge(pruned, w, sign), nil
		}
		return weightedSum(pruned, w), nil
	}
	return nil, fmt.Errorf("combination method %q: %w", method, format.ErrUnsupported)
}
