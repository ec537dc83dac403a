package quant

// Straightforward ports of ggml's IQ block searches, as they were first
// written and proven bit-exact against ggml (testdata/weighted and the
// llama-quantize fixtures); differential_test.go checks the optimised
// searches against them on many groups.

import "math"

// refIQBlock is iqBlock's trials as first written, a straightforward port
// of ggml's loop, kept as the oracle of the optimised search (the lane
// kernels of iqtrial.go and gridlanes.go, with the straightforward
// neighbour search); the start and the end of the block search are
// iqBlock's own (TestNeighbourLanes checks the end's neighbour search).
func refIQBlock(x, weight []float32, p *iqParams) (scale float32, points [8]int, signs [4]uint8, zero bool) {
	b, ok := startIQBlock(x, weight, p)
	if !ok {
		return 0, points, b.signs, true
	}
	n, dim := len(x), p.dim
	g := p.grid()
	scale = b.scale
	var L, Laux [32]int8
	onGrid := b.onGrid
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
				refBestNeighbour(g, u, xg, b.waux[dim*k:dim*k+dim], thisScale, lg)
			}
		}
		sumqx, sumq2 := oddLevelSums(b.xval[:n], weight[:n], Laux[:n])
		if sumq2 > 0 && float32(sumqx*sumqx) > float32(best*sumq2) {
			scale = sumqx / sumq2
			best = float32(scale * sumqx)
			L, onGrid = Laux, onAux
		}
	}
	scale, points, signs = b.finish(p, weight[:n], scale, L, onGrid)
	return scale, points, signs, false
}

// refBestNeighbour is the straightforward bestNeighbour: iq2_find_best_neighbour / iq3_find_best_neighbour: among
// the neighbours of the off-grid packed index u, the point of least
// Σ w·(scale·q - x)² (the first on ties); L receives its levels.
func refBestNeighbour(g *iqGrid, u int, x, w []float32, scale float32, L []int8) int {
	best, k := float32(math.MaxFloat32), -1
	for _, j := range g.near[u] {
		var d2 float32
		for i, q := range g.point(int(j)) {
			diff := float32(scale*float32(q)) - x[i]
			d2 += float32(float32(w[i]*diff) * diff)
		}
		if d2 < best {
			best, k = d2, int(j)
		}
	}
	for i, q := range g.point(k) {
		L[i] = (q - 1) / 2
	}
	return k
}

// refIQ1MBlock is iq1mBlock as first written (the oracle of the
// optimised one): iq1mBlock is one 16-value block of quantize_row_iq1_m_impl: the scale,
// shift combination and grid points of x with weights w; zero for a block
// quantized to nothing (scale 0, shifts 0).
func refIQ1MBlock(x, w []float32) (scale float32, shifts int, points [4]int, zero bool) {
	const bs = 16
	mx := iq1AbsMax(x)
	if mx < 1e-7 {
		return 0, 0, points, true
	}
	var idx [bs]int
	iq1Order(x, idx[:])
	best := float32(-math.MaxFloat32)
	scale = mx
	b1, b2, bk := -1, -1, -1
	for i1 := 0; i1 <= bs; i1++ {
		for i2 := i1; i2 <= bs; i2++ {
			var sumqx, sumq2 [4]float32
			for j, i := range idx {
				seg := 2
				if j < i1 {
					seg = 0
				} else if j < i2 {
					seg = 1
				}
				for k := range 4 {
					v := iq1mShift(k, i/8)[seg]
					wv := float32(w[i] * v)
					sumqx[k] += float32(wv * x[i])
					sumq2[k] += float32(wv * v)
				}
			}
			for k := range 4 {
				if sumq2[k] > 0 && float32(sumqx[k]*sumqx[k]) > float32(best*sumq2[k]) {
					scale = sumqx[k] / sumq2[k]
					best = float32(scale * sumqx[k])
					b1, b2, bk = i1, i2, k
				}
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
	points, scale = refIQ1Points(x, w, L[:], scale, func(g int) *[3]float32 { return iq1mShift(bk, g) })
	return scale, bk, points, false
}

// refIQ1Neighbour is the straightforward iq1Neighbour: iq1_find_best_neighbour2: among the neighbours of the
// off-grid packed index u, the point of least Σ w·(scale·xx[l] - x)² (the
// first on ties), x the signed values of the group; L receives its levels.
// ggml falls back to an out-of-bounds scan when every distance is NaN or
// above FLT_MAX (overflow on huge inputs); the first neighbour is taken
// then.
func refIQ1Neighbour(g *iqGrid, u int, x, w []float32, scale float32, xx *[3]float32, L []int8) int {
	best, k := float32(math.MaxFloat32), int(g.near[u][0])
	for _, j := range g.near[u] {
		var d2 float32
		for i, q := range g.point(int(j)) {
			diff := float32(scale*xx[(q-1)/2]) - x[i]
			d2 += float32(float32(w[i]*diff) * diff)
		}
		if d2 < best {
			best, k = d2, int(j)
		}
	}
	for i, q := range g.point(k) {
		L[i] = (q - 1) / 2
	}
	return k
}

// refIQ1Points is iq1Points on refIQ1Neighbour: it maps the levels L of a block's groups to grid points (via
// iq1Neighbour where off the grid, with the values x shifted by xxOf(k)
// for group k) and returns them, and the scale refitted on them when a
// group was off the grid (ggml's !all_on_grid pass).
func refIQ1Points(x, w []float32, L []int8, scale float32, xxOf func(k int) *[3]float32) (points [4]int, _ float32) {
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
			p = refIQ1Neighbour(g, u, x[8*k:8*k+8], w[8*k:8*k+8], scale, xxOf(k), L[8*k:8*k+8])
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

// refIQ1SBlock is iq1sBlock on the reference neighbour search: iq1sBlock is one 32-value block of quantize_row_iq1_s_impl: the scale,
// shift (±1) and grid points of x with weights w; zero for a block
// quantized to nothing (ggml's continue, scale 0, shift 1).
func refIQ1SBlock(x, w []float32) (scale float32, shift int, points [4]int, zero bool) {
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
	for i1 := 0; i1 <= bs; i1++ {
		for i2 := i1; i2 <= bs; i2++ {
			a, b, c := sumx[i1]-sumx[0], sumx[i2]-sumx[i1], sumx[bs]-sumx[i2]
			aw, bw, cw := sumw[i1]-sumw[0], sumw[i2]-sumw[i1], sumw[bs]-sumw[i2]
			for _, s := range [2]int{1, -1} {
				xx := &iq1Plus
				if s < 0 {
					xx = &iq1Minus
				}
				sumqx := float32(float32(a*xx[0])+float32(b*xx[1])) + float32(c*xx[2])
				sumq2 := float32(float32(float32(aw*xx[0])*xx[0])+float32(float32(bw*xx[1])*xx[1])) + float32(float32(cw*xx[2])*xx[2])
				if sumq2 > 0 && float32(sumqx*sumqx) > float32(best*sumq2) {
					scale = sumqx / sumq2
					best = float32(scale * sumqx)
					b1, b2, shift = i1, i2, s
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
	points, scale = refIQ1Points(x, w, L[:], scale, func(int) *[3]float32 { return xx })
	return scale, shift, points, false
}
