package quant

// The block search shared by ggml's IQ2 and IQ3 quantizers
// (quantize_row_iq2_xxs_impl, _iq2_xs_impl, _iq2_s_impl, _iq3_xxs_impl,
// _iq3_s_impl): the magnitudes of a block are fitted by scale·(2l+1), l a
// point of the type's lattice grid per group of dim values, the signs kept
// apart. Inverse scales around (2·kMaxQ-1)/max are tried; each rounds the
// groups to levels and replaces an off-grid group by its best grid
// neighbour, and the least-squares scale of the best trial is refined once
// more on the grid. With the lane kernels a whole trial runs in one
// kernel call (iqtrial.go).

// iqParams are the differences between the types' searches.
type iqParams struct {
	grid       func() *iqGrid
	dim        int     // values per group: 4 (IQ3) or 8 (IQ2)
	kMaxQ      int32   // levels l in [0, kMaxQ-1]
	step       float32 // inverse scales (2·kMaxQ-1 + step·is)/max, |is| <= steps
	steps      int
	parity     bool    // an even number of minus signs per 8 (the smallest w·x² flips)
	zeroBelow  float32 // a block whose max|x| is below this is zero (0: max == 0)
	onGridInit bool    // ggml's initial is_on_grid
	skipOnGrid bool    // the final pass leaves groups on the grid as they are
	qpInit     bool    // IQ2_XXS: the trials are around make_qp_quants's scale, and every group is refined
	sigmaW     bool    // IQ2_S: without importance the weights are σ²/4 + x², not x²
}

// iqBlock is one block's search: x and its weights w (16 or 32 each) ->
// the block's scale, the grid point of each group and the sign byte of
// each 8 values; zero reports a block quantized to nothing (ggml's early
// continue).
func iqBlock(x, weight []float32, p *iqParams) (scale float32, points [8]int, signs [4]uint8, zero bool) {
	b, ok := startIQBlock(x, weight, p)
	if !ok {
		return 0, points, b.signs, true
	}
	n, dim := len(x), p.dim
	g := p.grid()
	scale = b.scale
	var L [32]int8
	onGrid := b.onGrid
	var trial iqTrial
	if trial.start(g, p, b.xval[:n], weight[:n], b.waux[:n]) {
		trial.search(p, b.top, b.den, &scale, &L, &onGrid)
	} else {
		var Laux [32]int8
		var onAux [8]bool
		var best float32
		for is := -p.steps; is <= p.steps; is++ {
			id := float32(b.top+float32(float32(is)*p.step)) / b.den
			thisScale := 1 / id
			for k := range n / dim {
				xg, lg := b.xval[dim*k:dim*k+dim], Laux[dim*k:dim*k+dim]
				u := iqLevels(xg, id, lg, p.kMaxQ, g.shift)
				onAux[k] = g.index[u] >= 0
				if !onAux[k] {
					g.bestNeighbour(u, xg, b.waux[dim*k:dim*k+dim], thisScale, lg)
				}
			}
			if sumqx, sumq2 := oddLevelSums(b.xval[:n], weight[:n], Laux[:n]); improves(sumqx, sumq2, best) {
				scale = sumqx / sumq2
				best = float32(scale * sumqx)
				L, onGrid = Laux, onAux
			}
		}
	}
	scale, points, signs = b.finish(p, weight[:n], scale, L, onGrid)
	return scale, points, signs, false
}

// iqStarted is a block's state before its scale search: the magnitudes
// xval of x with the sign bytes, the square roots waux of the weights, the
// trials' top level 2·kMaxQ-1, the first scale and the denominator of the
// trials' inverse scales, and ggml's initial on-grid flags.
type iqStarted struct {
	xval, waux      [32]float32
	signs           [4]uint8
	top, scale, den float32
	onGrid          [8]bool
}

// startIQBlock is the start of ggml's block search, before the trials:
// signs (an even number per 8 where p.parity, the smallest w·x² flipped),
// max, and the first scale (max/top, or make_qp_quants's for p.qpInit).
// ok is false for a block quantized to nothing; its signs are set anyway.
func startIQBlock(x, weight []float32, p *iqParams) (b iqStarted, ok bool) {
	n := len(x)
	for i, w := range weight[:n] {
		b.waux[i] = sqrtf(w)
	}
	for k := range n / 8 {
		var s uint8
		nflip := 0
		for i := range 8 {
			if v := x[8*k+i]; v >= 0 {
				b.xval[8*k+i] = v
			} else {
				b.xval[8*k+i] = -v
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
				b.xval[8*k+imin] = -b.xval[8*k+imin]
				s ^= 1 << imin
			}
			s &= 127
		}
		b.signs[k] = s
	}
	mx := b.xval[0]
	for _, v := range b.xval[1:n] {
		if !(mx > v) {
			mx = v
		}
	}
	if mx == 0 || mx < p.zeroBelow {
		return b, false
	}
	for k := range b.onGrid {
		b.onGrid[k] = p.onGridInit
	}
	b.top = float32(2*p.kMaxQ - 1)
	b.scale = mx / b.top
	b.den = mx
	if p.qpInit {
		var qpL [32]uint8
		b.scale = makeQPQuants(b.xval[:n], p.kMaxQ+1, qpL[:n], weight[:n])
		b.den = float32(b.scale * float32(p.kMaxQ))
		if b.den <= 0 {
			return b, false
		}
	}
	return b, true
}

