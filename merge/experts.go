package merge

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
)

// checkNotPrequantized refuses to merge into a block-scaled FP8 weight (a
// tensor with a "_scale_inv" companion, DeepSeek / Qwen FP8 releases):
// its stored values mean nothing without their scales, and writing it back
// would need the scales recomputed. Converting the base first dequantizes
// it (lorakit convert).
func checkNotPrequantized(who string, b *base, target string) error {
	if _, ok := b.Info(target + "_scale_inv"); ok {
		return fmt.Errorf("%s: base tensor %q is FP8 with block scales (%s_scale_inv); convert the base first (lorakit convert, which dequantizes it) and merge into that: %w",
			who, target, target, format.ErrUnsupported)
	}
	return nil
}
