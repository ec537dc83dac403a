package quant

import (
	"encoding/binary"
	"math"
	"slices"
	"sync"
)

// IQ1_S and IQ1_M: 256 values, groups of eight on the 2048-point ternary
// grid iq1sKGrid (coordinates -1, 0, 1), each group shifted by ±δ (δ =
// 0.125) and scaled per block.
//
//	IQ1_S 50: d:f16, qs[32] (low 8 bits of each group's point), qh[8]:u16
//	    per 32 values: the points' high 3 bits at bits 3k, the scale code s
//	    at bits 12..14, the shift's sign at bit 15; x = d·(2s+1)·(g ± δ).
//	IQ1_M 56: qs[32], qh[16] (per 16 values: high 3 bits of each group's
//	    point at bits 0 and 4, each group's shift sign at bits 3 and 7),
//	    scales[8] as four u16: 3-bit codes s per 16 values at bits 3k, and
//	    the f16 super-block scale d spread over their top nibbles.

// iq1Grid is the IQ1 grid (ggml's iq2xs_init_impl for IQ1_S/IQ1_M: nwant 3).
var iq1Grid = sync.OnceValue(func() *iqGrid { return newIQGrid(iq1sKGrid[:], 8, 2, 43692, 2, 3) })

const iq1Delta = 0.125

// iq1Plus and iq1Minus are ggml's x_p and x_m: the three grid values
// shifted by +δ and -δ.
var (
	iq1Plus  = [3]float32{-1 + iq1Delta, iq1Delta, 1 + iq1Delta}
	iq1Minus = [3]float32{-1 - iq1Delta, -iq1Delta, 1 - iq1Delta}
)

// iq1Order returns the indices of x ordered by value, equal values in
// index order (glibc's merge-sort qsort, which ggml's iq1_sort_helper
// relies on, keeps them so).
func iq1Order(x []float32, idx []int) {
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case x[a] < x[b]:
			return -1
		case x[a] > x[b]:
			return 1
		}
		return 0
	})
}

// iq1AbsMax is max|x| as ggml's MAX loop finds it.
func iq1AbsMax(x []float32) float32 {
	m := abs(x[0])
	for _, v := range x[1:] {
		m = maxScale(m, abs(v))
	}
	return m
}

// iq1Neighbour is iq1_find_best_neighbour2: among the neighbours of the
// off-grid packed index u, the point of least Σ w·(scale·xx[l] - x)² (the
// first on ties), x the signed values of the group; L receives its levels.
// ggml falls back to an out-of-bounds scan when every distance is NaN or
// above FLT_MAX (overflow on huge inputs); the first neighbour is taken
// then.
func iq1Neighbour(g *iqGrid, u int, x, w []float32, scale float32, xx *[3]float32, L []int8) int {
	// The term w·(scale·xx[l] - x)² of each coordinate and level, as ggml
	// computes it (e[4i + l], the grid's eoff layout); each neighbour adds
	// its eight in ggml's order (scanTerms).
	var e [64]float32 // e[4i + l]; iq1's eoff stay below 32
	for i := range 8 {
		for l, v := range xx {
			diff := float32(scale*v) - x[i]
			e[4*i+l] = float32(float32(w[i]*diff) * diff)
		}
	}
	return g.scanTerms(u, &e, L)
}

// iq1Points maps the levels L of a block's groups to grid points (via
// iq1Neighbour where off the grid, with the values x shifted by xxOf(k)
// for group k) and returns them, and the scale refitted on them when a
// group was off the grid (ggml's !all_on_grid pass).
func iq1Points(x, w []float32, L []int8, scale float32, xxOf func(k int) *[3]float32) (points [4]int, _ float32) {
	g := iq1Grid()
	onGrid := true
	for k := range len(x) / 8 {
		u := 0
		for j, l := range L[8*k : 8*k+8] {
			u |= int(l) << (2 * j)
		}
		p := int(g.index[u])
		if p < 0 {
			onGrid = false
			p = iq1Neighbour(g, u, x[8*k:8*k+8], w[8*k:8*k+8], scale, xxOf(k), L[8*k:8*k+8])
		}
		points[k] = p
	}
	if !onGrid {
		var sumqx, sumq2 float32
		for k := range len(x) / 8 {
			xx := xxOf(k)
			for j, q := range g.point(points[k]) {
				v := xx[(q-1)/2]
				wq := float32(w[8*k+j] * v)
				sumqx += float32(wq * x[8*k+j])
				sumq2 += float32(wq * v)
			}
		}
		if sumqx > 0 && sumq2 > 0 {
			scale = sumqx / sumq2
		}
	}
	return points, scale
}

