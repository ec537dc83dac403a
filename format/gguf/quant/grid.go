package quant

import (
	"math"
	"math/bits"
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
	q          []int8          // the points' coordinates, dim per point
	lv         []uint8         // the points' levels (q-1)/2, dim per point
	eoff       []uint8         // 2^shift·i + level of each coordinate i, dim per point
	index      []int32         // point of each packed index, or -1
	near       [][]uint16      // neighbours of each reachable packed index off the grid
	lanes      *laneNeighbours // near laid out for the lane kernels (gridlanes.go), or nil
}

// newIQGrid builds the grid of kgrid as ggml's init does, for packed
// indices below mapSize whose levels are all at most maxLevel (the levels
// the quantizers produce; ggml builds the neighbours of every index, but
// only these are ever looked up).
func newIQGrid(kgrid []uint16, dim, shift, mapSize, maxLevel, nwant int) *iqGrid {
	g := &iqGrid{dim: dim, shift: shift, q: make([]int8, dim*len(kgrid)), lv: make([]uint8, dim*len(kgrid)),
		eoff: make([]uint8, dim*len(kgrid)), index: make([]int32, mapSize), near: make([][]uint16, mapSize)}
	mask := 1<<shift - 1
	for k, p := range kgrid {
		for i := range dim {
			l := int(p) >> (shift * i) & mask
			g.q[dim*k+i], g.lv[dim*k+i], g.eoff[dim*k+i] = int8(2*l+1), uint8(l), uint8(i<<shift+l)
		}
	}
	for i := range g.index {
		g.index[i] = -1
	}
	for k, p := range kgrid {
		g.index[p] = int32(k)
	}
	d2s := make([]int32, len(kgrid))
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
			d2s[j] = d2
		}
		g.near[u] = nearest(d2s, nwant)
	}
	g.lanes = newLaneNeighbours(g)
	return g
}

// nearest returns the points of the nwant smallest distinct values of d2
// ordered by (d2, point), as ggml's sort of (d2, point) pairs and cut
// after the nwant-th distinct distance gives them.
func nearest(d2 []int32, nwant int) []uint16 {
	var lv [3]int32 // the nwant smallest distinct distances, ascending
	n := 0
	for _, d := range d2 {
		k := 0
		for k < n && lv[k] < d {
			k++
		}
		if k < n && lv[k] == d || k == nwant {
			continue
		}
		copy(lv[k+1:min(n+1, nwant)], lv[k:])
		lv[k] = d
		n = min(n+1, nwant)
	}
	var out []uint16
	for _, d := range lv[:n] {
		for j, v := range d2 {
			if v == d {
				out = append(out, uint16(j))
			}
		}
	}
	return out
}

// point returns grid point k's coordinates.
func (g *iqGrid) point(k int) []int8 { return g.q[g.dim*k : g.dim*k+g.dim] }

// bestNeighbour is iq2_find_best_neighbour / iq3_find_best_neighbour: among
// the neighbours of the off-grid packed index u, the point of least
// Σ w·(scale·q - x)² (the first on ties); L receives its levels.
//
// noNeighbour: where every distance overflows float32 (huge values times
// huge importance), ggml finds no neighbour and aborts (GGML_ASSERT); the
// first neighbour is taken instead, and the block's scale then usually
// overflows too, which Quantize reports.
//
// Each term w·(scale·q - x)² depends only on the coordinate and its level:
// for neighbour lists longer than the number of levels the terms of all
// levels are computed once (as ggml computes each: float32 products, never
// fused) and each neighbour's distance adds its dim terms in ggml's order;
// shorter lists compute their terms directly. Both give ggml's sums, and so
// do the lane kernels (gridlanes.go) that replace both where useLanes.
func (g *iqGrid) bestNeighbour(u int, x, w []float32, scale float32, L []int8) int {
	dim, nl := g.dim, 1<<g.shift
	near := g.near[u]
	if useLanes && g.lanes != nil && dim == 4 {
		return g.bestNeighbour4Lanes(near, u, x, w, scale, L)
	}
	if len(near) <= nl {
		return g.bestNeighbourDirect(near, x, w, scale, L)
	}
	var e [64]float32 // e[nl·i + l], indexed by eoff & 63 (no bounds check)
	for i := range dim {
		xi, wi := x[i], w[i]
		for l := range nl {
			diff := float32(scale*float32(2*l+1)) - xi
			e[nl*i+l] = float32(float32(wi*diff) * diff)
		}
	}
	return g.scanTerms(u, &e, L)
}

