package quant

import "encoding/binary"

// The importance-weighted quantizers of the legacy types, ggml's
// quantize_row_q{4,5}_{0,1}_impl: each 32-value block gets the weights
// qw·sqrt(σ² + x²), σ² the mean square of the whole row, and a weighted
// scale search (make_qx_quants for Q4_0/Q5_0, make_qkx3_quants for
// Q4_1/Q5_1) instead of the reference quantizers' max-based scale.

// legacyParams describes one legacy type for legacyRowW.
type legacyParams struct {
	nmax int32 // levels in [-nmax, nmax-1] (symmetric) or [0, nmax] (with min)
	bb   int   // block bytes
	min  bool  // Q4_1/Q5_1: f16 min after d, asymmetric search
	five bool  // Q5_*: a u32 of fifth bits before qs
}

var (
	q40W = legacyParams{nmax: 8, bb: 18}
	q41W = legacyParams{nmax: 15, bb: 20, min: true}
	q50W = legacyParams{nmax: 16, bb: 22, five: true}
	q51W = legacyParams{nmax: 31, bb: 24, min: true, five: true}
)

// legacyRowW returns the weighted row quantizer of the legacy type p:
// src (whole blocks of one row) with importance qw (len(src)) -> dst.
func legacyRowW(p legacyParams) func(dst []byte, src, qw []float32) {
	return func(dst []byte, src, qw []float32) {
		sigma2 := sumSquares(src) / float32(len(src))
		var (
			weight [32]float32
			L      [32]uint8
			S      [32]int8
		)
		for ib := range len(src) / 32 {
			xb, b := src[32*ib:32*ib+32], dst[p.bb*ib:p.bb*ib+p.bb]
			imatrixWeights(weight[:], xb, qw[32*ib:32*ib+32], sigma2)
			off := 2
			if p.min {
				d, negMin := makeQKX2Quants(xb, weight[:], p.nmax, L[:], -0.9, 0.05, 36, false)
				putF16(b, d)
				putF16(b[2:], -negMin)
				off = 4
			} else {
				putF16(b, makeQXQuants(xb, weight[:], p.nmax, S[:]))
				for j, l := range S {
					L[j] = uint8(l)
				}
			}
			if p.five {
				var qh uint32
				for j := range 32 {
					qh |= uint32(L[j]&0x10) >> 4 << j
				}
				binary.LittleEndian.PutUint32(b[off:], qh)
				off += 4
			}
			for j := range 16 {
				b[off+j] = L[j]&0xF | (L[j+16]&0xF)<<4
			}
		}
	}
}
