package quant

// IQ4_NL: 32 values, 18 bytes: d:f16 qs[16]; x = d·kvaluesIQ4NL[q], with q
// packed as in Q4_0 (value j low nibble, value j+16 high nibble of qs[j]).

// kvaluesIQ4NL is ggml's kvalues_iq4nl, the non-linear 4-bit levels.
var kvaluesIQ4NL = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

// iq4Level[j] is kvaluesIQ4NL[j] as a float32.
var iq4Level = func() (t [16]float32) {
	for j, k := range kvaluesIQ4NL {
		t[j] = float32(k)
	}
	return t
}()

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
//
// floor(2x) + 232 is computed as the truncation of float64(2x) + 232, which
// is exact unless |2x| < 2⁻²¹; there the sum may round up to 232, giving
// floor 0 for a tiny negative 2x whose floor is -1, but no midpoint lies
// in [-1, 0], so the count is the same.
func bestIndexIQ4(x float32) int {
	x2 := x + x
	if !(x2 > -232) {
		return 0
	}
	if x2 > 202 {
		return 15
	}
	return int(iq4Count[int32(float64(x2)+232)]) // x2 in (-232, 202]
}

// quantizeIQ4_NL is quantize_iq4_nl without importance weights for one
// block: x (32) -> b (18).
func quantizeIQ4_NL(b []byte, x []float32) { quantizeIQ4_NLW(b, x, nil) }

// quantizeIQ4_NLW is quantize_iq4_nl's per-block quantize_row_iq4_nl_impl
// (super-block 32, one block, ntry 7): x (32) with importance qw (32, or
// nil: weights x²) -> b (18).
func quantizeIQ4_NLW(b []byte, x, qw []float32) {
	var weight [32]float32
	iqWeights(weight[:], x[:32], qw, float32(sumSquares(x[:32])*(2.0/32)))
	scale := iq4Scale(x[:32], &weight)
	putF16(b, scale)
	id := inverse(scale)
	var L [32]uint8
	for j, v := range x[:32] {
		L[j] = uint8(bestIndexIQ4(float32(id * v)))
	}
	for j := range 16 {
		b[2+j] = L[j] | L[j+16]<<4
	}
}

// iq4Scale is quantize_row_iq4_nl_impl's search for one block of 32 values
// x with weights w (ntry 7): the scale d of the levels kvalues_iq4nl, or 0
// for a block whose largest |x| is below GROUP_MAX_EPS.
func iq4Scale(x []float32, weight *[32]float32) float32 {
	const ntry = 7
	amax, mx := signedAbsMax(x[:32])
	if amax < groupMaxEps {
		return 0
	}
	// ids[0] is the initial -kvalues[0]/max inverse, ids[1+t] that of
	// itry = t-ntry; all sums are independent of the choice among them,
	// which is sequential, so they run side by side.
	var c iq4Lanes
	c.id[0] = 1 / (-mx / float32(kvaluesIQ4NL[0]))
	if useLanes {
		c.mx = mx // the kernel computes id[1:]
		iq4Kernel((*[32]float32)(x), weight, &c)
	} else {
		for t := range 2*ntry + 1 {
			c.id[1+t] = float32(int32(t-ntry)+int32(kvaluesIQ4NL[0])) / mx
		}
		iq4Sums(x, weight, &c.id, &c.qx, &c.q2)
	}
	sumqx, sumq2 := &c.qx, &c.q2
	var d float32
	if sumq2[0] > 0 {
		d = sumqx[0] / sumq2[0]
	}
	best := float32(d * sumqx[0])
	for c := 1; c < len(sumqx); c++ {
		if sumq2[c] > 0 && float32(sumqx[c]*sumqx[c]) > float32(best*sumq2[c]) {
			d = sumqx[c] / sumq2[c]
			best = float32(d * sumqx[c])
		}
	}
	return d
}

// iq4Sums is the trial loop of quantizeIQ4_NL in Go: for each inverse
// scale ids[c], sumqx[c] = Σ (w·q)·x and sumq2[c] = Σ (w·q)·q over the
// block's levels q. Two trials run interleaved.
func iq4Sums(x []float32, weight *[32]float32, ids, sumqx, sumq2 *[16]float32) {
	x = x[:32]
	for c := 0; c < 16; c += 2 {
		ia, ib := ids[c], ids[c+1]
		var qxa, q2a, qxb, q2b float32
		for j, v := range x {
			w := weight[j]
			qa := iq4Level[bestIndexIQ4(float32(ia*v))]
			qb := iq4Level[bestIndexIQ4(float32(ib*v))]
			qxa += float32(float32(w*qa) * v)
			q2a += float32(float32(w*qa) * qa)
			qxb += float32(float32(w*qb) * v)
			q2b += float32(float32(w*qb) * qb)
		}
		sumqx[c], sumq2[c], sumqx[c+1], sumq2[c+1] = qxa, q2a, qxb, q2b
	}
}

func dequantizeIQ4_NL(y []float32, b []byte) {
	d := f32(b)
	for j := range 16 {
		y[j] = d * float32(kvaluesIQ4NL[b[2+j]&0xF])
		y[j+16] = d * float32(kvaluesIQ4NL[b[2+j]>>4])
	}
}
