package quant

import (
	"encoding/binary"
	"math"
)

// The legacy 32-value types. Each quantizer is ggml's quantize_row_*_ref for
// one block, each dequantizer its dequantize_row_* for one block.
//
//	Q4_0 d:f16 qs[16]          x = (q-8)·d       q = min(15, (int8)(x/d + 8.5)),  d = max/-8
//	Q4_1 d,m:f16 qs[16]        x = q·d + m       q = min(15, (int8)((x-m)/d + 0.5)), d = (max-min)/15
//	Q5_0 d:f16 qh:u32 qs[16]   x = (q-16)·d      q = min(31, (int8)(x/d + 16.5)), d = max/-16
//	Q5_1 d,m:f16 qh:u32 qs[16] x = q·d + m       q = (uint8)((x-m)/d + 0.5),      d = (max-min)/31
//
// qs[j] holds value j in its low nibble and value j+16 in its high nibble;
// bit j of qh is the fifth bit of value j.

// signedMax returns the value of largest magnitude (the first one on ties,
// +0 for an all-zero block), as ggml's branchy loop finds it; bits are those
// of max|x| (absMaxBits), so only the first index reaching it is searched.
func signedMax(x *[32]float32, bits uint32) float32 {
	if bits == 0 {
		return 0
	}
	for _, v := range x {
		if math.Float32bits(v)&0x7fffffff == bits {
			return v
		}
	}
	return 0 // unreachable: bits is some |x[j]|
}

// inRange reports whether every x·(1/d) of a block is far inside int32
// range (|x·id| <= 32 for these types), so that C's float-to-int casts
// need no per-value range check: d is a normal float32 between 2⁻¹⁰⁰ and
// 2¹⁰⁰, its inverse too, and |x| <= |d|·(levels) for every x.
func inRange(d float32) bool {
	b := math.Float32bits(d) & 0x7fffffff
	return b >= safeLo && b <= safeHi
}

// trunc is cInt(f), the range check skipped when fast says f is in range.
func trunc(f float32, fast bool) int32 {
	if fast {
		return int32(f)
	}
	return cInt(f)
}

// minMax returns the smallest and largest of the finite values x (at least
// one) as ggml's `if (v < min) min = v` loops find them, whether seeded
// with FLT_MAX (legacy types) or x[0] (make_qkx2_quants). The search
// is branch-free over integer keys that order the floats; the keys also
// order -0 below +0, which ggml treats as equal (keeping the first zero),
// so a zero result is replaced by the first zero of x.
func minMax(x []float32) (lo, hi float32) {
	kl, kh := int32(math.MaxInt32), int32(math.MinInt32)
	for _, v := range x {
		k := orderKey(v)
		kl, kh = min(kl, k), max(kh, k)
	}
	lo, hi = fromKey(kl), fromKey(kh)
	if lo == 0 || hi == 0 {
		var z float32
		for _, v := range x {
			if v == 0 {
				z = v
				break
			}
		}
		if lo == 0 {
			lo = z
		}
		if hi == 0 {
			hi = z
		}
	}
	return lo, hi
}

// orderKey maps a finite float32 to an int32 with the same order (-0
// below +0): negative floats have their magnitude bits flipped.
func orderKey(f float32) int32 {
	b := int32(math.Float32bits(f))
	return b ^ int32(uint32(b>>31)>>1)
}

// fromKey inverts orderKey.
func fromKey(k int32) float32 {
	return math.Float32frombits(uint32(k ^ int32(uint32(k>>31)>>1)))
}

// inverse is ggml's `d ? 1.0f/d : 0.0f`.
func inverse(d float32) float32 {
	if d != 0 {
		return 1 / d
	}
	return 0
}

// quantizeQ4_0 packs x (32), whose max|x| has the bits amax, into b (18).
func quantizeQ4_0(b []byte, x *[32]float32, amax uint32) {
	d := signedMax(x, amax) / -8
	id := inverse(d)
	fast := inRange(d)
	putF16(b, d)
	for j := range 16 {
		x0 := float32(x[j] * id)
		x1 := float32(x[j+16] * id)
		q0 := uint8(min(15, int32(int8(trunc(x0+8.5, fast)))))
		q1 := uint8(min(15, int32(int8(trunc(x1+8.5, fast)))))
		b[2+j] = q0 | q1<<4
	}
}

