package half

import "math"

// F8E4M3ToF32 decodes F8_E4M3 (the "fn" variant: bias 7, no infinities,
// NaN = S.1111.111). len(dst) >= len(src).
func F8E4M3ToF32(dst []float32, src []uint8) {
	dst = dst[:len(src)]
	for i, b := range src {
		dst[i] = e4m3Table[b]
	}
}

// F32ToF8E4M3 encodes float32 as F8_E4M3, rounding to nearest even, as
// PyTorch does: magnitudes above 464, ±Inf and NaN become NaN.
// len(dst) >= len(src).
func F32ToF8E4M3(dst []uint8, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = F8E4M3(v)
	}
}

// F8E5M2ToF32 decodes F8_E5M2 (bias 15, IEEE-like). len(dst) >= len(src).
func F8E5M2ToF32(dst []float32, src []uint8) {
	dst = dst[:len(src)]
	for i, b := range src {
		dst[i] = e5m2Table[b]
	}
}

// F32ToF8E5M2 encodes float32 as F8_E5M2, rounding to nearest even;
// magnitudes from 61440 up become ±Inf. len(dst) >= len(src).
func F32ToF8E5M2(dst []uint8, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = F8E5M2(v)
	}
}

// Decoding goes through 256-entry tables filled from the scalar decoders.
var e4m3Table, e5m2Table = f8Tables()

func f8Tables() (e4m3, e5m2 [256]float32) {
	for i := range 256 {
		e4m3[i] = F8E4M3Float32(uint8(i))
		e5m2[i] = F8E5M2Float32(uint8(i))
	}
	return e4m3, e5m2
}

// F8E4M3Float32 converts F8_E4M3 bits to the float32 of the same value;
// S.1111.111 gives a quiet NaN with the code's sign.
func F8E4M3Float32(b uint8) float32 {
	sign := uint32(b&0x80) << 24
	a := uint32(b&0x7f) << 20 // exponent and mantissa, float32-aligned
	switch {
	case a == 0x7f<<20: // NaN: exponent all ones, payload 111
		return math.Float32frombits(sign | f32Inf | a)
	case a < 1<<23: // zero or subnormal: scale exactly through the FPU
		a = math.Float32bits(math.Float32frombits(a+e4m3MinNormal) - math.Float32frombits(e4m3MinNormal))
	default:
		a += (127 - 7) << 23
	}
	return math.Float32frombits(sign | a)
}

// F8E5M2Float32 converts F8_E5M2 bits to the float32 of the same value.
// E5M2 is the top byte of a binary16, and decodes as one.
func F8E5M2Float32(b uint8) float32 { return F16Float32(uint16(b) << 8) }

const (
	// e4m3Overflow is 480, the value code 0x7F would have if it were not
	// NaN: every float32 at or above it (Inf and NaN too) encodes as NaN,
	// and those rounding up to it from (464, 480) do as well.
	e4m3Overflow = 0x43f00000
	// e4m3MinNormal is 2^-6, the smallest normal E4M3 magnitude.
	e4m3MinNormal = (127 - 6) << 23
	// e4m3Denorm is 2^14, whose float32 ulp is 2^-9, the E4M3 subnormal step.
	e4m3Denorm = (127 + 14) << 23

	// e5m2Overflow is 2^16: from it up the result is Inf (or NaN).
	e5m2Overflow = (127 + 16) << 23
	// e5m2MinNormal is 2^-14, the smallest normal E5M2 magnitude.
	e5m2MinNormal = (127 - 14) << 23
	// e5m2Denorm is 2^7, whose float32 ulp is 2^-16, the E5M2 subnormal step.
	e5m2Denorm = (127 + 7) << 23
)

// F8E4M3 converts one float32 to F8_E4M3 bits (see F32ToF8E4M3).
func F8E4M3(f float32) uint8 {
	u := math.Float32bits(f)
	sign := uint8(u>>24) & 0x80
	a := u & 0x7fffffff
	switch {
	case a >= e4m3Overflow: // too large, Inf or NaN: NaN
		return sign | 0x7f
	case a < e4m3MinNormal:
		s := math.Float32frombits(a) + math.Float32frombits(e4m3Denorm)
		return sign | uint8(math.Float32bits(s)-e4m3Denorm)
	}
	a -= (127 - 7) << 23
	a += 0x7ffff + (a>>20)&1
	return sign | uint8(a>>20)
}

// F8E5M2 converts one float32 to F8_E5M2 bits (see F32ToF8E5M2).
func F8E5M2(f float32) uint8 {
	u := math.Float32bits(f)
	sign := uint8(u>>24) & 0x80
	a := u & 0x7fffffff
	switch {
	case a > f32Inf: // NaN
		return sign | 0x7f
	case a >= e5m2Overflow:
		return sign | 0x7c
	case a < e5m2MinNormal:
		s := math.Float32frombits(a) + math.Float32frombits(e5m2Denorm)
		return sign | uint8(math.Float32bits(s)-e5m2Denorm)
	}
	a -= (127 - 15) << 23
	a += 0xfffff + (a>>21)&1
	return sign | uint8(a>>21)
}