// iq1Levels sets L[idx[j]] to 0, 1 or 2 as j is below i1, below i2, or not.
func iq1Levels(L []int8, idx []int, i1, i2 int) {
	for j, i := range idx {
		switch {
		case j < i1:
			L[i] = 0
		case j < i2:
			L[i] = 1
		default:
			L[i] = 2
		}
	}
}

// iq1sBlock is one 32-value block of quantize_row_iq1_s_impl: the scale,
// shift (±1) and grid points of x with weights w; zero for a block
// quantized to nothing (ggml's continue, scale 0, shift 1).
func iq1sBlock(x, w []float32) (scale float32, shift int, points [4]int, zero bool) {
	const bs = 32
	mx := iq1AbsMax(x)
	if mx < 1e-12 {
		return 0, 1, points, true
	}
	var idx [bs]int
	iq1Order(x, idx[:])
	var sumx, sumw [bs + 1]float32
	for j, i := range idx {
		sumx[j+1] = sumx[j] + float32(w[i]*x[i])
		sumw[j+1] = sumw[j] + w[i]
	}
	best := float32(-math.MaxFloat32)
	scale = mx
	b1, b2 := -1, -1
	// The products of the runs below i1 (level 0) and from i2 (level 2)
	// depend on one bound only: they are formed once per bound, as ggml
	// forms them for every pair.
	shifted := [2]*[3]float32{&iq1Plus, &iq1Minus}
	var cx, cq [2][bs + 1]float32
	for i2 := range bs + 1 {
		c, cw := sumx[bs]-sumx[i2], sumw[bs]-sumw[i2]
		for h, xx := range shifted {
			cx[h][i2], cq[h][i2] = float32(c*xx[2]), float32(float32(cw*xx[2])*xx[2])
		}
	}
	for i1 := 0; i1 <= bs; i1++ {
		a, aw := sumx[i1]-sumx[0], sumw[i1]-sumw[0]
		var ax, aq [2]float32
		for h, xx := range shifted {
			ax[h], aq[h] = float32(a*xx[0]), float32(float32(aw*xx[0])*xx[0])
		}
		for i2 := i1; i2 <= bs; i2++ {
			b, bw := sumx[i2]-sumx[i1], sumw[i2]-sumw[i1]
			for h, xx := range shifted {
				sumqx := float32(ax[h]+float32(b*xx[1])) + cx[h][i2]
				sumq2 := float32(aq[h]+float32(float32(bw*xx[1])*xx[1])) + cq[h][i2]
				if sumq2 > 0 && float32(sumqx*sumqx) > float32(best*sumq2) {
					scale = sumqx / sumq2
					best = float32(scale * sumqx)
					b1, b2, shift = i1, i2, 1-2*h
				}
			}
		}
	}
	if b1 < 0 {
		return 0, 1, points, true
	}
	var L [bs]int8
	iq1Levels(L[:], idx[:], b1, b2)
	if scale < 0 {
		for j := range L {
			L[j] = 2 - L[j]
		}
		scale, shift = -scale, -shift
	}
	xx := &iq1Plus
	if shift < 0 {
		xx = &iq1Minus
	}
	points, scale = iq1Points(x, w, L[:], scale, func(int) *[3]float32 { return xx })
	return scale, shift, points, false
}

// quantizeIQ1_SW is quantize_row_iq1_s_impl for one super-block: x (256)
// with importance qw (256) -> b (50).
func quantizeIQ1_SW(b []byte, x, qw []float32) {
	clear(b[:50])
	var weight [32]float32
	var scales [8]float32
	var shifts [8]int
	var ms float32
	sigma2 := superBlockSigma2(x)
	qs, qh := b[2:34], b[34:50]
	for ib := range 8 {
		xb := x[32*ib : 32*ib+32]
		imatrixWeights(weight[:], xb, qw[32*ib:32*ib+32], sigma2)
		scale, shift, points, zero := iq1sBlock(xb, weight[:])
		shifts[ib] = shift
		if zero {
			continue
		}
		var h uint16
		for k, p := range points {
			qs[4*ib+k] = uint8(p)
			h |= uint16(p>>8) << (3 * k)
		}
		binary.LittleEndian.PutUint16(qh[2*ib:], h)
		scales[ib] = scale
		ms = maxScale(ms, scale)
	}
	if ms == 0 {
		return
	}
	d := ms / 15
	putF16(b, float32(d*1.125))
	id := 1 / d
	for ib, s := range scales {
		l := uint16(max(0, min(7, nearestInt(float32(0.5*float32(float32(id*s)-1))))))
		if shifts[ib] == -1 {
			l |= 8
		}
		binary.LittleEndian.PutUint16(qh[2*ib:], binary.LittleEndian.Uint16(qh[2*ib:])|l<<12)
	}
}

