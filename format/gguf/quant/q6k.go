package quant

// Q6_K: 256 values in 16 groups of 16, 210 bytes:
//
//	ql[128] qh[64] scales:int8[16] d:f16
//	x = d·sc·(q-32),  q in [0, 63]
//
// Per 128-value half h (ql[64h:], qh[32h:]) and l < 32: ql[l] holds the low
// nibbles of values l (low) and l+64 (high), ql[l+32] those of l+32 and
// l+96, and qh[l] the top two bits of l, l+32, l+64, l+96 at bits 0, 2, 4, 6.

// quantizeQ6_K is quantize_row_q6_K_ref for one block: x (256) -> b (210).
func quantizeQ6_K(b []byte, x []float32) { quantizeQ6_KW(b, x, nil) }

// quantizeQ6_KW is quantize_row_q6_K_impl for one block: x (256) with
// importance qw (256; nil gives quantize_row_q6_K_ref) -> b (210).
func quantizeQ6_KW(b []byte, x, qw []float32) {
	var (
		L                  [256]uint8
		scales             [16]float32
		maxScale, maxAbsSc float32
	)
	var iscales [16]float32
	makeQXGroups(x[:256], qw, 16, 32, scales[:], iscales[:])
	for _, s := range scales {
		if a := abs(s); a > maxAbsSc {
			maxAbsSc, maxScale = a, s
		}
	}
	if maxAbsSc < groupMaxEps {
		clear(b[:210])
		putF16(b[208:], 0)
		return
	}
	iscale := -128 / maxScale
	putF16(b[208:], 1/iscale)
	sc := b[192:208]
	for ib := range 16 {
		sc[ib] = uint8(int8(min(127, nearestInt(float32(iscale*scales[ib])))))
	}
	dAll := f32(b[208:])
	for j := range 16 {
		d := dAll * float32(int8(sc[j]))
		if d == 0 { // the search's levels
			var l [16]int8
			qxLevels(l[:], x[16*j:16*j+16], iscales[j], 32)
			for i, v := range l {
				L[16*j+i] = uint8(v)
			}
			continue
		}
		requantLevels(L[16*j:16*j+16], x[16*j:16*j+16], 0, d, -32, 31, 32)
	}
	for h := range 2 {
		ql, qh := b[64*h:64*h+64], b[128+32*h:128+32*h+32]
		Lh := L[128*h : 128*h+128]
		for l := range 32 {
			q1, q2, q3, q4 := Lh[l], Lh[l+32], Lh[l+64], Lh[l+96]
			ql[l] = q1&0xF | (q3&0xF)<<4
			ql[l+32] = q2&0xF | (q4&0xF)<<4
			qh[l] = q1>>4 | (q2>>4)<<2 | (q3>>4)<<4 | (q4>>4)<<6
		}
	}
}

// dequantizeQ6_K is dequantize_row_q6_K for one block: b (210) -> y (256).
func dequantizeQ6_K(y []float32, b []byte) {
	d := f32(b[208:])
	for h := range 2 {
		ql, qh := b[64*h:64*h+64], b[128+32*h:128+32*h+32]
		sc := b[192+8*h : 192+8*h+8]
		out := y[128*h : 128*h+128]
		for l := range 32 {
			is := l / 16
			q1 := int32(ql[l]&0xF|(qh[l]>>0&3)<<4) - 32
			q2 := int32(ql[l+32]&0xF|(qh[l]>>2&3)<<4) - 32
			q3 := int32(ql[l]>>4|(qh[l]>>4&3)<<4) - 32
			q4 := int32(ql[l+32]>>4|(qh[l]>>6&3)<<4) - 32
			out[l] = float32(d*float32(int8(sc[is]))) * float32(q1)
			out[l+32] = float32(d*float32(int8(sc[is+2]))) * float32(q2)
			out[l+64] = float32(d*float32(int8(sc[is+4]))) * float32(q3)
			out[l+96] = float32(d*float32(int8(sc[is+6]))) * float32(q4)
		}
	}
}
