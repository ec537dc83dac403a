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

// The generic loops spell out f16FromBits and f16ToBits so that their
// common case inlines (the whole functions exceed the inlining budget).

func f32ToF16Generic(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		if u := math.Float32bits(v); f16IsNormal(u) {
			dst[i] = f16Normal(u)
		} else {
			dst[i] = f16FromBitsRare(u)
		}
	}
}

func f16ToF32Generic(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	for i, h := range src {
		if f16HasNormalExp(h) {
			dst[i] = math.Float32frombits(f16WidenNormal(h))
		} else {
			dst[i] = math.Float32frombits(f16ToBitsRare(h))
		}
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
	if f16IsNormal(u) {
		return f16Normal(u)
	}
	return f16FromBitsRare(u)
}

// f16IsNormal reports whether float32 bits u lie in [2^-14, 2^16) in
// magnitude, where the binary16 result is a normal number or (by rounding
// up) Inf.
func f16IsNormal(u uint32) bool {
	return u&0x7fffffff-f16MinNormal < f16Overflow-f16MinNormal
}

// f16Normal rounds u, for which f16IsNormal holds: rebias the exponent
// and round the 13 dropped bits to nearest even; a mantissa carry moves
// into the exponent (and up to Inf) as it should.
func f16Normal(u uint32) uint16 {
	a := u&0x7fffffff - (127-15)<<23
	a += 0xfff + (a>>13)&1
	return uint16(u>>16)&0x8000 | uint16(a>>13)
}

// f16FromBitsRare handles results that are not normal binary16 numbers:
// NaN, overflow to Inf, subnormals and zeros.
func f16FromBitsRare(u uint32) uint16 {
	sign := uint16(u>>16) & 0x8000
	a := u & 0x7fffffff
	switch {
	case a > f32Inf: // NaN: quiet, top 10 payload bits
		return sign | 0x7e00 | uint16(a>>13)&0x3ff
	case a >= f16Overflow:
		return sign | 0x7c00
	}
	s := math.Float32frombits(a) + math.Float32frombits(f16Denorm)
	return sign | uint16(math.Float32bits(s)-f16Denorm)
}

// f16ToBits widens binary16 bits h to float32 bits.
func f16ToBits(h uint16) uint32 {
	if f16HasNormalExp(h) {
		return f16WidenNormal(h)
	}
	return f16ToBitsRare(h)
}

// f16HasNormalExp reports whether h is a normal number (exponent field
// neither 0 nor all ones).
func f16HasNormalExp(h uint16) bool {
	e := h & 0x7c00
	return e != 0 && e != 0x7c00
}

// f16WidenNormal widens a normal h: rebias the exponent.
func f16WidenNormal(h uint16) uint32 {
	return uint32(h&0x8000)<<16 | (uint32(h&0x7fff)<<13 + (127-15)<<23)
}

// f16ToBitsRare widens zeros, subnormals, infinities and NaNs.
func f16ToBitsRare(h uint16) uint32 {
	sign := uint32(h&0x8000) << 16
	a := uint32(h&0x7fff) << 13 // exponent and mantissa, float32-aligned
	if a >= 0x1f<<23 {          // Inf or NaN
		a += (255 - 31) << 23
		if a != f32Inf {
			a |= 0x400000 // quiet NaN
		}
		return sign | a
	}
	// Zero or subnormal: scale exactly through the FPU.
	return sign | math.Float32bits(math.Float32frombits(a+f16MinNormal)-math.Float32frombits(f16MinNormal))
}
