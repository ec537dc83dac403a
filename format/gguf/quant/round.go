package quant

import (
	"math"

	"github.com/x448/float16"
)

// nearestInt is ggml's nearest_int: add 1.5·2²³ in float32 and read the low
// mantissa bits, which rounds half to even for |f| < 2²². Outside that range
// (possible only for pathological inputs, where ggml's assert is compiled
// out) it returns the same wrapped value ggml does.
func nearestInt(f float32) int32 {
	v := f + 12582912
	return int32(math.Float32bits(v)&0x007fffff) - 0x00400000
}

// cInt is C's (int) cast of a float as x86-64 performs it (cvttss2si):
// truncation toward zero, and INT_MIN for NaN and out-of-range values. C's
// casts to int8_t and uint8_t take the low byte of this result.
func cInt(f float32) int32 {
	if f > -2147483904 && f < 2147483648 { // the float32 neighbours of the int32 range
		return int32(f)
	}
	return math.MinInt32
}

// roundf is C's roundf (half away from zero) followed by the conversion of
// its float result to an integer (cInt).
func roundf(f float32) int32 {
	if !(f > -2147483904 && f < 2147483648) {
		return math.MinInt32
	}
	// float64(f) ± 0.5 is exact for every float32 in range, so truncating
	// it rounds half away from zero.
	return int32(float64(f) + math.Copysign(0.5, float64(f)))
}

// f16 rounds f to binary16 (nearest even), as GGML_FP32_TO_FP16.
func f16(f float32) uint16 { return uint16(float16.Fromfloat32(f)) }

// f16Table maps every binary16 pattern to its float32 value (exact).
var f16Table = func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = float16.Frombits(uint16(i)).Float32()
	}
	return &t
}()

// f32 decodes a little-endian binary16 stored at b[0:2].
func f32(b []byte) float32 { return f16Table[uint16(b[0])|uint16(b[1])<<8] }

// putF16 stores f as little-endian binary16 at b[0:2].
func putF16(b []byte, f float32) {
	h := f16(f)
	b[0], b[1] = byte(h), byte(h>>8)
}

// finite reports whether f is neither NaN nor ±Inf.
func finite(f float32) bool { return math.Float32bits(f)&0x7f800000 != 0x7f800000 }

// abs is fabsf.
func abs(f float32) float32 { return math.Float32frombits(math.Float32bits(f) &^ (1 << 31)) }

// sqrtf is a correctly rounded float32 square root (float64 has enough
// precision for the double rounding to be exact).
func sqrtf(f float32) float32 { return float32(math.Sqrt(float64(f))) }
