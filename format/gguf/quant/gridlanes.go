package quant

// The neighbour scan of the IQ3 grids (four coordinates, eight levels) in
// SIMD lanes. A neighbour's distance Σ w·(scale·q - x)² adds one term per
// coordinate, and a coordinate's term depends only on its level: the eight
// terms of a coordinate fill one 8-lane register, and a lane looks up the
// term of its neighbour's level there (a permute). Eight neighbours are
// summed at once, each lane adding its four terms in coordinate order as
// the scalar scan does, and the least sum is found by lane (the first on
// ties), so the chosen neighbour is the scalar one.

// laneNeighbours lays out the neighbour lists of a dim-4, 8-level grid for
// nearKernel: per packed index u, ceil(len(near[u])/8) chunks of 32 bytes
// starting at off[u], chunk c holding the levels of neighbours 8c..8c+7 as
// lv[8·i + j] = level of coordinate i of neighbour 8c+j (0 past the end).
type laneNeighbours struct {
	lv  []uint8
	off []int32
}

// newLaneNeighbours builds g's lane layout; nil for other grid shapes.
func newLaneNeighbours(g *iqGrid) *laneNeighbours {
	if g.dim != 4 || g.shift != 3 {
		return nil
	}
	t := &laneNeighbours{off: make([]int32, len(g.near))}
	for u, near := range g.near {
		t.off[u] = int32(len(t.lv))
		for c := 0; c < len(near); c += lanes {
			var chunk [4 * lanes]uint8
			for j, k := range near[c:min(c+lanes, len(near))] {
				for i, l := range g.lv[4*int(k) : 4*int(k)+4] {
					chunk[lanes*i+j] = l
				}
			}
			t.lv = append(t.lv, chunk[:]...)
		}
	}
	return t
}

// bestNeighbourLanes is bestNeighbour on the lane layout t (near non-empty).
func (g *iqGrid) bestNeighbourLanes(t *laneNeighbours, near []uint16, u int, x, w []float32, scale float32, L []int8) int {
	x, w = x[:4], w[:4]
	j := nearKernel(&t.lv[t.off[u]], len(near), &x[0], &w[0], scale)
	k := int(near[j])
	for i, l := range g.lv[4*k : 4*k+4] {
		L[i] = int8(l)
	}
	return k
}