// iq1mShift returns the shifted grid values of group g (0 or 1) of an
// IQ1_M block under shift combination k (0..3: bit 1 for the first group,
// bit 0 for the second, set meaning -δ).
func iq1mShift(k, g int) *[3]float32 {
	if (g == 0 && k < 2) || (g == 1 && k%2 == 0) {
		return &iq1Plus
	}
	return &iq1Minus
}

// iq1mBlock is one 16-value block of quantize_row_iq1_m_impl: the scale,
// shift combination and grid points of x with weights w; zero for a block
// quantized to nothing (scale 0, shifts 0).
func iq1mBlock(x, w []float32) (scale float32, shifts int, points [4]int, zero bool) {
	const bs = 16
	mx := iq1AbsMax(x)
	if mx < 1e-7 {
		return 0, 0, points, true
	}
	var idx [bs]int
	iq1Order(x, idx[:])
	// The terms w·v·x and w·v·v of each value at each of its three levels
	// under each shift combination k, as ggml computes them inside its
	// loops; every split's sums add them in ggml's order (values by rank,
	// first those below i1, then below i2, then the rest), sharing the
	// running sum of the first two runs across splits.
	var tx, tq [bs][3][4]float32
	for i := range bs {
		for seg := range 3 {
			for k := range 4 {
				v := iq1mShift(k, i/8)[seg]
				wv := float32(w[i] * v)
				tx[i][seg][k], tq[i][seg][k] = float32(wv*x[i]), float32(wv*v)
			}
		}
	}
	best := float32(-math.MaxFloat32)
	scale = mx
	b1, b2, bk := -1, -1, -1
	var p0x, p0q [4]float32 // the terms of the values ranked below i1, at level 0
	for i1 := 0; i1 <= bs; i1++ {
		s1x, s1q := p0x, p0q // then those ranked i1..i2-1 at level 1
		for i2 := i1; i2 <= bs; i2++ {
			sumqx, sumq2 := s1x, s1q
			for _, i := range idx[i2:] {
				for k := range 4 {
					sumqx[k] += tx[i][2][k]
					sumq2[k] += tq[i][2][k]
				}
			}
			for k := range 4 {
				if sumq2[k] > 0 && float32(sumqx[k]*sumqx[k]) > float32(best*sumq2[k]) {
					scale = sumqx[k] / sumq2[k]
					best = float32(scale * sumqx[k])
					b1, b2, bk = i1, i2, k
				}
			}
			if i2 < bs {
				for k := range 4 {
					s1x[k] += tx[idx[i2]][1][k]
					s1q[k] += tq[idx[i2]][1][k]
				}
			}
		}
		if i1 < bs {
			for k := range 4 {
				p0x[k] += tx[idx[i1]][0][k]
				p0q[k] += tq[idx[i1]][0][k]
			}
		}
	}
	if b1 < 0 {
		return 0, 0, points, true
	}
	var L [bs]int8
	iq1Levels(L[:], idx[:], b1, b2)
	if scale < 0 {
		for j := range L {
			L[j] = 2 - L[j]
		}
		scale, bk = -scale, 3-bk
	}
	points, scale = iq1Points(x, w, L[:], scale, func(g int) *[3]float32 { return iq1mShift(bk, g) })
	return scale, bk, points, false
}

