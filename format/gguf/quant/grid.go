package quant

import (
	"math"
	"math/bits"
	"slices"
	"sync"
)

// The lattice grids of the IQ1, IQ2 and IQ3 types. A grid point is dim
// coordinates 2l+1 (odd levels l in [0, 2^shift)); kgrid (iqgrids.go,
// ggml's data) lists each point as its packed index Σ l_k << (shift·k).
// ggml's iq2xs_init_impl and iq3xs_init_impl build from it the points, a
// map from every packed index to its point (or none), and for each packed
// index off the grid its neighbours: the grid points at the nwant smallest
// squared distances, ordered by distance then point number. The
// quantizers round a group to levels, look the packed index up, and when
// it is off the grid take the neighbour of least weighted error.

// iqGrid is one built grid.
type iqGrid struct {
	dim, shift int
	q          []int8     // the points' coordinates, dim per point
	lv         []uint8    // the points' levels (q-1)/2, dim per point
	index      []int32    // point of each packed index, or -1
	near       [][]uint16 // neighbours of each reachable packed index off the grid
}

// newIQGrid builds the grid of kgrid as ggml's init does, for packed
// indices below mapSize whose levels are all at most maxLevel (the levels
// the quantizers produce; ggml builds the neighbours of every index, but
// only these are ever looked up).
func newIQGrid(kgrid []uint16, dim, shift, mapSize, maxLevel, nwant int) *iqGrid {
	g := &iqGrid{dim: dim, shift: shift, q: make([]int8, dim*len(kgrid)), lv: make([]uint8, dim*len(kgrid)),
		index: make([]int32, mapSize), near: make([][]uint16, mapSize)}
	mask := 1<<shift - 1
	for k, p := range kgrid {
		for i := range dim {
			l := int(p) >> (shift * i) & mask
			g.q[dim*k+i], g.lv[dim*k+i] = int8(2*l+1), uint8(l)
		}
	}
	for i := range g.index {
		g.index[i] = -1
	}
	for k, p := range kgrid {
		g.index[p] = int32(k)
	}
	type cand struct{ d2, j int32 }
	dist := make([]cand, len(kgrid))
	pos := make([]int32, dim)
	for u := range mapSize {
		if g.index[u] >= 0 {
			continue
		}
		reachable := true
		for i := range dim {
			l := u >> (shift * i) & mask
			reachable = reachable && l <= maxLevel
			pos[i] = int32(2*l + 1)
		}
		if !reachable {
			continue
		}
		for j := range kgrid {
			var d2 int32
			for i, p := range pos {
				d := int32(g.q[dim*j+i]) - p
				d2 += d * d
			}
			dist[j] = cand{d2, int32(j)}
		}
		slices.SortFunc(dist, func(a, b cand) int {
			if a.d2 != b.d2 {
				return int(a.d2 - b.d2)
			}
			return int(a.j - b.j)
		})
		var nb []uint16
		d2, have := dist[0].d2, 1
		for _, c := range dist {
			if c.d2 > d2 {
				if have == nwant {
					break
				}
				d2, have = c.d2, have+1
			}
			nb = append(nb, uint16(c.j))
		}
		g.near[u] = nb
	}
	return g
}

// point returns grid point k's coordinates.
func (g *iqGrid) point(k int) []int8 { return g.q[g.dim*k : g.dim*k+g.dim] }

// bestNeighbour is iq2_find_best_neighbour / iq3_find_best_neighbour: among
// the neighbours of the off-grid packed index u, the point of least
// Σ w·(scale·q - x)² (the first on ties); L receives its levels.
//
// Each term w·(scale·q - x)² depends only on the coordinate and its level,
// so the terms of all levels are computed once (as ggml computes each:
// float32 products, never fused) and each neighbour's distance adds its
// dim terms in ggml's order: the same sums from fewer products.
func (g *iqGrid) bestNeighbour(u int, x, w []float32, scale float32, L []int8) int {
	dim, nl := g.dim, 1<<g.shift
	var e [8 * 8]float32 // e[nl·i + l]
	for i := range dim {
		xi, wi := x[i], w[i]
		for l := range nl {
			diff := float32(scale*float32(2*l+1)) - xi
			e[nl*i+l] = float32(float32(wi*diff) * diff)
		}
	}
	best, k := float32(math.MaxFloat32), -1
	for _, j := range g.near[u] {
		lv := g.lv[dim*int(j) : dim*int(j)+dim]
		var d2 float32
		for i, l := range lv {
			d2 += e[nl*i+int(l)]
		}
		if d2 < best {
			best, k = d2, int(j)
		}
	}
	for i, l := range g.lv[dim*k : dim*k+dim] {
		L[i] = int8(l)
	}
	return k
}

// Grids are built on first use.
var (
	iq3xxsGrid = sync.OnceValue(func() *iqGrid { return newIQGrid(iq3xxsKGrid[:], 4, 3, 4096, 7, 2) })
	iq3sGrid   = sync.OnceValue(func() *iqGrid { return newIQGrid(iq3sKGrid[:], 4, 3, 4096, 7, 3) })
)

// ksignsIQ2XS is ggml's ksigns_iq2xs: seven sign bits and, in bit 7, their
// parity (so that each group of eight has an even number of minus signs).
var ksignsIQ2XS = func() (t [128]uint8) {
	for i := range t {
		t[i] = uint8(i) | uint8(bits.OnesCount8(uint8(i))&1)<<7
	}
	return t
}()

// gridSign returns -1 if bit j of signs is set, else 1 (ggml's
// `signs & kmask_iq2xs[j] ? -1.f : 1.f`).
func gridSign(signs uint8, j int) float32 {
	if signs>>j&1 != 0 {
		return -1
	}
	return 1
}