func dequantizeQ4_0(y []float32, b []byte) {
	d := f32(b)
	for j := range 16 {
		q := b[2+j]
		y[j] = float32(int32(q&0xF)-8) * d
		y[j+16] = float32(int32(q>>4)-8) * d
	}
}

// quantizeQ4_1 packs x (32) into b (20).
func quantizeQ4_1(b []byte, x *[32]float32, _ uint32) {
	lo, hi := minMax(x[:])
	d := (hi - lo) / 15
	id := inverse(d)
	fast := inRange(d)
	putF16(b, d)
	putF16(b[2:], lo)
	for j := range 16 {
		x0 := float32((x[j] - lo) * id)
		x1 := float32((x[j+16] - lo) * id)
		q0 := uint8(min(15, int32(int8(trunc(x0+0.5, fast)))))
		q1 := uint8(min(15, int32(int8(trunc(x1+0.5, fast)))))
		b[4+j] = q0 | q1<<4
	}
}

func dequantizeQ4_1(y []float32, b []byte) {
	d, m := f32(b), f32(b[2:])
	for j := range 16 {
		q := b[4+j]
		y[j] = float32(float32(q&0xF)*d) + m
		y[j+16] = float32(float32(q>>4)*d) + m
	}
}

// quantizeQ5_0 packs x (32), whose max|x| has the bits amax, into b (22).
func quantizeQ5_0(b []byte, x *[32]float32, amax uint32) {
	d := signedMax(x, amax) / -16
	id := inverse(d)
	fast := inRange(d)
	putF16(b, d)
	var qh uint32
	for j := range 16 {
		x0 := float32(x[j] * id)
		x1 := float32(x[j+16] * id)
		q0 := uint8(min(31, int32(int8(trunc(x0+16.5, fast)))))
		q1 := uint8(min(31, int32(int8(trunc(x1+16.5, fast)))))
		b[6+j] = q0&0xF | (q1&0xF)<<4
		qh |= uint32(q0&0x10)>>4<<j | uint32(q1&0x10)>>4<<(j+16)
	}
	binary.LittleEndian.PutUint32(b[2:], qh)
}

func dequantizeQ5_0(y []float32, b []byte) {
	d := f32(b)
	qh := binary.LittleEndian.Uint32(b[2:])
	for j := range 16 {
		q := b[6+j]
		h0 := int32(qh>>j<<4) & 0x10
		h1 := int32(qh>>(j+12)) & 0x10
		y[j] = float32((int32(q&0xF)|h0)-16) * d
		y[j+16] = float32((int32(q>>4)|h1)-16) * d
	}
}

// quantizeQ5_1 packs x (32) into b (24).
func quantizeQ5_1(b []byte, x *[32]float32, _ uint32) {
	lo, hi := minMax(x[:])
	d := (hi - lo) / 31
	id := inverse(d)
	fast := inRange(d)
	putF16(b, d)
	putF16(b[2:], lo)
	var qh uint32
	for j := range 16 {
		x0 := float32((x[j] - lo) * id)
		x1 := float32((x[j+16] - lo) * id)
		q0 := uint8(trunc(x0+0.5, fast))
		q1 := uint8(trunc(x1+0.5, fast))
		b[8+j] = q0&0xF | (q1&0xF)<<4
		qh |= uint32(q0&0x10)>>4<<j | uint32(q1&0x10)>>4<<(j+16)
	}
	binary.LittleEndian.PutUint32(b[4:], qh)
}

func dequantizeQ5_1(y []float32, b []byte) {
	d, m := f32(b), f32(b[2:])
	qh := binary.LittleEndian.Uint32(b[4:])
	for j := range 16 {
		q := b[8+j]
		h0 := uint32(qh>>j<<4) & 0x10
		h1 := uint32(qh>>(j+12)) & 0x10
		y[j] = float32(float32(uint32(q&0xF)|h0)*d) + m
		y[j+16] = float32(float32(uint32(q>>4)|h1)*d) + m
	}
}
