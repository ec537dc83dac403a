package quant

import "encoding/binary"

// IQ3_XXS and IQ3_S: 256 values in 8 blocks of 32, each block 8 groups of
// four magnitudes on a 3-bit lattice grid (iq3xxsKGrid, 256 points;
// iq3sKGrid, 512 points) with one sign per value.
//
//	IQ3_XXS 98: d:f16, qs[64] (grid point per group), then per block a u32:
//	    bits 0..27 four 7-bit sign codes (ksignsIQ2XS: the 8th sign makes
//	    the parity even), bits 28..31 the scale code s; x = d·(0.5+s)·0.5·q,
//	    q from iq3xxsDeqGrid (levels 4, 12, …, 44, 52, 62: not the
//	    quantizer's 2l+1 scaled, so the codes are searched on one grid and
//	    decoded on another, as in ggml).
//	IQ3_S 110: d:f16, qs[64] (low 8 bits of the point), qh[8] (9th bits,
//	    group g at bit g%8 of qh[g/8]), signs[32] (one bit per value),
//	    scales[4] (two 4-bit codes s per byte); x = d·(1+2s)·q.

var (
	iq3xxsParams = iqParams{grid: iq3xxsGrid, dim: 4, kMaxQ: 8, step: 0.2, steps: 15, parity: true, zeroBelow: 1e-8, onGridInit: true, skipOnGrid: true}
	iq3sParams   = iqParams{grid: iq3sGrid, dim: 4, kMaxQ: 8, step: 0.2, steps: 9}
)

// quantizeIQ3_XXSW is quantize_row_iq3_xxs_impl for one super-block: x
// (256) with importance qw (256, or nil) -> b (98).
func quantizeIQ3_XXSW(b []byte, x, qw []float32) {
	clear(b[:98])
	var scales [8]float32
	sigma2 := superBlockSigma2(x)
	q3, sas := b[2:66], b[66:98]
	ms := iqBlocks(x, qw, sigma2, scales[:], &iq3xxsParams, func(ib int, points [8]int, signs [4]uint8) {
		for k, p := range points {
			q3[8*ib+k] = uint8(p)
		}
		binary.LittleEndian.PutUint32(sas[4*ib:], signWord(signs))
	})
	if ms == 0 {
		clear(b[:98])
		return
	}
	d := ms / 31
	putF16(b, float32(d*1.0125))
	putScaleWords(sas, 4, 1/d, &scales)
}

// quantizeIQ3_SW is quantize_row_iq3_s_impl for one super-block: x (256)
// with importance qw (256, or nil) -> b (110). As in ggml, a zero block
// does not advance the qs and signs positions, so the later blocks' grid
// points and signs are stored one block earlier (their 9th bits are not).
func quantizeIQ3_SW(b []byte, x, qw []float32) {
	clear(b[:110])
	var scales [8]float32
	sigma2 := superBlockSigma2(x)
	qs, qh, sg := b[2:66], b[66:74], b[74:106]
	at := 0 // blocks stored so far
	ms := iqBlocks(x, qw, sigma2, scales[:], &iq3sParams, func(ib int, points [8]int, signs [4]uint8) {
		for k, p := range points {
			qs[8*at+k] = uint8(p)
			qh[ib] |= uint8(p>>8) << k
		}
		copy(sg[4*at:4*at+4], signs[:])
		at++
	})
	if ms == 0 {
		return
	}
	d := ms / 31
	putF16(b, float32(d*1.033))
	putIQScales(b[106:110], 1/d, scales[:])
}

// dequantizeIQ3_XXS is dequantize_row_iq3_xxs for one block: b (98) -> y (256).
func dequantizeIQ3_XXS(y []float32, b []byte) {
	d := f32(b)
	qs, sas := b[2:66], b[66:98]
	for ib := range 8 {
		aux := binary.LittleEndian.Uint32(sas[4*ib:])
		db := float32(float32(d*float32(0.5+float32(aux>>28))) * 0.5)
		for l := range 4 {
			signs := ksignsIQ2XS[aux>>(7*l)&127]
			out := y[32*ib+8*l:]
			for h := range 2 {
				for j, q := range iq3xxsDeqGrid[qs[8*ib+2*l+h]] {
					out[4*h+j] = float32(db*float32(q)) * gridSign(signs, 4*h+j)
				}
			}
		}
	}
}

// dequantizeIQ3_S is dequantize_row_iq3_s for one block: b (110) -> y (256).
func dequantizeIQ3_S(y []float32, b []byte) {
	d := f32(b)
	g := iq3sGrid()
	qs, qh, sg := b[2:66], b[66:74], b[74:106]
	for ib := range 8 {
		db := float32(d * float32(1+2*int32(b[106+ib/2]>>(4*(ib%2))&0xF)))
		for l := range 4 {
			out := y[32*ib+8*l:]
			for h := range 2 {
				k := 2*l + h
				p := int(qs[8*ib+k]) | int(qh[ib]>>k&1)<<8
				for j, q := range g.point(p) {
					out[4*h+j] = float32(db*float32(q)) * gridSign(sg[4*ib+l], 4*h+j)
				}
			}
		}
	}
}
