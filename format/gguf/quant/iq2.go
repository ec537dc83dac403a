package quant

import (
	"encoding/binary"
	"sync"
)

// IQ2_XXS, IQ2_XS and IQ2_S: 256 values, groups of eight magnitudes on a
// 2-bit lattice grid (8 coordinates, levels 2l+1 for l in 0..2 when
// searching; iq2*DeqGrid's 8, 25, 43 when decoding) with one sign per
// value.
//
//	IQ2_XXS 66: d:f16, then per 32-value block two u32: the grid points of
//	    its four groups (one byte each; iq2xxsKGrid, 256 points), and four
//	    7-bit sign codes (ksignsIQ2XS) with the scale code s in bits 28..31;
//	    x = d·(0.5+s)·0.25·q.
//	IQ2_XS 74: d:f16, qs[32]:u16 (grid point, iq2xsKGrid's 512, | sign code
//	    << 9, per group), scales[8] (4-bit code per 16 values); as IQ2_XXS.
//	IQ2_S 82: d:f16, qs[64] (low 8 bits of each group's point, iq2sKGrid's
//	    1024, then one sign byte per group), qh[8] (two high bits per group),
//	    scales[8]; as IQ2_XXS.

// The IQ2 grids, built on first use (ggml's iq2xs_init_impl: packed
// indices below 43692, nwant 2, 2 and 1).
var (
	iq2xxsGrid = sync.OnceValue(func() *iqGrid { return newIQGrid(iq2xxsKGrid[:], 8, 2, 43692, 2, 2) })
	iq2xsGrid  = sync.OnceValue(func() *iqGrid { return newIQGrid(iq2xsKGrid[:], 8, 2, 43692, 2, 2) })
	iq2sGrid   = sync.OnceValue(func() *iqGrid { return newIQGrid(iq2sKGrid[:], 8, 2, 43692, 2, 1) })
)

var (
	iq2xxsParams = iqParams{grid: iq2xxsGrid, dim: 8, kMaxQ: 3, step: 0.1, steps: 6, parity: true, zeroBelow: groupMaxEps, qpInit: true}
	iq2xsParams  = iqParams{grid: iq2xsGrid, dim: 8, kMaxQ: 3, step: 0.1, steps: 9, parity: true, zeroBelow: groupMaxEps, onGridInit: true, skipOnGrid: true}
	iq2sParams   = iqParams{grid: iq2sGrid, dim: 8, kMaxQ: 3, step: 0.1, steps: 9, zeroBelow: 1e-8, onGridInit: true, skipOnGrid: true, sigmaW: true}
)

// iqScaleCode is clamp(nearest(0.5·(id·s - 1)), 0, 15), the 4-bit code of
// block scale s under the inverse super-block scale id.
func iqScaleCode(id, s float32) uint8 {
	return uint8(max(0, min(15, nearestInt(float32(0.5*float32(float32(id*s)-1))))))
}

// signWord packs the four 7-bit sign codes of a 32-value block into bits
// 0..27 of its IQ2_XXS / IQ3_XXS word.
func signWord(signs [4]uint8) uint32 {
	return uint32(signs[0]) | uint32(signs[1])<<7 | uint32(signs[2])<<14 | uint32(signs[3])<<21
}

// putScaleWords ORs the 4-bit code of each of the eight block scales into
// bits 28..31 of that block's little-endian u32 in w, the words stride
// bytes apart (IQ2_XXS: 8, after the grid points; IQ3_XXS: 4).
func putScaleWords(w []byte, stride int, id float32, scales *[8]float32) {
	for ib, s := range scales {
		v := binary.LittleEndian.Uint32(w[stride*ib:])
		binary.LittleEndian.PutUint32(w[stride*ib:], v|uint32(iqScaleCode(id, s))<<28)
	}
}

// quantizeIQ2_XXSW is quantize_row_iq2_xxs_impl for one super-block: x
// (256) with importance qw (256) -> b (66).
func quantizeIQ2_XXSW(b []byte, x, qw []float32) {
	clear(b[:66])
	var scales [8]float32
	sigma2 := sumSquares(x[:256]) / 256
	q := b[2:66]
	ms := iqBlocks(x, qw, sigma2, scales[:], &iq2xxsParams, func(ib int, points [8]int, signs [4]uint8) {
		for k := range 4 {
			q[8*ib+k] = uint8(points[k])
		}
		binary.LittleEndian.PutUint32(q[8*ib+4:], signWord(signs))
	})
	if ms == 0 {
		clear(b[:66])
		return
	}
	d := ms / 31
	putF16(b, d)
	putScaleWords(q[4:], 8, 1/d, &scales)
}