// quantizeIQ1_MW is quantize_row_iq1_m_impl for one super-block: x (256)
// with importance qw (256, or nil: weights x²) -> b (56).
func quantizeIQ1_MW(b []byte, x, qw []float32) {
	clear(b[:56])
	var weight [16]float32
	var scales [16]float32
	var shifts [16]int
	var ms float32
	sigma2 := superBlockSigma2(x)
	qs, qh, sc := b[0:32], b[32:48], b[48:56]
	for ib := range 16 {
		xb := x[16*ib : 16*ib+16]
		iqWeights(weight[:], xb, blockImportance(qw, 16*ib, 16*ib+16), sigma2)
		scale, sh, points, zero := iq1mBlock(xb, weight[:])
		shifts[ib] = sh
		if zero {
			continue
		}
		qs[2*ib], qs[2*ib+1] = uint8(points[0]), uint8(points[1])
		qh[ib] = uint8(points[0]>>8) | uint8(points[1]>>8)<<4
		scales[ib] = scale
		ms = maxScale(ms, scale)
	}
	if ms == 0 {
		return
	}
	g := iq1Grid()
	masks := [4]uint8{0x00, 0x80, 0x08, 0x88}
	d := ms / 15
	id := 1 / d
	var sumqx, sumq2 float32
	var s16 [4]uint16
	for ib := range 16 {
		l := max(0, min(7, nearestInt(float32(0.5*float32(float32(id*scales[ib])-1)))))
		s16[ib/4] |= uint16(l) << (3 * (ib % 4))
		qh[ib] |= masks[shifts[ib]]
		xb := x[16*ib : 16*ib+16]
		iqWeights(weight[:], xb, blockImportance(qw, 16*ib, 16*ib+16), sigma2)
		for k := range 2 {
			xx := iq1mShift(shifts[ib], k)
			p := int(qs[2*ib+k]) + int(qh[ib])<<(8-4*k)&0x700
			for j, q := range g.point(p) {
				v := float32(xx[(q-1)/2] * float32(2*l+1))
				wv := float32(weight[8*k+j] * v)
				sumqx += float32(wv * xb[8*k+j])
				sumq2 += float32(wv * v)
			}
		}
	}
	if sumq2 > 0 {
		d = sumqx / sumq2
	}
	s := f16(float32(d * 1.1125))
	s16[0] |= (s & 0x000f) << 12
	s16[1] |= (s & 0x00f0) << 8
	s16[2] |= (s & 0x0f00) << 4
	s16[3] |= s & 0xf000
	for i, v := range s16 {
		binary.LittleEndian.PutUint16(sc[2*i:], v)
	}
}

// dequantizeIQ1_S is dequantize_row_iq1_s for one block: b (50) -> y (256).
func dequantizeIQ1_S(y []float32, b []byte) {
	d := f32(b)
	qs, qh := b[2:34], b[34:50]
	for ib := range 8 {
		h := binary.LittleEndian.Uint16(qh[2*ib:])
		dl := d * float32(2*int32(h>>12&7)+1)
		delta := float32(iq1Delta)
		if h&0x8000 != 0 {
			delta = -iq1Delta
		}
		for l := range 4 {
			iq1Put(y[32*ib+8*l:], dl, delta, int(qs[4*ib+l])|int(h>>(3*l)&7)<<8)
		}
	}
}

// iq1Put stores dl·(g + delta) for the eight values g of iq1sDeqGrid[p].
func iq1Put(y []float32, dl, delta float32, p int) {
	for j, v := range iq1sDeqGrid[p] {
		y[j] = dl * float32(float32(v)+delta)
	}
}

// dequantizeIQ1_M is dequantize_row_iq1_m for one block: b (56) -> y (256).
func dequantizeIQ1_M(y []float32, b []byte) {
	qs, qh := b[0:32], b[32:48]
	var sc [4]uint16
	for i := range sc {
		sc[i] = binary.LittleEndian.Uint16(b[48+2*i:])
	}
	d := f16Table[sc[0]>>12|sc[1]>>8&0x00f0|sc[2]>>4&0x0f00|sc[3]&0xf000]
	for ib := range 8 {
		for h := range 2 {
			dl := d * float32(2*int32(sc[ib/2]>>(6*(ib%2)+3*h)&7)+1)
			q := qh[2*ib+h]
			for l := range 2 {
				delta := float32(iq1Delta)
				if q&(0x08<<(4*l)) != 0 {
					delta = -iq1Delta
				}
				p := int(qs[4*ib+2*h+l]) | int(q)<<(8-4*l)&0x700
				iq1Put(y[32*ib+16*h+8*l:], dl, delta, p)
			}
		}
	}
}
