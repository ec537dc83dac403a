package safetensors

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// referenceOrder lists the safetensors dtypes in the order of the Hugging
// Face crate's Dtype enum ("increasing alignment order"), which its writer
// sorts by, descending. Only the types lorakit knows are listed; the
// reference's F4, F6_*, F8_E8M0, F8_*FNUZ and C64 sit between them without
// changing their relative order.
var referenceOrder = []format.DType{
	format.BOOL,
	format.U8, format.I8,
	format.F8_E5M2, format.F8_E4M3,
	format.I16, format.U16, format.F16, format.BF16,
	format.I32, format.U32, format.F32,
	format.F64, format.I64, format.U64,
}

// rank is a DType's position in referenceOrder.
var rank = func() map[format.DType]int {
	m := make(map[format.DType]int, len(referenceOrder))
	for i, dt := range referenceOrder {
		m[dt] = i
	}
	return m
}()

// byName maps a safetensors dtype name (case-sensitive, as the reference
// reads it) to a DType.
var byName = func() map[string]format.DType {
	m := make(map[string]format.DType)
	for _, dt := range format.DTypes() {
		if dt.InSafetensors() {
			m[dt.String()] = dt
		}
	}
	return m
}()

// knownElsewhere are dtype names the reference accepts that lorakit has no
// DType for: a file holding them is valid but unsupported.
var knownElsewhere = []string{"F4", "F6_E2M3", "F6_E3M2", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "C64"}

// parseDType maps a header dtype name to a DType. A name the reference knows
// but lorakit does not gives ErrUnsupported; any other name ErrFormat (the
// reference rejects it as invalid JSON).
func parseDType(name string) (format.DType, error) {
	if dt, ok := byName[name]; ok {
		return dt, nil
	}
	if slices.Contains(knownElsewhere, name) {
		return format.Invalid, fmt.Errorf("dtype %s: %w", name, format.ErrUnsupported)
	}
	return format.Invalid, fmt.Errorf("unknown dtype %q: %w", name, format.ErrFormat)
}

// SortLikeReference sorts infos into the order in which the Hugging Face
// reference writer (safetensors' serialize, save_file) lays tensors out:
// dtype alignment descending (U64, I64, F64, F32, U32, I32, BF16, F16, U16,
// I16, F8_E4M3, F8_E5M2, I8, U8, BOOL), then name ascending byte-wise.
// Writing infos in this order reproduces what that writer would produce.
// Dtypes safetensors cannot store sort last.
func SortLikeReference(infos []format.TensorInfo) {
	slices.SortStableFunc(infos, func(a, b format.TensorInfo) int {
		ra, oka := rank[a.DType]
		rb, okb := rank[b.DType]
		if !oka {
			ra = -1
		}
		if !okb {
			rb = -1
		}
		if ra != rb {
			return rb - ra
		}
		return strings.Compare(a.Name, b.Name)
	})
}
