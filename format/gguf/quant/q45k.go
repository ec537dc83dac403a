package quant

// Q4_K and Q5_K: 256 values in 8 groups of 32, each with a 6-bit scale code
// and a 6-bit min code under the f16 super-scales d and dmin:
//
//	Q4_K (144): d:f16 dmin:f16 scales[12] qs[128]          q in [0, 15]
//	Q5_K (176): d:f16 dmin:f16 scales[12] qh[32] qs[128]   q in [0, 31]
//	x = d·sc·q - dmin·m
//
// qs: each 64-value chunk takes 32 bytes, value l of its first group in the
// low nibble and of its second group in the high nibble. Q5_K's fifth bit
// of value 64c+l is bit 2c of qh[l], of value 64c+32+l bit 2c+1.

// kParams are the make_qkx2_quants settings of one type.
type kParams struct {
	nmax          int32
	rmin, rdelta  float32
	nstep         int
	qsOff, scales int // byte offsets of qs and scales in the block
}

var (
	q4kParams = kParams{nmax: 15, rmin: -1, rdelta: 0.1, nstep: 20, qsOff: 16, scales: 4}
	q5kParams = kParams{nmax: 31, rmin: -0.5, rdelta: 0.1, nstep: 15, qsOff: 48, scales: 4}
)

// scaleMinK4 is get_scale_min_k4: the scale and min codes of group j.
func scaleMinK4(j int, q []byte) (sc, m uint8) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return q[j+4]&0xF | (q[j-4]>>6)<<4, q[j+4]>>4 | (q[j]>>6)<<4
}

// quantizeK45 runs the shared part of quantize_row_q4_K_ref and
// quantize_row_q5_K_ref for one block: it writes d, dmin and the scales of
// b and returns the levels of x (256) in L.
func quantizeK45(b []byte, x []float32, p kParams, L *[256]uint8) {
	var (
		weights          [32]float32
		scales, mins     [8]float32
		maxScale, maxMin float32
	)
	for j := range 8 {
		xs := x[32*j : 32*j+32]
		var sumX2 float32
		for _, v := range xs {
			sumX2 += float32(v * v)
		}
		avX := sqrtf(sumX2 / 32)
		for l, v := range xs {
			weights[l] = avX + abs(v)
		}
		scales[j], mins[j] = makeQKX2Quants(xs, weights[:], p.nmax, L[32*j:32*j+32], p.rmin, p.rdelta, p.nstep, false)
		maxScale = max(maxScale, scales[j])
		maxMin = max(maxMin, mins[j])
	}
	var invScale, invMin float32
	if maxScale > 0 {
		invScale = 63 / maxScale
	}
	if maxMin > 0 {
		invMin = 63 / maxMin
	}
	sc := b[p.scales : p.scales+12]
	for j := range 8 {
		ls := min(63, uint8(nearestInt(float32(invScale*scales[j]))))
		lm := min(63, uint8(nearestInt(float32(invMin*mins[j]))))
		if j < 4 {
			sc[j], sc[j+4] = ls, lm
		} else {
			sc[j+4] = ls&0xF | (lm&0xF)<<4
			sc[j-4] |= (ls >> 4) << 6
			sc[j] |= (lm >> 4) << 6
		}
	}
	putF16(b, maxScale/63)
	putF16(b[2:], maxMin/63)
	dAll, mAll := f32(b), f32(b[2:])
	for j := range 8 {
		s, m := scaleMinK4(j, sc)
		d := dAll * float32(s)
		if d == 0 {
			continue
		}
		dm := mAll * float32(m)
		for ii, v := range x[32*j : 32*j+32] {
			L[32*j+ii] = uint8(max(0, min(p.nmax, nearestInt((v+dm)/d))))
		}
	}
}

// quantizeQ4_K is quantize_row_q4_K_ref for one block: x (256) -> b (144).
func quantizeQ4_K(b []byte, x []float32) {
	var L [256]uint8
	quantizeK45(b, x, q4kParams, &L)
	q := b[16:144]
	for c := range 4 {
		for l := range 32 {
			q[32*c+l] = L[64*c+l] | L[64*c+32+l]<<4
		}
	}
}

// quantizeQ5_K is quantize_row_q5_K_ref for one block: x (256) -> b (176).
func quantizeQ5_K(b []byte, x []float32) {
	var L [256]uint8
	quantizeK45(b, x, q5kParams, &L)
	qh, q := b[16:48], b[48:176]
	clear(qh)
	for c := range 4 {
		for l := range 32 {
			l1, l2 := L[64*c+l], L[64*c+32+l]
			if l1 > 15 {
				l1 -= 16
				qh[l] |= 1 << (2 * c)
			}
			if l2 > 15 {
				l2 -= 16
				qh[l] |= 2 << (2 * c)
			}
			q[32*c+l] = l1 | l2<<4
		}
	}
}

// dequantizeK45 is dequantize_row_q4_K / _q5_K for one block: b -> y (256).
// qh is nil for Q4_K.
func dequantizeK45(y []float32, b []byte, qs, qh []byte) {
	d, dmin := f32(b), f32(b[2:])
	sc := b[4:16]
	for c := range 4 {
		q := qs[32*c : 32*c+32]
		for half := range 2 {
			s, m := scaleMinK4(2*c+half, sc)
			dl := d * float32(s)
			ml := dmin * float32(m)
			shift := 4 * half
			bit := uint8(1) << (2*c + half)
			out := y[64*c+32*half:]
			for l := range 32 {
				v := (q[l] >> shift) & 0xF
				if qh != nil && qh[l]&bit != 0 {
					v += 16
				}
				out[l] = float32(dl*float32(v)) - ml
			}
		}
	}
}

func dequantizeQ4_K(y []float32, b []byte) { dequantizeK45(y, b, b[16:144], nil) }
func dequantizeQ5_K(y []float32, b []byte) { dequantizeK45(y, b, b[48:176], b[16:48]) }