// finish is the end of ggml's block search, after the trials found scale,
// levels L and on-grid flags: where a group is off the grid (or always, for
// p.qpInit) the levels are made again at the final scale, off-grid groups
// replaced by their best neighbour, and the scale refitted; a negative
// scale flips every sign; the groups' levels become grid points.
func (b *iqStarted) finish(p *iqParams, weight []float32, scale float32, L [32]int8, onGrid [8]bool) (float32, [8]int, [4]uint8) {
	n, dim := len(weight), p.dim
	ng := n / dim
	g := p.grid()
	off := p.qpInit
	for _, on := range onGrid[:ng] {
		off = off || !on
	}
	if off && scale > 0 {
		id := 1 / scale
		for k := range ng {
			if p.skipOnGrid && onGrid[k] {
				continue
			}
			xg, lg := b.xval[dim*k:dim*k+dim], L[dim*k:dim*k+dim]
			if u := iqLevels(xg, id, lg, p.kMaxQ, g.shift); g.index[u] < 0 {
				g.bestNeighbour(u, xg, b.waux[dim*k:dim*k+dim], scale, lg)
			}
		}
		if sumqx, sumq2 := oddLevelSums(b.xval[:n], weight, L[:n]); sumq2 > 0 {
			scale = sumqx / sumq2
		}
	}
	signs := b.signs
	if scale < 0 {
		scale = -scale
		for k := range signs {
			signs[k] = ^signs[k]
			if p.parity {
				signs[k] &= 127
			}
		}
	}
	var points [8]int
	for k := range ng {
		u := 0
		for i, l := range L[dim*k : dim*k+dim] {
			u |= int(l) << (g.shift * i)
		}
		points[k] = int(g.index[u]) // on the grid by construction
	}
	return scale, points, signs
}

// iqLevels sets the levels clamp(nearest(0.5·(id·x - 1)), 0, kMaxQ-1) of
// the group x and returns their packed index (shift bits per level).
func iqLevels(x []float32, id float32, L []int8, kMaxQ int32, shift int) int {
	L = L[:len(x)]
	u := 0
	for i, v := range x {
		l := max(0, min(kMaxQ-1, nearestInt(float32(0.5*float32(float32(id*v)-1)))))
		L[i] = int8(l)
		u |= int(l) << (shift * i)
	}
	return u
}

// oddLevelSums returns Σ w·x·q and Σ w·q² for the odd grid values
// q = 2L+1 of levels L.
func oddLevelSums(x, w []float32, L []int8) (sumqx, sumq2 float32) {
	w, L = w[:len(x)], L[:len(x)]
	for i, v := range x {
		q := float32(2*int32(L[i]) + 1)
		sumqx += float32(float32(w[i]*v) * q)
		sumq2 += float32(float32(w[i]*q) * q)
	}
	return sumqx, sumq2
}

// iqBlocks searches the len(scales) blocks of a 256-value super-block x
// (256/len(scales) values each) in order, as every IQ2/IQ3 quantizer does:
// a block's weights are iqWeights' with importance qw (or p.sigmaW's), and
// unless iqBlock finds the block all zero, store keeps its grid points and
// signs and scales[ib] its scale. It returns the largest scale, 0 when
// every block is zero.
func iqBlocks(x, qw []float32, sigma2 float32, scales []float32, p *iqParams, store func(ib int, points [8]int, signs [4]uint8)) float32 {
	n := 256 / len(scales)
	var weight [32]float32
	w := weight[:n]
	var ms float32
	for ib := range scales {
		xb := x[n*ib : n*ib+n]
		if qw == nil && p.sigmaW {
			for i, v := range xb {
				w[i] = float32(0.25*sigma2) + float32(v*v)
			}
		} else {
			iqWeights(w, xb, blockImportance(qw, n*ib, n*ib+n), sigma2)
		}
		scale, points, signs, zero := iqBlock(xb, w, p)
		if zero {
			continue
		}
		store(ib, points, signs)
		scales[ib] = scale
		ms = maxScale(ms, scale)
	}
	return ms
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

// superBlockSigma2 is 2·Σx²/256 over a 256-value super-block, the sigma2
// of ggml's Q3_K…Q5_K and IQ quantizers (IQ2_XXS, IQ2_XS and Q2_K use Σx²/256).
func superBlockSigma2(x []float32) float32 { return float32(2*sumSquares(x[:256])) / 256 }

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
