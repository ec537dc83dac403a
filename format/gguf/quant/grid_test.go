package quant

import (
	"slices"
	"testing"
)

// refNearest is ggml's selection, as iq2xs_init_impl writes it: sort the
// (d2, j) pairs, keep them up to the nwant-th distinct distance.
func refNearest(d2 []int32, nwant int) []uint16 {
	type cand struct{ d2, j int32 }
	c := make([]cand, len(d2))
	for j, d := range d2 {
		c[j] = cand{d, int32(j)}
	}
	slices.SortFunc(c, func(a, b cand) int {
		if a.d2 != b.d2 {
			return int(a.d2 - b.d2)
		}
		return int(a.j - b.j)
	})
	var out []uint16
	d, have := c[0].d2, 1
	for _, x := range c {
		if x.d2 > d {
			if have == nwant {
				break
			}
			d, have = x.d2, have+1
		}
		out = append(out, uint16(x.j))
	}
	return out
}

// TestGridNeighbours checks every built grid against ggml's construction
// redone the slow way (distances to every point, sorted by (distance,
// point), cut after nwant distinct distances) for each reachable packed
// index (every 13th with -short).
func TestGridNeighbours(t *testing.T) {
	for _, tc := range []struct {
		name                            string
		g                               *iqGrid
		kgrid                           []uint16
		mapSize, maxLevel, nwant, shift int
	}{
		{"IQ3_XXS", iq3xxsGrid(), iq3xxsKGrid[:], 4096, 7, 2, 3},
		{"IQ3_S", iq3sGrid(), iq3sKGrid[:], 4096, 7, 3, 3},
		{"IQ2_XXS", iq2xxsGrid(), iq2xxsKGrid[:], 43692, 2, 2, 2},
		{"IQ2_XS", iq2xsGrid(), iq2xsKGrid[:], 43692, 2, 2, 2},
		{"IQ2_S", iq2sGrid(), iq2sKGrid[:], 43692, 2, 1, 2},
		{"IQ1", iq1Grid(), iq1sKGrid[:], 43692, 2, 3, 2},
	} {
		g, dim := tc.g, tc.g.dim
		mask := 1<<tc.shift - 1
		d2 := make([]int32, len(tc.kgrid))
		lists := 0
		for u := range tc.mapSize {
			on := slices.Contains(tc.kgrid, uint16(u))
			if on != (g.index[u] >= 0) {
				t.Fatalf("%s: index %d on the grid: %v, map says %d", tc.name, u, on, g.index[u])
			}
			reachable := true
			for i := range dim {
				reachable = reachable && u>>(tc.shift*i)&mask <= tc.maxLevel
			}
			if on || !reachable || testing.Short() && u%13 != 0 {
				continue
			}
			for j, p := range tc.kgrid {
				var s int32
				for i := range dim {
					d := int32(2*(int(p)>>(tc.shift*i)&mask)) - int32(2*(u>>(tc.shift*i)&mask))
					s += d * d
				}
				d2[j] = s
			}
			if want := refNearest(d2, tc.nwant); !slices.Equal(g.near[u], want) {
				t.Fatalf("%s: neighbours of %d = %v, want %v", tc.name, u, g.near[u], want)
			}
			lists++
		}
		if lists == 0 {
			t.Fatalf("%s: no neighbour lists", tc.name)
		}
	}
}
