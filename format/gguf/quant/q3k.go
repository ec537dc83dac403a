package quant

// Q3_K: 256 values in 16 groups of 16, 110 bytes:
//
//	hmask[32], qs[64], scales[12], d:f16
//	x = d·(sc-32)·(q-4),  q in [0, 7], sc a 6-bit code
//
// The low two bits of q are packed as in Q2_K; the third bit of value j is
// bit j/32 of hmask[j%32]. Scale code j keeps its low nibble in scales[j%8]
// (high nibble for j >= 8) and its top two bits in scales[8+j%4] at bit 2·(j/4).

// q3Scale decodes the signed 6-bit scale of group j.
func q3Scale(sc []byte, j int) int32 {
	var lo uint8
	if j < 8 {
		lo = sc[j] & 0xF
	} else {
		lo = sc[j-8] >> 4
	}
	hi := (sc[8+j%4] >> (2 * (j / 4))) & 3
	return int32(lo|hi<<4) - 32
}

// quantizeQ3_K is quantize_row_q3_K_ref for one block: x (256) -> b (110).
func quantizeQ3_K(b []byte, x []float32) {
	var (
		L              [256]int8
		scales         [16]float32
		maxScale, amax float32
	)
	for j := range 16 {
		scales[j] = makeQ3Quants(x[16*j:16*j+16], 4, L[16*j:16*j+16])
		if s := abs(scales[j]); s > amax {
			amax, maxScale = s, scales[j]
		}
	}
	sc := b[96:108]
	clear(sc)
	if maxScale != 0 {
		iscale := -32 / maxScale
		for j := range 16 {
			l := int32(int8(nearestInt(float32(iscale * scales[j]))))
			putQ3Scale(sc, j, max(-32, min(31, l))+32)
		}
		putF16(b[108:], 1/iscale)
	} else {
		putF16(b[108:], 0)
	}
	q3Levels(b, x, &L)
}

// putQ3Scale ors the 6-bit scale code l (0..63) of group j into the
// cleared scales sc (12).
func putQ3Scale(sc []byte, j int, l int32) {
	if j < 8 {
		sc[j] = uint8(l & 0xF)
	} else {
		sc[j-8] |= uint8(l&0xF) << 4
	}
	sc[8+j%4] |= uint8(l>>4) << (2 * (j / 4))
}

// quantizeQ3_KW is quantize_row_q3_K_impl for one block: x (256) with
// importance qw (256) -> b (110).
func quantizeQ3_KW(b []byte, x, qw []float32) {
	var (
		L          [256]int8
		scales, sw [16]float32
		weight     [16]float32
		Ls         [16]int8
	)
	sigma2 := superBlockSigma2(x)
	for j := range 16 {
		xs := x[16*j : 16*j+16]
		imatrixWeights(weight[:], xs, qw[16*j:16*j+16], sigma2)
		sw[j] = sum(weight[:])
		scales[j] = makeQXQuants(xs, weight[:], 4, L[16*j:16*j+16])
	}
	sc := b[96:108]
	clear(sc)
	dBlock := makeQXQuants(scales[:], sw[:], 32, Ls[:])
	for j, l := range Ls {
		putQ3Scale(sc, j, int32(l))
	}
	putF16(b[108:], dBlock)
	q3Levels(b, x, &L)
}

// q3Levels sets the levels of x (256) from the scales already stored in b
// (the requantization both of ggml's Q3_K quantizers end with) and packs
// them into b's hmask and qs; L holds the search's levels + 4, kept where a
// group's scale is zero.
func q3Levels(b []byte, x []float32, L *[256]int8) {
	sc := b[96:108]
	dAll := f32(b[108:])
	for j := range 16 {
		d := dAll * float32(q3Scale(sc, j))
		if d == 0 {
			continue
		}
		for ii, v := range x[16*j : 16*j+16] {
			L[16*j+ii] = int8(max(-4, min(3, nearestInt(v/d))) + 4)
		}
	}
	hmask := b[:32]
	clear(hmask)
	var U [256]uint8
	for j, l := range L {
		if l > 3 {
			hmask[j%32] |= 1 << (j / 32)
			l -= 4
		}
		U[j] = uint8(l)
	}
	pack2(b[32:96], U[:])
}

// dequantizeQ3_K is dequantize_row_q3_K for one block: b (110) -> y (256).
func dequantizeQ3_K(y []float32, b []byte) {
	d := f32(b[108:])
	hm, sc := b[:32], b[96:108]
	for h := range 2 {
		q := b[32+32*h : 32+32*h+32]
		for j := range 4 {
			shift := 2 * j
			m := uint8(1) << (4*h + j)
			for half := range 2 {
				dl := d * float32(q3Scale(sc, 8*h+2*j+half))
				out := y[128*h+32*j+16*half:]
				for l := range 16 {
					v := int32((q[16*half+l] >> shift) & 3)
					if hm[16*half+l]&m == 0 {
						v -= 4
					}
					out[l] = dl * float32(v)
				}
			}
		}
	}
}
