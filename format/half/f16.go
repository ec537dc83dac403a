package half

import "math"

// F32ToF16 converts src to IEEE binary16 bit patterns, rounding to nearest
// even. len(dst) >= len(src).
func F32ToF16(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	n := f32ToF16Arch(dst, src)
	f32ToF16Generic(dst[n:], src[n:])
}

// F16ToF32 converts binary16 bit patterns to float32 (exactly).
// len(dst) >= len(src).
func F16ToF32(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	n := f16ToF32Arch(dst, src)
	f16ToF32Generic(dst[n:], src[n:])
}

// F16 converts one float32 to binary16 bits, rounding to nearest even.
func F16(f float32) uint16 { return f16FromBits(math.Float32bits(f)) }

// F16Float32 converts binary16 bits to the float32 of the same value.
func F16Float32(h uint16) float32 { return math.Float32frombits(f16ToBits(h)) }

func f32ToF16Generic(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = f16FromBits(math.Float32bits(v))
	}
}

func f16ToF32Generic(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	for i, h := range src {
		dst[i] = math.Float32frombits(f16ToBits(h))
	}
}

const (
	f32Inf = 0x7f800000 // float32 +Inf bits: exponent all ones
	// f16Overflow is 2^16, the first float32 magnitude that is certain to
	// round to Inf (values from 65520 up round there too, by the carry).
	f16Overflow = (127 + 16) << 23
	// f16MinNormal is 2^-14, the smallest normal binary16 magnitude.
	f16MinNormal = (127 - 14) << 23
	// f16Denorm is 0.5: adding it to |x| < 2^-14 leaves the float32 ulp at
	// 2^-24, the binary16 subnormal step, so the FPU's own
	// round-to-nearest-even places the subnormal mantissa in the low bits.
	f16Denorm = (127 - 1) << 23
)

// f16FromBits rounds float32 bits u to binary16 bits.
func f16FromBits(u uint32) uint16 {
	sign := uint16(u>>16) & 0x8000
	a := u & 0x7fffffff
	switch {
	case a > f32Inf: // NaN: quiet, top 10 payload bits
		return sign | 0x7e00 | uint16(a>>13)&0x3ff
	case a >= f16Overflow:
		return sign | 0x7c00
	case a < f16MinNormal: // subnormal or zero result
		s := math.Float32frombits(a) + math.Float32frombits(f16Denorm)
		return sign | uint16(math.Float32bits(s)-f16Denorm)
	}
	// Rebias the exponent and round the 13 dropped bits to nearest even;
	// a mantissa carry moves into the exponent (and up to Inf) as it should.
	a -= (127 - 15) << 23
	a += 0xfff + (a>>13)&1
	return sign | uint16(a>>13)
}

// f16ToBits widens binary16 bits h to float32 bits.
func f16ToBits(h uint16) uint32 {
	sign := uint32(h&0x8000) << 16
	a := uint32(h&0x7fff) << 13 // exponent and mantissa, float32-aligned
	switch a & (0x1f << 23) {
	case 0x1f << 23: // Inf or NaN
		a += (255 - 31) << 23
		if a != f32Inf {
			a |= 0x400000 // quiet NaN
		}
	case 0: // zero or subnormal: scale exactly through the FPU
		a = math.Float32bits(math.Float32frombits(a+f16MinNormal) - math.Float32frombits(f16MinNormal))
	default:
		a += (127 - 15) << 23
	}
	return sign | a
}