// scanNeighbours returns the neighbour in near of least distance (the first
// on ties; the first neighbour where none is below float32's maximum: see
// noNeighbour), a neighbour's distance being the sum, in coordinate order,
// of its terms e[eoff & 63]; L receives its levels. Four neighbours' sums
// run at a time as independent chains.
func (g *iqGrid) scanNeighbours(near []uint16, e *[64]float32, L []int8) int {
	dim := g.dim
	best, k := float32(math.MaxFloat32), int(near[0]) // see noNeighbour
	consider := func(d2 float32, j uint16) {
		if d2 < best {
			best, k = d2, int(j)
		}
	}
	n := len(near)
	j := 0
	for ; j+4 <= n; j += 4 {
		a := g.eoff[dim*int(near[j]):][:dim]
		b := g.eoff[dim*int(near[j+1]):][:dim]
		c := g.eoff[dim*int(near[j+2]):][:dim]
		d := g.eoff[dim*int(near[j+3]):][:dim]
		var s0, s1, s2, s3 float32
		for i := range dim {
			s0 += e[a[i]&63]
			s1 += e[b[i]&63]
			s2 += e[c[i]&63]
			s3 += e[d[i]&63]
		}
		consider(s0, near[j])
		consider(s1, near[j+1])
		consider(s2, near[j+2])
		consider(s3, near[j+3])
	}
	for ; j < n; j++ {
		var s0 float32
		for _, o := range g.eoff[dim*int(near[j]):][:dim] {
			s0 += e[o&63]
		}
		consider(s0, near[j])
	}
	for i, l := range g.lv[dim*k : dim*k+dim] {
		L[i] = int8(l)
	}
	return k
}

// bestNeighbourDirect is bestNeighbour computing each neighbour's terms.
func (g *iqGrid) bestNeighbourDirect(near []uint16, x, w []float32, scale float32, L []int8) int {
	dim := g.dim
	x, w = x[:dim], w[:dim]
	best, k := float32(math.MaxFloat32), int(near[0]) // see noNeighbour
	if dim == 4 {                                     // the IQ3 grids, unrolled
		x4, w4 := (*[4]float32)(x), (*[4]float32)(w)
		for _, j := range near {
			q := (*[4]int8)(g.q[4*int(j):])
			e0 := float32(scale*float32(q[0])) - x4[0]
			e1 := float32(scale*float32(q[1])) - x4[1]
			e2 := float32(scale*float32(q[2])) - x4[2]
			e3 := float32(scale*float32(q[3])) - x4[3]
			var d2 float32
			d2 += float32(float32(w4[0]*e0) * e0)
			d2 += float32(float32(w4[1]*e1) * e1)
			d2 += float32(float32(w4[2]*e2) * e2)
			d2 += float32(float32(w4[3]*e3) * e3)
			if d2 < best {
				best, k = d2, int(j)
			}
		}
		for i, l := range g.lv[4*k : 4*k+4] {
			L[i] = int8(l)
		}
		return k
	}
	for _, j := range near {
		var d2 float32
		for i, q := range g.q[dim*int(j) : dim*int(j)+dim] {
			diff := float32(scale*float32(q)) - x[i]
			d2 += float32(float32(w[i]*diff) * diff)
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
