package quant

// IQ4_NL: 32 values, 18 bytes: d:f16 qs[16]; x = d·kvaluesIQ4NL[q], with q
// packed as in Q4_0 (value j low nibble, value j+16 high nibble of qs[j]).

// kvaluesIQ4NL is ggml's kvalues_iq4nl, the non-linear 4-bit levels.
var kvaluesIQ4NL = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

// iq4Midpoints[j] = kvaluesIQ4NL[j-1] + kvaluesIQ4NL[j] for j >= 1: twice
// the midpoints between neighbouring levels, all integers from -231 to 202.
var iq4Midpoints = func() (m [16]int32) {
	for j := 1; j < 16; j++ {
		m[j] = int32(kvaluesIQ4NL[j-1]) + int32(kvaluesIQ4NL[j])
	}
	return m
}()

// iq4Count[c+232] is the number of midpoints m[1..15] <= c.
var iq4Count = func() (t [436]uint8) {
	for i := range t {
		for _, m := range iq4Midpoints[1:] {
			if int32(i)-232 >= m {
				t[i]++
			}
		}
	}
	return t
}()

// bestIndexIQ4 is best_index_int8(16, kvalues_iq4nl, x): the level nearest
// to x, ties going up. ggml's branch-free binary search returns the largest
// j with 2x >= m[j]; the m[j] increase with j, so that is the number of
// them 2x reaches, and since they are integers, 2x >= m[j] exactly when
// floor(2x) >= m[j]: a table lookup on floor(2x). NaN gives 0, as in ggml.
func bestIndexIQ4(x float32) int {
	x2 := x + x
	if !(x2 > -232) {
		return 0
	}
	if x2 > 202 {
		return 15
	}
	c := int32(x2) // truncation; x2 is in (-232, 202]
	if float32(c) > x2 {
		c-- // floor
	}
	return int(iq4Count[c+232])
}

// quantizeIQ4_NL is quantize_iq4_nl's per-block quantize_row_iq4_nl_impl
// (super-block 32, one block, ntry 7, no importance weights): x (32) -> b (18).
func quantizeIQ4_NL(b []byte, x []float32) {
	const ntry = 7
	var (
		L      [32]uint8
		weight [32]float32
	)
	var amax, mx float32
	for j, v := range x[:32] {
		weight[j] = float32(v * v)
		if a := abs(v); a > amax {
			amax, mx = a, v
		}
	}
	var scale float32
	if amax >= groupMaxEps {
		v0 := float32(kvaluesIQ4NL[0])
		d := -mx / v0
		id := 1 / d
		var sumqx, sumq2 float32
		for j, v := range x[:32] {
			q := float32(kvaluesIQ4NL[bestIndexIQ4(float32(id*v))])
			w := weight[j]
			sumqx += float32(float32(w*q) * v)
			sumq2 += float32(float32(w*q) * q)
		}
		d = 0
		if sumq2 > 0 {
			d = sumqx / sumq2
		}
		best := float32(d * sumqx)
		for itry := -ntry; itry <= ntry; itry++ {
			id = float32(int32(itry)+int32(kvaluesIQ4NL[0])) / mx
			sumqx, sumq2 = 0, 0
			for j, v := range x[:32] {
				q := float32(kvaluesIQ4NL[bestIndexIQ4(float32(id*v))])
				w := weight[j]
				sumqx += float32(float32(w*q) * v)
				sumq2 += float32(float32(w*q) * q)
			}
			if sumq2 > 0 && float32(sumqx*sumqx) > float32(best*sumq2) {
				d = sumqx / sumq2
				best = float32(d * sumqx)
			}
		}
		scale = d
	}
	putF16(b, scale)
	id := inverse(scale)
	for j, v := range x[:32] {
		L[j] = uint8(bestIndexIQ4(float32(id * v)))
	}
	for j := range 16 {
		b[2+j] = L[j] | L[j+16]<<4
	}
}

func dequantizeIQ4_NL(y []float32, b []byte) {
	d := f32(b)
	for j := range 16 {
		y[j] = d * float32(kvaluesIQ4NL[b[2+j]&0xF])
		y[j+16] = d * float32(kvaluesIQ4NL[b[2+j]>>4])
	}
}
