package quant

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// TestNeighbourLanes checks the lane scans against the scalar ones for
// every off-grid packed index of the IQ3, IQ2 and IQ1 grids (every 7th,
// for IQ2 and IQ1 every 5th, with -short: 1/35th, 1/25th), on
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
		x, w  func() [8]float32
		scale float32
	}{
		{"random", func() [8]float32 { return randGroup(r, 1) }, func() [8]float32 { return randGroup(r, 1) }, 0.07},
		{"zero weights", func() [8]float32 { return randGroup(r, 1) }, func() [8]float32 { return [8]float32{} }, 0.1},
		{"negative zero weights", func() [8]float32 { return randGroup(r, 1) }, func() [8]float32 { return [8]float32{negZero, negZero, 1, negZero, 1, negZero, negZero, 2} }, 0.1},
		{"overflow", func() [8]float32 { return randGroup(r, 1e30) }, func() [8]float32 { return randGroup(r, 1e30) }, 1e30},
		{"NaN", func() [8]float32 { return [8]float32{nan, 1, 2, 3, 4, 5, 6, 7} }, func() [8]float32 { return randGroup(r, 1) }, 0.2},
		{"ties", func() [8]float32 { return [8]float32{0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8} }, func() [8]float32 { return [8]float32{1, 1, 1, 1, 1, 1, 1, 1} }, 0.2},
	}
	xx := iq1Plus
	iq1 := iq1Grid()
	for _, g := range []*iqGrid{iq3xxsGrid(), iq3sGrid(), iq2xxsGrid(), iq2xsGrid(), iq2sGrid(), iq1} {
		step := 1
		if g.dim == 8 {
			step = 5
		}
		if testing.Short() {
			step *= 7
		}
		for u := 0; u < len(g.near); u += step {
			if g.near[u] == nil {
				continue
			}
			for _, c := range cases {
				x, w := c.x(), c.w()
				search := func(lanes bool) (k int, L [8]int8) {
					useLanes = lanes
					if g == iq1 {
						return iq1Neighbour(g, u, x[:], w[:], c.scale, &xx, L[:]), L
					}
					return g.bestNeighbour(u, x[:], w[:], c.scale, L[:]), L
				}
				got, gotL := search(true)
				want, wantL := search(false)
				if got != want || gotL != wantL {
					t.Fatalf("%s: u=%d x=%v w=%v scale=%v: lanes %d %v, scalar %d %v", c.name, u, x, w, c.scale, got, gotL, want, wantL)
				}
			}
		}
	}
}

// randGroup returns eight values |N(0,1)|·m.
func randGroup(r *rand.Rand, m float32) (g [8]float32) {
	for i := range g {
		g[i] = float32(math.Abs(r.NormFloat64())) * m
	}
	return g
}

// FuzzIQSearchLanes checks the lane kernels against the pure-Go search on
// arbitrary blocks: finite values x and finite non-negative weights w (the
// inputs iqBlock can get), for each IQ2/IQ3 search.
func FuzzIQSearchLanes(f *testing.F) {
	if !useLanes {
		f.Skip("no lane kernels on this CPU")
	}
	f.Add(uint8(0), make([]byte, 4*32), make([]byte, 4*32))
	f.Add(uint8(1), []byte{1, 0, 0, 0, 0, 0, 0x80, 0x3f}, []byte{0, 0, 0x80, 0x3f}) // subnormal max
	f.Add(uint8(3), []byte{0xff, 0xff, 0x7f, 0x7f, 0, 0, 0x80, 0x3f}, []byte{0xff, 0xff, 0x7f, 0x7f})
	params := []struct {
		p    *iqParams
		size int
	}{{&iq3xxsParams, 32}, {&iq3sParams, 32}, {&iq2xxsParams, 32}, {&iq2xsParams, 16}, {&iq2sParams, 16}}
	f.Fuzz(func(t *testing.T, sel uint8, data, wts []byte) {
		c := params[int(sel)%len(params)]
		x, w := make([]float32, c.size), make([]float32, c.size)
		for i := range c.size {
			if 4*i+4 <= len(data) {
				x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
			}
			if 4*i+4 <= len(wts) {
				w[i] = float32(math.Abs(float64(math.Float32frombits(binary.LittleEndian.Uint32(wts[4*i:])))))
			}
			if !finite(x[i]) || !finite(w[i]) {
				return
			}
		}
		defer func() { useLanes = true }()
		useLanes = true
		s, p, sg, z := iqBlock(x, w, c.p)
		useLanes = false
		rs, rp, rsg, rz := iqBlock(x, w, c.p)
		if math.Float32bits(s) != math.Float32bits(rs) || p != rp || sg != rsg || z != rz {
			t.Fatalf("iqBlock(%v, %v): lanes %v %v %v %v, go %v %v %v %v", x, w, s, p, sg, z, rs, rp, rsg, rz)
		}
	})
}
