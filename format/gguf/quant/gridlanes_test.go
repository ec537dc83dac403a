package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestNeighbourLanes checks the lane scan against the scalar one for every
// off-grid packed index of the IQ3 grids (every 7th with -short), on
// random groups and on the edge cases of the scan: all distances equal
// (zero weights: the first neighbour), distances that overflow to +Inf or
// are NaN (none below float32's maximum: the first neighbour), exact ties
// between neighbours (symmetric groups), negative zero weights.
func TestNeighbourLanes(t *testing.T) {
	if !useLanes {
		t.Skip("no lane kernels on this CPU")
	}
	defer func() { useLanes = true }()
	r := rand.New(rand.NewPCG(5, 6))
	nan, negZero := float32(math.NaN()), float32(math.Copysign(0, -1))
	cases := []struct {
		name  string
		x, w  func() [4]float32
		scale float32
	}{
		{"random", func() [4]float32 { return randGroup(r, 1) }, func() [4]float32 { return randGroup(r, 1) }, 0.07},
		{"zero weights", func() [4]float32 { return randGroup(r, 1) }, func() [4]float32 { return [4]float32{} }, 0.1},
		{"negative zero weights", func() [4]float32 { return randGroup(r, 1) }, func() [4]float32 { return [4]float32{negZero, negZero, 1, negZero} }, 0.1},
		{"overflow", func() [4]float32 { return randGroup(r, 1e30) }, func() [4]float32 { return randGroup(r, 1e30) }, 1e30},
		{"NaN", func() [4]float32 { return [4]float32{nan, 1, 2, 3} }, func() [4]float32 { return randGroup(r, 1) }, 0.2},
		{"ties", func() [4]float32 { return [4]float32{0.8, 0.8, 0.8, 0.8} }, func() [4]float32 { return [4]float32{1, 1, 1, 1} }, 0.2},
	}
	step := 1
	if testing.Short() {
		step = 7
	}
	for _, g := range []*iqGrid{iq3xxsGrid(), iq3sGrid()} {
		for u := 0; u < len(g.near); u += step {
			if g.near[u] == nil {
				continue
			}
			for _, c := range cases {
				x, w := c.x(), c.w()
				var gotL, wantL [4]int8
				useLanes = true
				got := g.bestNeighbour(u, x[:], w[:], c.scale, gotL[:])
				useLanes = false
				want := g.bestNeighbour(u, x[:], w[:], c.scale, wantL[:])
				if got != want || gotL != wantL {
					t.Fatalf("%s: u=%d x=%v w=%v scale=%v: lanes %d %v, scalar %d %v", c.name, u, x, w, c.scale, got, gotL, want, wantL)
				}
			}
		}
	}
}

// randGroup returns four values |N(0,1)|·m.
func randGroup(r *rand.Rand, m float32) (g [4]float32) {
	for i := range g {
		g[i] = float32(math.Abs(r.NormFloat64())) * m
	}
	return g
}
