package half

import "math"

// F32ToBF16 converts src to bfloat16 bit patterns, rounding to nearest even;
// NaNs stay NaN (quiet). len(dst) >= len(src).
func F32ToBF16(dst []uint16, src []float32) {
	for i, v := range src {
		dst[i] = BF16(v)
	}
}

// BF16ToF32 converts bfloat16 bit patterns to float32. len(dst) >= len(src).
func BF16ToF32(dst []float32, src []uint16) {
	for i, v := range src {
		dst[i] = math.Float32frombits(uint32(v) << 16)
	}
}

// BF16 converts one float32 to bfloat16 bits (round to nearest even).
func BF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 { // NaN: keep sign and top payload, force quiet
		return uint16(u>>16) | 0x40
	}
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}
