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
// quantize_row_q5_K_ref for one or two blocks (x: 256 or 512 values, b
// their bytes, bb per block): it writes each block's d, dmin and scales
// and returns the levels of x in L. Two blocks' 16 groups are searched side
// by side (makeQKX2Groups).
func quantizeK45(b []byte, x []float32, bb int, p kParams, L []uint8) {
	var scales, mins [16]float32
	groups := len(x) / 32
	var lvs [16]kx2Level
	makeQKX2Groups(x, nil, kx2AvAbs, 32, p.nmax, p.rmin, p.rdelta, p.nstep, false, scales[:groups], mins[:groups], lvs[:groups])
	for k := range groups / 8 {
		bk, sc, mn := b[bb*k:bb*k+bb], scales[8*k:8*k+8], mins[8*k:8*k+8]
		var maxScale, maxMin float32
		for j := range 8 {
			maxScale = max(maxScale, sc[j])
			maxMin = max(maxMin, mn[j])
		}
		var invScale, invMin float32
		if maxScale > 0 {
			invScale = 63 / maxScale
		}
		if maxMin > 0 {
			invMin = 63 / maxMin
		}
		var ls, lm [8]uint8
		for j := range 8 {
			ls[j] = min(63, uint8(nearestInt(float32(invScale*sc[j]))))
			lm[j] = min(63, uint8(nearestInt(float32(invMin*mn[j]))))
		}
		putScaleMinK4(bk[p.scales:p.scales+12], &ls, &lm)
		putF16(bk, maxScale/63)
		putF16(bk[2:], maxMin/63)
		k45Levels(bk, x[256*k:256*k+256], p, (*[256]uint8)(L[256*k:256*k+256]), (*[8]kx2Level)(lvs[8*k:8*k+8]))
	}
}

// putScaleMinK4 packs the 6-bit scale and min codes ls, lm (8 each) into
// sc (12), as scaleMinK4 reads them (bits above the sixth of codes 0..3 are
// kept, as ggml's plain byte stores keep them).
func putScaleMinK4(sc []byte, ls, lm *[8]uint8) {
	for j := range 8 {
		if j < 4 {
			sc[j], sc[j+4] = ls[j], lm[j]
		} else {
			sc[j+4] = ls[j]&0xF | (lm[j]&0xF)<<4
			sc[j-4] |= (ls[j] >> 4) << 6
			sc[j] |= (lm[j] >> 4) << 6
		}
	}
}

// quantizeK45W is quantize_row_q4_K_impl and quantize_row_q5_K_impl for
// one block with importance qw (256): the levels of x (256) in L, d, dmin
// and the scales in b, as quantizeK45. clamp63 is Q5_K's MIN(63, ·) on the
// codes, which Q4_K lacks.
func quantizeK45W(b []byte, x, qw []float32, p kParams, clamp63 bool, L *[256]uint8) {
	var (
		weights      [256]float32
		scales, mins [8]float32
		sw           [8]float32
		ls, lm       [8]uint8
	)
	sigma2 := superBlockSigma2(x)
	for j := range 8 {
		ws := weights[32*j : 32*j+32]
		imatrixWeights(ws, x[32*j:32*j+32], qw[32*j:32*j+32], sigma2)
		sw[j] = sum(ws)
	}
	var lvs [8]kx2Level
	makeQKX2Groups(x[:256], weights[:], kx2Given, 32, p.nmax, -0.9, 0.05, 36, false, scales[:], mins[:], lvs[:])
	dBlock := makeQPQuants(scales[:], 63, ls[:], sw[:])
	mBlock := makeQPQuants(mins[:], 63, lm[:], sw[:])
	if clamp63 {
		for j := range 8 {
			ls[j], lm[j] = min(63, ls[j]), min(63, lm[j])
		}
	}
	putScaleMinK4(b[p.scales:p.scales+12], &ls, &lm)
	putF16(b, dBlock)
	putF16(b[2:], mBlock)
	k45Levels(b, x, p, L, &lvs)
}

// k45Levels sets the levels L of x (256) from the scales already stored in
// b (the requantization all of ggml's Q4_K and Q5_K quantizers end with);
// where a sub-block's scale is zero, its levels are the search's (lvs).
func k45Levels(b []byte, x []float32, p kParams, L *[256]uint8, lvs *[8]kx2Level) {
	sc := b[p.scales : p.scales+12]
	dAll, mAll := f32(b), f32(b[2:])
	for j := range 8 {
		s, m := scaleMinK4(j, sc)
		d := dAll * float32(s)
		if d == 0 {
			lvs[j].levels(L[32*j:32*j+32], x[32*j:32*j+32], p.nmax)
			continue
		}
		requantLevels(L[32*j:32*j+32], x[32*j:32*j+32], mAll*float32(m), d, 0, p.nmax, 0)
	}
}

// quantizeQ4_K is quantize_row_q4_K_ref for one or two blocks: x (256
// each) -> b (144 each).
func quantizeQ4_K(b []byte, x []float32) {
	var L [512]uint8
	quantizeK45(b, x, 144, q4kParams, L[:len(x)])
	for k := range len(x) / 256 {
		packQ4K(b[144*k:], (*[256]uint8)(L[256*k:]))
	}
}

// quantizeQ4_KW is quantize_row_q4_K_impl for one block: x (256) with
// importance qw (256) -> b (144).
func quantizeQ4_KW(b []byte, x, qw []float32) {
	var L [256]uint8
	quantizeK45W(b, x, qw, q4kParams, false, &L)
	packQ4K(b, &L)
}

// packQ4K stores Q4_K levels L into b's qs: 4 runs of 64 values, value l
// of a run in the low and value 32+l in the high nibble of byte l.
func packQ4K(b []byte, L *[256]uint8) {
	q := b[16:144]
	for c := range 4 {
		for l := range 32 {
			q[32*c+l] = L[64*c+l] | L[64*c+32+l]<<4
		}
	}
}

// quantizeQ5_K is quantize_row_q5_K_ref for one or two blocks: x (256
// each) -> b (176 each).
func quantizeQ5_K(b []byte, x []float32) {
	var L [512]uint8
	quantizeK45(b, x, 176, q5kParams, L[:len(x)])
	for k := range len(x) / 256 {
		packQ5K(b[176*k:], (*[256]uint8)(L[256*k:]))
	}
}

// quantizeQ5_KW is quantize_row_q5_K_impl for one block: x (256) with
// importance qw (256) -> b (176).
func quantizeQ5_KW(b []byte, x, qw []float32) {
	var L [256]uint8
	quantizeK45W(b, x, qw, q5kParams, true, &L)
	packQ5K(b, &L)
}

// packQ5K stores Q5_K levels L into b's qh and qs: the low four bits as
// Q4_K's, the fifth bit of values l and 32+l of run c at bits 2c and 2c+1
// of qh[l].
func packQ5K(b []byte, L *[256]uint8) {
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
