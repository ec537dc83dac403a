// Package half converts between float32 and the 16- and 8-bit floating-point
// formats that checkpoints store: IEEE binary16 (F16), bfloat16 (BF16) and
// the OCP 8-bit formats F8_E4M3 (fn variant) and F8_E5M2.
//
// All conversions from float32 round to nearest, ties to even.
package half

import "github.com/x448/float16"

// F32ToF16 converts src to IEEE binary16 bit patterns. len(dst) >= len(src).
func F32ToF16(dst []uint16, src []float32) {
	for i, v := range src {
		dst[i] = uint16(float16.Fromfloat32(v))
	}
}

// F16ToF32 converts binary16 bit patterns to float32. len(dst) >= len(src).
func F16ToF32(dst []float32, src []uint16) {
	for i, v := range src {
		dst[i] = float16.Frombits(v).Float32()
	}
}
