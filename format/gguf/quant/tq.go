package quant

import "math"

// The ternary types: every value is d·t with t in {-1, 0, 1} and d the
// block's max|x| (an f16 at the end of the block).
//
//	TQ1_0 54/256: qs[48], qh[4], d. Five trits per byte of qs, four (and a
//	   zero trit) per byte of qh, stored as ⌈(Σ 3^k·(t+1))·256/243⌉ so that
//	   trit n is the top byte of (q·3ⁿ mod 256)·3.
//	TQ2_0 66/256: qs[64], d. Four 2-bit fields t+1 per byte.
//
// ggml's quantize_tq1_0 and quantize_tq2_0 ignore importance weights.

// tq1Runs are TQ1_0's qs runs: (first byte, bytes); run r packs trit n of
// byte m from value base+m+n·bytes.
var tq1Runs = [2][2]int{{0, 32}, {32, 16}}

// tqAbsMax returns the block's max|x| (finite x: the largest magnitude
// bits are the largest magnitude) and its inverse (0 for 0).
func tqAbsMax(x []float32) (d, id float32) {
	var bits uint32
	for _, v := range x {
		bits = max(bits, math.Float32bits(v)&0x7fffffff)
	}
	d = math.Float32frombits(bits)
	return d, inverse(d)
}

// trit is lroundf(x·id) + 1 (its low byte). With id the inverse of a
// normal max|x|, |x·id| <= 1 + 2⁻²³, so lroundf is -1, 0 or 1 by the
// halfway points; a subnormal max makes id infinite, and then the general
// emulation (x86-64's out-of-range result) applies.
func trit(x, id float32) uint8 {
	v := float32(x * id)
	if id > math.MaxFloat32 {
		return uint8(roundf(v) + 1)
	}
	t := uint8(1)
	if v >= 0.5 {
		t++
	}
	if v <= -0.5 {
		t--
	}
	return t
}

// tq1Byte packs the trits of x[0], x[stride], … (count of them, the first
// most significant) as ⌈q·256/243⌉.
func tq1Byte(x []float32, stride, count int, id float32) uint8 {
	var q uint8
	for n := range count {
		q = q*3 + trit(x[n*stride], id)
	}
	if count == 4 {
		q *= 3
	}
	return uint8((uint16(q)*256 + 242) / 243)
}

// quantizeTQ1_0 is quantize_row_tq1_0_ref for one block: x (256) -> b (54).
func quantizeTQ1_0(b []byte, x []float32) {
	d, id := tqAbsMax(x[:256])
	putF16(b[52:], d)
	base := 0
	for _, r := range tq1Runs {
		for m := range r[1] {
			b[r[0]+m] = tq1Byte(x[base+m:], r[1], 5, id)
		}
		base += 5 * r[1]
	}
	for j := range 4 {
		b[48+j] = tq1Byte(x[base+j:], 4, 4, id)
	}
}

// tq1Trit decodes trit n of a TQ1_0 byte q as t+1.
func tq1Trit(q uint8, n int) int32 {
	pow3 := [5]uint8{1, 3, 9, 27, 81}
	return int32(uint16(q*pow3[n])*3) >> 8
}

// dequantizeTQ1_0 is dequantize_row_tq1_0 for one block: b (54) -> y (256).
func dequantizeTQ1_0(y []float32, b []byte) {
	d := f32(b[52:])
	base := 0
	for _, r := range tq1Runs {
		for n := range 5 {
			for m := range r[1] {
				y[base+n*r[1]+m] = float32(tq1Trit(b[r[0]+m], n)-1) * d
			}
		}
		base += 5 * r[1]
	}
	for n := range 4 {
		for j := range 4 {
			y[base+4*n+j] = float32(tq1Trit(b[48+j], n)-1) * d
		}
	}
}

// quantizeTQ2_0 is quantize_row_tq2_0_ref for one block: x (256) -> b (66).
func quantizeTQ2_0(b []byte, x []float32) {
	d, id := tqAbsMax(x[:256])
	putF16(b[64:], d)
	for j := 0; j < 64; j += 32 {
		xs := x[4*j : 4*j+128]
		for m := range 32 {
			var q uint8
			for n := range 4 {
				q += (trit(xs[m+32*n], id) & 3) << (2 * n)
			}
			b[j+m] = q
		}
	}
}

// dequantizeTQ2_0 is dequantize_row_tq2_0 for one block: b (66) -> y (256).
func dequantizeTQ2_0(y []float32, b []byte) {
	d := f32(b[64:])
	for j := 0; j < 64; j += 32 {
		for l := range 4 {
			for m := range 32 {
				y[4*j+32*l+m] = float32(int32(b[j+m]>>(2*l)&3)-1) * d
			}
		}
	}
}
