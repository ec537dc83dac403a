package merge

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
)

// add applies the op's low-rank update to rows lo..hi of the tensor, held
// decoded in f ((hi-lo) × cols):
//
//	f += scale · left[lo:hi] (hi-lo, rank) · right (rank, cols)
//
// For stacked experts (expertRows > 0) the tensor is (E, expertRows, cols)
// viewed as E·expertRows rows; left is B (E·expertRows, rank) and right
// holds A_e (rank, cols) for each expert, so rows of expert e use A_e: the
// chunk is split where it crosses from one expert to the next.
func (o op) add(f []float32, lo, hi, cols int) {
	if o.expertRows == 0 {
		addLowRank(f, hi-lo, cols, o.left[lo*o.rank:hi*o.rank], o.right, o.rank, o.scale)
		return
	}
	for i := lo; i < hi; {
		e := i / o.expertRows
		end := min(hi, (e+1)*o.expertRows)
		a := o.right[e*o.rank*cols : (e+1)*o.rank*cols]
		addLowRank(f[(i-lo)*cols:(end-lo)*cols], end-i, cols, o.left[i*o.rank:end*o.rank], a, o.rank, o.scale)
		i = end
	}
}

// hasExperts reports whether an adapter has stacked-expert or
// target_parameters modules.
func hasExperts(a *lora.Adapter) bool {
	for _, m := range a.Modules {
		if m.Experts > 0 || m.Param {
			return true
		}
	}
	return false
}

// checkNotPrequantized refuses to merge into a block-scaled FP8 weight (a
// tensor with a "_scale_inv" companion, DeepSeek / Qwen FP8 releases):
// its stored values mean nothing without their scales, and writing it back
// would need the scales recomputed. Converting the base first dequantizes
// it (lorakit convert).
func checkNotPrequantized(who string, infos map[string]format.TensorInfo, target string) error {
	if _, ok := infos[target+"_scale_inv"]; ok {
		return fmt.Errorf("%s: base tensor %q is FP8 with block scales (%s_scale_inv); convert the base first (lorakit convert, which dequantizes it) and merge into that: %w",
			who, target, target, format.ErrUnsupported)
	}
	return nil
}
