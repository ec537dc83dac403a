package quant

// The neighbour scans of the grids in SIMD lanes. A neighbour's distance
// Σ w·(scale·q - x)² adds one term per coordinate, and a coordinate's term
// depends only on its level: the grid's 32 terms e[i<<shift + l] (eoff)
// fill four 8-lane registers, and each lane looks up its neighbour's terms
// there (a permute per coordinate). Eight neighbours are summed at once,
// each lane adding its terms in coordinate order as the scalar scan does,
// and the least sum is found by lane (the first on ties), so the chosen
// neighbour is the scalar one. The IQ3 kernel (dim 4, 8 levels) computes
// the terms itself; the dim-8 kernel (IQ2, IQ1: 4 level slots) is given
// them.

// laneNeighbours lays out the neighbour lists of a grid for the lane
// kernels: per packed index u, ceil(len(near[u])/8) chunks of 8·dim bytes
// starting at off[u], chunk c holding lv[8·i + j] = eoff&7 of coordinate i
// of neighbour 8c+j (the lane of its term in register eoff/8; 0 past the
// end); cnt[u] = len(near[u]).
type laneNeighbours struct {
	lv       []uint8
	off, cnt []int32
}

// newLaneNeighbours builds g's lane layout; nil for grids whose terms do
// not fill 32 slots (dim·2^shift != 32).
func newLaneNeighbours(g *iqGrid) *laneNeighbours {
	if g.dim<<g.shift != 32 {
		return nil
	}
	dim := g.dim
	t := &laneNeighbours{off: make([]int32, len(g.near)), cnt: make([]int32, len(g.near))}
	var chunk [8 * lanes]uint8
	for u, near := range g.near {
		t.off[u], t.cnt[u] = int32(len(t.lv)), int32(len(near))
		for c := 0; c < len(near); c += lanes {
			clear(chunk[:])
			for j, k := range near[c:min(c+lanes, len(near))] {
				for i, o := range g.eoff[dim*int(k) : dim*int(k)+dim] {
					chunk[lanes*i+j] = o & 7
				}
			}
			t.lv = append(t.lv, chunk[:lanes*dim]...)
		}
	}
	return t
}

// chunks returns the lane layout of u's neighbours.
func (t *laneNeighbours) chunks(u int) *uint8 { return &t.lv[t.off[u]] }

// levels sets L to the levels of point k and returns k.
func (g *iqGrid) levels(k int, L []int8) int {
	for i, l := range g.lv[g.dim*k : g.dim*k+g.dim] {
		L[i] = int8(l)
	}
	return k
}

// bestNeighbour4Lanes is bestNeighbour for a dim-4, 8-level grid on its
// lane layout (near non-empty).
func (g *iqGrid) bestNeighbour4Lanes(near []uint16, u int, x, w []float32, scale float32, L []int8) int {
	x, w = x[:4], w[:4]
	return g.levels(int(near[nearKernel(&x[0], &w[0], len(near), g.lanes.chunks(u), scale)]), L)
}

// scanTerms is scanNeighbours over the neighbours of u with the terms e,
// in lanes where the grid has a lane layout.
func (g *iqGrid) scanTerms(u int, e *[64]float32, L []int8) int {
	near := g.near[u]
	if !useLanes || g.lanes == nil || g.dim != 8 {
		return g.scanNeighbours(near, e, L)
	}
	return g.levels(int(near[near8Kernel((*[32]float32)(e[:32]), len(near), g.lanes.chunks(u))]), L)
}
