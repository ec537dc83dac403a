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

// iq3Params are the differences between ggml's IQ3_XXS and IQ3_S searches.
type iq3Params struct {
	grid       func() *iqGrid
	parity     bool    // IQ3_XXS: an even number of minus signs per 8
	zeroBelow  float32 // a block whose max|x| is below this is zero (IQ3_S: max == 0)
	steps      int     // inverse scales tried: 15 + 0.2·is for |is| <= steps
	onGridInit bool    // ggml's initial is_on_grid (IQ3_XXS true, IQ3_S false)
	skipOnGrid bool    // the final pass leaves groups on the grid as they are (IQ3_XXS)
}

var (
	iq3xxsParams = iq3Params{grid: iq3xxsGrid, parity: true, zeroBelow: 1e-8, steps: 15, onGridInit: true, skipOnGrid: true}
	iq3sParams   = iq3Params{grid: iq3sGrid, steps: 9}
)

// iq3Block is one 32-value block's search of quantize_row_iq3_xxs_impl /
// quantize_row_iq3_s_impl: x and its weights w (32 each) -> the block's
// scale, the grid point of each group of four and the four sign bytes;
// zero reports a block quantized to nothing (ggml's early continue).
func iq3Block(x, weight []float32, p *iq3Params) (scale float32, points [8]int, signs [4]uint8, zero bool) {
	const kMaxQ = 8
	g := p.grid()
	var xval, waux [32]float32
	for i, w := range weight[:32] {
		waux[i] = sqrtf(w)
	}
	for k := range 4 {
		var s uint8
		nflip := 0
		for i := range 8 {
			if v := x[8*k+i]; v >= 0 {
				xval[8*k+i] = v
			} else {
				xval[8*k+i] = -v
				nflip++
				s |= 1 << i
			}
		}
		if p.parity {
			if nflip%2 != 0 {
				imin := 0
				mn := float32(float32(weight[8*k]*x[8*k]) * x[8*k])
				for i := 1; i < 8; i++ {
					if ax := float32(float32(weight[8*k+i]*x[8*k+i]) * x[8*k+i]); ax < mn {
						mn, imin = ax, i
					}
				}
				xval[8*k+imin] = -xval[8*k+imin]
				s ^= 1 << imin
			}
			s &= 127
		}
		signs[k] = s
	}
	mx := xval[0]
	for _, v := range xval[1:] {
		if !(mx > v) {
			mx = v
		}
	}
	if mx == 0 || mx < p.zeroBelow {
		return 0, points, signs, true
	}
	var L, Laux [32]int8
	var onGrid, onAux [8]bool
	for k := range onGrid {
		onGrid[k] = p.onGridInit
	}
	var best float32
	scale = mx / (2*kMaxQ - 1)
	for is := -p.steps; is <= p.steps; is++ {
		id := float32(2*kMaxQ-1+float32(float32(is)*0.2)) / mx
		thisScale := 1 / id
		for k := range 8 {
			u := iq3Levels(xval[4*k:4*k+4], id, Laux[4*k:4*k+4])
			onAux[k] = g.index[u] >= 0
			if !onAux[k] {
				g.bestNeighbour(u, xval[4*k:4*k+4], waux[4*k:4*k+4], thisScale, Laux[4*k:4*k+4])
			}
		}
		sumqx, sumq2 := oddLevelSums(xval[:], weight[:32], Laux[:])
		if sumq2 > 0 && float32(sumqx*sumqx) > float32(best*sumq2) {
			scale = sumqx / sumq2
			best = float32(scale * sumqx)
			L, onGrid = Laux, onAux
		}
	}
	off := false
	for _, on := range onGrid {
		off = off || !on
	}
	if off && scale > 0 {
		id := 1 / scale
		for k := range 8 {
			if p.skipOnGrid && onGrid[k] {
				continue
			}
			u := iq3Levels(xval[4*k:4*k+4], id, L[4*k:4*k+4])
			gi := int(g.index[u])
			if gi < 0 {
				gi = g.bestNeighbour(u, xval[4*k:4*k+4], waux[4*k:4*k+4], scale, L[4*k:4*k+4])
			}
			for i, q := range g.point(gi) {
				L[4*k+i] = (q - 1) / 2
			}
		}
		if sumqx, sumq2 := oddLevelSums(xval[:], weight[:32], L[:]); sumq2 > 0 {
			scale = sumqx / sumq2
		}
	}
	if scale < 0 {
		scale = -scale
		for k := range signs {
			signs[k] = ^signs[k]
			if p.parity {
				signs[k] &= 127
			}
		}
	}
	for k := range 8 {
		u := 0
		for i, l := range L[4*k : 4*k+4] {
			u |= int(l) << (3 * i)
		}
		points[k] = int(g.index[u]) // on the grid by construction
	}
	return scale, points, signs, false
}

