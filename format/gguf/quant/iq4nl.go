package quant

// IQ4_NL: 32 values, 18 bytes: d:f16 qs[16]; x = d·kvaluesIQ4NL[q], with q
// packed as in Q4_0 (value j low nibble, value j+16 high nibble of qs[j]).

// kvaluesIQ4NL is ggml's kvalues_iq4nl, the non-linear 4-bit levels.
var kvaluesIQ4NL = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

// iq4Midpoints[j] = kvaluesIQ4NL[j-1] + kvaluesIQ4NL[j] (index 0 unused).
var iq4Midpoints = func() (m [16]float32) {
	for j := 1; j < 16; j++ {
		m[j] = float32(int32(kvaluesIQ4NL[j-1]) + int32(kvaluesIQ4NL[j]))
	}
	return m
}()

// bestIndexIQ4 is best_index_int8(16, kvalues_iq4nl, x): the level nearest
// to x, ties going up, found by comparing 2x with the sums of neighbours.
func bestIndexIQ4(x float32) int {
	x2 := x + x
	idx := 0
	for step := 8; step > 0; step >>= 1 {
		if x2 >= iq4Midpoints[idx+step] {
			idx += step
		}
	}
	return idx
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
