package quant

// Q2_K: 256 values in 16 groups of 16, 84 bytes:
//
//	scales[16] (low nibble: scale code, high nibble: min code), qs[64], d:f16, dmin:f16
//	x = d·(sc&15)·q - dmin·(sc>>4),  q in [0, 3]
//
// qs packs four 32-value runs of each 128-value half into the four 2-bit
// fields of one byte (value l, l+32, l+64, l+96 at bits 0, 2, 4, 6).

// quantizeQ2_K is quantize_row_q2_K_ref for one block: x (256) -> b (84).
func quantizeQ2_K(b []byte, x []float32) {
	var (
		scales, mins   [16]float32
		maxScale, maxM float32
	)
	var lvs [16]kx2Level
	makeQKX2Groups(x[:256], nil, kx2AbsX, 16, 3, -0.5, 0.1, 15, true, scales[:], mins[:], lvs[:])
	for j := range 16 {
		maxScale = max(maxScale, scales[j])
		maxM = max(maxM, mins[j])
	}
	sc := b[:16]
	if maxScale > 0 {
		iscale := 15 / maxScale
		for j := range 16 {
			sc[j] = uint8(nearestInt(float32(iscale * scales[j])))
		}
		putF16(b[80:], maxScale/15)
	} else {
		clear(sc)
		putF16(b[80:], 0)
	}
	if maxM > 0 {
		iscale := 15 / maxM
		for j := range 16 {
			sc[j] |= uint8(nearestInt(float32(iscale*mins[j])) << 4)
		}
		putF16(b[82:], maxM/15)
	} else {
		putF16(b[82:], 0)
	}
	q2Levels(b, x, &lvs)
}

// q2Levels sets the levels of x (256) from the scales already stored in b
// (the requantization both of ggml's Q2_K quantizers end with) and packs
// them into b's qs; where a sub-block's scale is zero, its levels are the
// search's (lvs).
func q2Levels(b []byte, x []float32, lvs *[16]kx2Level) {
	var L [256]uint8
	sc := b[:16]
	dAll, mAll := f32(b[80:]), f32(b[82:])
	for j := range 16 {
		d := dAll * float32(sc[j]&0xF)
		if d == 0 {
			lvs[j].levels(L[16*j:16*j+16], x[16*j:16*j+16], 3)
			continue
		}
		requantLevels(L[16*j:16*j+16], x[16*j:16*j+16], mAll*float32(sc[j]>>4), d, 0, 3, 0)
	}
	pack2(b[16:80], L[:])
}

// quantizeQ2_KW is quantize_row_q2_K_impl for one block: x (256) with
// importance qw (256) -> b (84).
func quantizeQ2_KW(b []byte, x, qw []float32) {
	var (
		weight       [256]float32
		scales, mins [16]float32
		sw           [16]float32
		Ls, Lm       [16]uint8
	)
	sigma2 := sumSquares(x[:256]) / 256
	for j := range 16 {
		ws := weight[16*j : 16*j+16]
		imatrixWeights(ws, x[16*j:16*j+16], qw[16*j:16*j+16], sigma2)
		sw[j] = sum(ws)
	}
	var lvs [16]kx2Level
	makeQKX2Groups(x[:256], weight[:], kx2Given, 16, 3, -0.9, 0.05, 36, false, scales[:], mins[:], lvs[:])
	dm := makeQPQuants(scales[:], 15, Ls[:], sw[:])
	mm := makeQPQuants(mins[:], 15, Lm[:], sw[:])
	putF16(b[80:], dm)
	putF16(b[82:], mm)
	for j := range 16 {
		b[j] = Ls[j] | Lm[j]<<4
	}
	q2Levels(b, x, &lvs)
}

// pack2 stores 2-bit levels L (256) into qs (64): per 128-value half h,
// qs[32h+l] = L[l] | L[l+32]<<2 | L[l+64]<<4 | L[l+96]<<6 (offsets within h).
func pack2(qs []byte, L []uint8) {
	for h := range 2 {
		Lh := L[128*h : 128*h+128]
		for l := range 32 {
			qs[32*h+l] = Lh[l] | Lh[l+32]<<2 | Lh[l+64]<<4 | Lh[l+96]<<6
		}
	}
}

// dequantizeQ2_K is dequantize_row_q2_K for one block: b (84) -> y (256).
func dequantizeQ2_K(y []float32, b []byte) {
	d, dmin := f32(b[80:]), f32(b[82:])
	sc := b[:16]
	for h := range 2 {
		q := b[16+32*h : 16+32*h+32]
		for j := range 4 {
			shift := 2 * j
			for half := range 2 {
				s := sc[8*h+2*j+half]
				dl := d * float32(s&0xF)
				ml := dmin * float32(s>>4)
				out := y[128*h+32*j+16*half:]
				for l := range 16 {
					out[l] = float32(dl*float32((q[16*half+l]>>shift)&3)) - ml
				}
			}
		}
	}
}