// iq3Levels sets the four levels clamp(nearest(0.5·(id·x - 1)), 0, 7) of
// the group x and returns their packed index.
func iq3Levels(x []float32, id float32, L []int8) int {
	u := 0
	for i, v := range x[:4] {
		l := max(0, min(7, nearestInt(float32(0.5*float32(float32(id*v)-1)))))
		L[i] = int8(l)
		u |= int(l) << (3 * i)
	}
	return u
}

// oddLevelSums returns Σ w·x·q and Σ w·q² for the odd grid values
// q = 2L+1 of levels L.
func oddLevelSums(x, w []float32, L []int8) (sumqx, sumq2 float32) {
	for i, v := range x {
		q := float32(2*int32(L[i]) + 1)
		sumqx += float32(float32(w[i]*v) * q)
		sumq2 += float32(float32(w[i]*q) * q)
	}
	return sumqx, sumq2
}

// iqWeights sets the weights of a super-block's 32-value block x: qw·sqrt(
// sigma2 + x²) with importance qw, or x² where qw is nil.
func iqWeights(w, x, qw []float32, sigma2 float32) {
	if qw != nil {
		imatrixWeights(w, x, qw, sigma2)
		return
	}
	for i, v := range x {
		w[i] = float32(v * v)
	}
}

// iqSigma2 is 2·Σx²/256 over a super-block (ggml's sigma2).
func iqSigma2(x []float32) float32 { return float32(2*sumSquares(x[:256])) / 256 }

// blockImportance returns qw[lo:hi], or nil for a nil qw.
func blockImportance(qw []float32, lo, hi int) []float32 {
	if qw == nil {
		return nil
	}
	return qw[lo:hi]
}

// maxScale is ggml's MAX(max_scale, scale).
func maxScale(m, s float32) float32 {
	if m > s {
		return m
	}
	return s
}

// quantizeIQ3_XXSW is quantize_row_iq3_xxs_impl for one super-block: x
// (256) with importance qw (256, or nil) -> b (98).
func quantizeIQ3_XXSW(b []byte, x, qw []float32) {
	clear(b[:98])
	var weight [32]float32
	var scales [8]float32
	var ms float32
	sigma2 := iqSigma2(x)
	q3, sas := b[2:66], b[66:98]
	for ib := range 8 {
		xb := x[32*ib : 32*ib+32]
		iqWeights(weight[:], xb, blockImportance(qw, 32*ib, 32*ib+32), sigma2)
		scale, points, signs, zero := iq3Block(xb, weight[:], &iq3xxsParams)
		if zero {
			continue
		}
		for k, p := range points {
			q3[8*ib+k] = uint8(p)
		}
		binary.LittleEndian.PutUint32(sas[4*ib:], uint32(signs[0])|uint32(signs[1])<<7|uint32(signs[2])<<14|uint32(signs[3])<<21)
		scales[ib] = scale
		ms = maxScale(ms, scale)
	}
	if ms == 0 {
		clear(b[:98])
		return
	}
	d := ms / 31
	putF16(b, float32(d*1.0125))
	id := 1 / d
	for ib, s := range scales {
		l := max(0, min(15, nearestInt(float32(0.5*float32(float32(id*s)-1)))))
		v := binary.LittleEndian.Uint32(sas[4*ib:])
		binary.LittleEndian.PutUint32(sas[4*ib:], v|uint32(l)<<28)
	}
}

// quantizeIQ3_SW is quantize_row_iq3_s_impl for one super-block: x (256)
// with importance qw (256, or nil) -> b (110). As in ggml, a zero block
// does not advance the qs and signs positions, so the later blocks' grid
// points and signs are stored one block earlier (their 9th bits are not).
func quantizeIQ3_SW(b []byte, x, qw []float32) {
	clear(b[:110])
	var weight [32]float32
	var scales [8]float32
	var ms float32
	sigma2 := iqSigma2(x)
	qs, qh, sg := b[2:66], b[66:74], b[74:106]
	at := 0 // blocks stored so far
	for ib := range 8 {
		xb := x[32*ib : 32*ib+32]
		iqWeights(weight[:], xb, blockImportance(qw, 32*ib, 32*ib+32), sigma2)
		scale, points, signs, zero := iq3Block(xb, weight[:], &iq3sParams)
		if zero {
			continue
		}
		for k, p := range points {
			qs[8*at+k] = uint8(p)
			qh[ib] |= uint8(p>>8) << k
		}
		copy(sg[4*at:4*at+4], signs[:])
		at++
		scales[ib] = scale
		ms = maxScale(ms, scale)
	}
	if ms == 0 {
		return
	}
	d := ms / 31
	putF16(b, float32(d*1.033))
	id := 1 / d
	for ib := 0; ib < 8; ib += 2 {
		l1 := max(0, min(15, nearestInt(float32(0.5*float32(float32(id*scales[ib])-1)))))
		l2 := max(0, min(15, nearestInt(float32(0.5*float32(float32(id*scales[ib+1])-1)))))
		b[106+ib/2] = uint8(l1 | l2<<4)
	}
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
