package half

import "math"

// F32ToBF16 converts src to bfloat16 bit patterns, rounding to nearest
// even; a NaN keeps its sign and top payload bits and is made quiet.
// len(dst) >= len(src).
func F32ToBF16(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	n := f32ToBF16Arch(dst, src)
	f32ToBF16Generic(dst[n:], src[n:])
}

// BF16ToF32 converts bfloat16 bit patterns to float32 (exactly).
// len(dst) >= len(src).
func BF16ToF32(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	n := bf16ToF32Arch(dst, src)
	bf16ToF32Generic(dst[n:], src[n:])
}

// BF16 converts one float32 to bfloat16 bits (round to nearest even).
func BF16(f float32) uint16 { return bf16FromBits(math.Float32bits(f)) }

// BF16Float32 converts bfloat16 bits to the float32 of the same value.
func BF16Float32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

func f32ToBF16Generic(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = bf16FromBits(math.Float32bits(v))
	}
}

func bf16ToF32Generic(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	for i, h := range src {
		dst[i] = math.Float32frombits(uint32(h) << 16)
	}
}

// bf16FromBits rounds float32 bits u to bfloat16 bits.
func bf16FromBits(u uint32) uint16 {
	if u&0x7fffffff > f32Inf { // NaN: keep sign and top payload, force quiet
		return uint16(u>>16) | 0x40
	}
	// Adding 0x7fff plus the kept lsb carries exactly when the dropped half
	// is above 0x8000, or equal to it with an odd kept part.
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}
