package quant

import (
	"encoding/binary"
	"math"
)

// The 8-bit types.
//
//	Q8_0 d:f16 qs:int8[32]                 x = q·d, q = roundf(x/d), d = amax/127
//	Q8_1 d:f16 s:f16 qs:int8[32]           as Q8_0, plus s = d·Σq
//	Q8_K d:f32 qs:int8[256] bsums:i16[16]  x = q·d, q = min(127, nearest_int(-127/max·x))

// absMaxBits returns the bits of max|x| and whether every x is finite. For
// non-negative floats the integer order of the bit patterns is the float
// order, so this is an integer max that the compiler makes branch-free.
func absMaxBits(x *[32]float32) (bits uint32, ok bool) {
	for _, v := range x {
		bits = max(bits, math.Float32bits(v)&0x7fffffff)
	}
	return bits, bits < 0x7f800000
}

// safe bounds the block maxima for which x·(1/d) provably stays within
// ±127.5 and id is finite, so that the fast rounding below is exact: from
// 2⁻¹⁰⁰ to 2¹⁰⁰ d = amax/127 is a normal float32.
const (
	safeLo = 0x0d800000 // 2^-100
	safeHi = 0x71800000 // 2^100
)

// roundQ8 stores q[j] = (int8)roundf(x[j]·id), the quants of Q8_0 and
// Q8_1; bits are those of max|x|, from which d = amax/127 and id = 1/d.
func roundQ8(q *[32]byte, x *[32]float32, id float32, bits uint32) {
	if bits >= safeLo && bits <= safeHi {
		for j, v := range x {
			f := float64(v * id)
			q[j] = byte(int32(f + math.Copysign(0.5, f)))
		}
		return
	}
	for j, v := range x {
		q[j] = byte(roundf(v * id))
	}
}

// quantizeQ8_0 quantizes whole blocks; it returns the index of the first
// non-finite value in src, or -1. The vector kernel, where there is one,
// does the blocks whose scale is in the safe range; the others go through
// quantizeQ8_0Go.
func quantizeQ8_0(dst []byte, src []float32) int {
	n := len(src) / 32
	if q8_0Fast == nil {
		return quantizeQ8_0Go(dst, src)
	}
	for i := 0; i < n; {
		i += q8_0Fast(dst[34*i:], src[32*i:], n-i)
		if i == n {
			break
		}
		if j := quantizeQ8_0Go(dst[34*i:34*i+34], src[32*i:32*i+32]); j >= 0 {
			return 32*i + j
		}
		i++
	}
	return -1
}

// quantizeQ8_0Go is quantizeQ8_0 in Go, block by block.
func quantizeQ8_0Go(dst []byte, src []float32) int {
	for i := range len(src) / 32 {
		x := (*[32]float32)(src[32*i:])
		b := (*[34]byte)(dst[34*i:])
		bits, ok := absMaxBits(x)
		if !ok {
			return 32*i + firstNonFinite(x[:])
		}
		d := math.Float32frombits(bits) / 127
		putF16(b[:], d)
		roundQ8((*[32]byte)(b[2:]), x, inverse(d), bits)
	}
	return -1
}

func dequantizeQ8_0(dst []float32, src []byte) {
	for i := range len(src) / 34 {
		b := (*[34]byte)(src[34*i:])
		y := (*[32]float32)(dst[32*i:])
		d := f32(b[:])
		for j := range y {
			y[j] = float32(int8(b[2+j])) * d
		}
	}
}

// quantizeQ8_1 packs x (32) into b (36).
func quantizeQ8_1(b []byte, x []float32) {
	bits, _ := absMaxBits((*[32]float32)(x))
	d := math.Float32frombits(bits) / 127
	putF16(b, d)
	q := (*[32]byte)(b[4:])
	roundQ8(q, (*[32]float32)(x), inverse(d), bits)
	var sum int32
	for _, v := range q {
		sum += int32(int8(v))
	}
	putF16(b[2:], float32(sum)*d)
}

func dequantizeQ8_1(y []float32, b []byte) {
	d := f32(b)
	for j := range y[:32] {
		y[j] = float32(int8(b[4+j])) * d
	}
}

// quantizeQ8_K packs x (256) into b (292).
func quantizeQ8_K(b []byte, x []float32) {
	var amax, mx float32
	for _, v := range x[:256] {
		if a := abs(v); a > amax {
			amax, mx = a, v
		}
	}
	clear(b[:292])
	if amax == 0 {
		return
	}
	iscale := -127 / mx
	for j := range 256 {
		b[4+j] = byte(min(127, nearestInt(float32(iscale*x[j]))))
	}
	for j := range 16 {
		var sum int32
		for _, q := range b[4+16*j : 4+16*j+16] {
			sum += int32(int8(q))
		}
		binary.LittleEndian.PutUint16(b[260+2*j:], uint16(int16(sum)))
	}
	binary.LittleEndian.PutUint32(b, math.Float32bits(1/iscale))
}

func dequantizeQ8_K(y []float32, b []byte) {
	d := math.Float32frombits(binary.LittleEndian.Uint32(b))
	for j := range y[:256] {
		y[j] = d * float32(int8(b[4+j]))
	}
}