// quantizeIQ2_XSW is quantize_row_iq2_xs_impl for one super-block: x
// (256) with importance qw (256) -> b (74).
func quantizeIQ2_XSW(b []byte, x, qw []float32) {
	clear(b[:74])
	var scales [16]float32
	sigma2 := sumSquares(x[:256]) / 256
	q := b[2:66]
	ms := iqBlocks(x, qw, sigma2, scales[:], &iq2xsParams, func(ib int, points [8]int, signs [4]uint8) {
		for k := range 2 {
			binary.LittleEndian.PutUint16(q[2*(2*ib+k):], uint16(points[k])|uint16(signs[k])<<9)
		}
	})
	if ms == 0 {
		clear(b[:74])
		return
	}
	d := ms / 31
	putF16(b, d)
	putIQScales(b[66:74], 1/d, scales[:])
}

// putIQScales stores the 4-bit codes of the block scales, two per byte
// (even block in the low nibble): IQ2_XS and IQ2_S (16), IQ3_S (8).
func putIQScales(sc []byte, id float32, scales []float32) {
	for ib, s := range scales {
		l := iqScaleCode(id, s)
		if ib%2 == 0 {
			sc[ib/2] = l
		} else {
			sc[ib/2] |= l << 4
		}
	}
}

// quantizeIQ2_SW is quantize_row_iq2_s_impl for one super-block: x (256)
// with importance qw (256, or nil: weights σ²/4 + x²) -> b (82).
func quantizeIQ2_SW(b []byte, x, qw []float32) {
	clear(b[:82])
	var scales [16]float32
	sigma2 := superBlockSigma2(x)
	qs, qh := b[2:66], b[66:74]
	ms := iqBlocks(x, qw, sigma2, scales[:], &iq2sParams, func(ib int, points [8]int, signs [4]uint8) {
		for k := range 2 {
			i8 := 2*ib + k
			qs[i8] = uint8(points[k])
			qh[i8/4] |= uint8(points[k]>>8) << (2 * (i8 % 4))
			qs[32+i8] = signs[k]
		}
	})
	if ms == 0 {
		return
	}
	d := ms / 31
	putF16(b, float32(d*0.9875))
	putIQScales(b[74:82], 1/d, scales[:])
}

// iq2Scale is d·(0.5 + s)·0.25, the IQ2 types' block scale of code s.
func iq2Scale(d float32, s uint8) float32 {
	return float32(float32(d*float32(0.5+float32(s))) * 0.25)
}

// putSigned stores db·q·(±1) for the eight grid values q and sign bits.
func putSigned(y []float32, db float32, q *[8]int8, signs uint8) {
	for j, v := range q {
		y[j] = float32(db*float32(v)) * gridSign(signs, j)
	}
}

// dequantizeIQ2_XXS is dequantize_row_iq2_xxs for one block: b (66) -> y (256).
func dequantizeIQ2_XXS(y []float32, b []byte) {
	d := f32(b)
	for ib := range 8 {
		q := b[2+8*ib : 2+8*ib+8]
		aux := binary.LittleEndian.Uint32(q[4:])
		db := iq2Scale(d, uint8(aux>>28))
		for l := range 4 {
			putSigned(y[32*ib+8*l:], db, &iq2xxsDeqGrid[q[l]], ksignsIQ2XS[aux>>(7*l)&127])
		}
	}
}

// dequantizeIQ2_XS is dequantize_row_iq2_xs for one block: b (74) -> y (256).
func dequantizeIQ2_XS(y []float32, b []byte) {
	d := f32(b)
	for ib := range 8 {
		sc := b[66+ib]
		db := [2]float32{iq2Scale(d, sc&0xF), iq2Scale(d, sc>>4)}
		for l := range 4 {
			q := binary.LittleEndian.Uint16(b[2+2*(4*ib+l):])
			putSigned(y[32*ib+8*l:], db[l/2], &iq2xsDeqGrid[q&511], ksignsIQ2XS[q>>9])
		}
	}
}

// dequantizeIQ2_S is dequantize_row_iq2_s for one block: b (82) -> y (256).
func dequantizeIQ2_S(y []float32, b []byte) {
	d := f32(b)
	qs, qh := b[2:66], b[66:74]
	for ib := range 8 {
		sc := b[74+ib]
		db := [2]float32{iq2Scale(d, sc&0xF), iq2Scale(d, sc>>4)}
		for l := range 4 {
			p := int(qs[4*ib+l]) | int(qh[ib])<<(8-2*l)&0x300
			putSigned(y[32*ib+8*l:], db[l/2], &iq2sDeqGrid[p], qs[32+4*ib+l])
		}
	}
}
