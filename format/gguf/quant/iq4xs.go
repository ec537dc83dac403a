package quant

import "encoding/binary"

// IQ4_XS: 256 values in 8 blocks of 32, 136 bytes:
//
//	d:f16, scales_h:u16, scales_l[4], qs[128]
//	x = d·(ls-32)·kvaluesIQ4NL[q]
//
// ls is block ib's 6-bit scale code: its low nibble in scales_l[ib/2]
// (high nibble for odd ib), its top two bits at bit 2·ib of scales_h. qs
// packs each block's levels as IQ4_NL does.

// quantizeIQ4_XSW is quantize_iq4_xs's quantize_row_iq4_nl_impl
// (super-block 256, blocks of 32, ntry 7) for one super-block: x (256) with
// importance qw (256, or nil) -> b (136).
func quantizeIQ4_XSW(b []byte, x, qw []float32) {
	var (
		weight           [32]float32
		scales           [8]float32
		maxScale, amaxSc float32
	)
	sigma2 := float32(sumSquares(x[:256]) * (2.0 / 256))
	for ib := range 8 {
		xb := x[32*ib : 32*ib+32]
		iqWeights(weight[:], xb, blockImportance(qw, 32*ib, 32*ib+32), sigma2)
		scales[ib] = iq4Scale(xb, &weight)
		if a := abs(scales[ib]); a > amaxSc {
			amaxSc, maxScale = a, scales[ib]
		}
	}
	d := -maxScale / 32
	putF16(b, d)
	id := inverse(d)
	var sh uint16
	sl, qs := b[4:8], b[8:136]
	for ib := range 8 {
		l := max(-32, min(31, nearestInt(float32(id*scales[ib]))))
		idl := inverse(float32(d * float32(l)))
		xb, q := x[32*ib:32*ib+32], qs[16*ib:16*ib+16]
		for j := range 16 {
			q[j] = uint8(bestIndexIQ4(float32(idl*xb[j]))) | uint8(bestIndexIQ4(float32(idl*xb[j+16])))<<4
		}
		l += 32
		if ib%2 == 0 {
			sl[ib/2] = uint8(l & 0xF)
		} else {
			sl[ib/2] |= uint8(l&0xF) << 4
		}
		sh |= uint16(l>>4) << (2 * (ib % 8))
	}
	binary.LittleEndian.PutUint16(b[2:], sh)
}

// dequantizeIQ4_XS is dequantize_row_iq4_xs for one block: b (136) -> y (256).
func dequantizeIQ4_XS(y []float32, b []byte) {
	d := f32(b)
	sh := binary.LittleEndian.Uint16(b[2:])
	for ib := range 8 {
		ls := int32(b[4+ib/2]>>(4*(ib%2)))&0xF | int32(sh>>(2*ib)&3)<<4
		dl := d * float32(ls-32)
		q, out := b[8+16*ib:8+16*ib+16], y[32*ib:32*ib+32]
		for j := range 16 {
			out[j] = dl * float32(kvaluesIQ4NL[q[j]&0xF])
			out[j+16] = dl * float32(kvaluesIQ4NL[q[j]>>4])
		}
	}
}
