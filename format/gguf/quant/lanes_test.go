package quant

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// forEachPath runs f with the lane kernels (where this CPU has them) and
// with the pure-Go searches, restoring the selection afterwards.
func forEachPath(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved := useLanes
	defer func() { useLanes = saved }()
	paths := []bool{false}
	if saved {
		paths = append(paths, true)
	}
	for _, lanes := range paths {
		name := "go"
		if lanes {
			name = "lanes"
		}
		useLanes = lanes
		t.Run(name, f)
	}
}

// TestLaneLayout pins the struct offsets that lanes_amd64.s hard-codes.
func TestLaneLayout(t *testing.T) {
	var q qxLanes
	var k kx2Lanes
	var i iq4Lanes
	var g kx2Groups
	var q16 qxGroups
	var t3 iqTrial
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"qxLanes.iscale", unsafe.Offsetof(q.iscale), 0},
		{"qxLanes.lx", unsafe.Offsetof(q.lx), 96},
		{"qxLanes.l2", unsafe.Offsetof(q.l2), 192},
		{"qxLanes.lo", unsafe.Offsetof(q.lo), 288},
		{"qxLanes.hi", unsafe.Offsetof(q.hi), 320},
		{"qxLanes.num", unsafe.Offsetof(q.num), 352},
		{"qxLanes.mx", unsafe.Offsetof(q.mx), 448},
		{"kx2Lanes.L", unsafe.Offsetof(k.L), 0},
		{"kx2Lanes.iscale", unsafe.Offsetof(k.iscale), 1024},
		{"kx2Lanes.scale", unsafe.Offsetof(k.scale), 1056},
		{"kx2Lanes.min", unsafe.Offsetof(k.min), 1088},
		{"kx2Lanes.err", unsafe.Offsetof(k.err), 1120},
		{"kx2Lanes.d", unsafe.Offsetof(k.d), 1152},
		{"kx2Lanes.lo", unsafe.Offsetof(k.lo), 1184},
		{"kx2Lanes.sumW", unsafe.Offsetof(k.sumW), 1188},
		{"kx2Lanes.sumX", unsafe.Offsetof(k.sumX), 1192},
		{"kx2Lanes.nmax", unsafe.Offsetof(k.nmax), 1196},
		{"kx2Lanes.mad", unsafe.Offsetof(k.mad), 1200},
		{"kx2Lanes.rmin", unsafe.Offsetof(k.rmin), 1204},
		{"kx2Lanes.rdelta", unsafe.Offsetof(k.rdelta), 1208},
		{"kx2Lanes.hi", unsafe.Offsetof(k.hi), 1212},
		{"kx2Lanes.is0", unsafe.Offsetof(k.is0), 1216},
		{"kx2Groups.w", unsafe.Offsetof(g.w), 2048},
		{"kx2Groups.L", unsafe.Offsetof(g.L), 4096},
		{"kx2Groups.lo", unsafe.Offsetof(g.lo), 6144},
		{"kx2Groups.hi", unsafe.Offsetof(g.hi), 6208},
		{"kx2Groups.sumW", unsafe.Offsetof(g.sumW), 6272},
		{"kx2Groups.sumX", unsafe.Offsetof(g.sumX), 6336},
		{"kx2Groups.err", unsafe.Offsetof(g.err), 6400},
		{"kx2Groups.scale", unsafe.Offsetof(g.scale), 6464},
		{"kx2Groups.iscale", unsafe.Offsetof(g.iscale), 6528},
		{"kx2Groups.bestLo", unsafe.Offsetof(g.bestLo), 6592},
		{"kx2Groups.nmax", unsafe.Offsetof(g.nmax), 6656},
		{"kx2Groups.mad", unsafe.Offsetof(g.mad), 6688},
		{"kx2Groups.rmin", unsafe.Offsetof(g.rmin), 6692},
		{"kx2Groups.rdelta", unsafe.Offsetof(g.rdelta), 6696},
		{"kx2Groups.nstep", unsafe.Offsetof(g.nstep), 6700},
		{"kx2Groups.wmode", unsafe.Offsetof(g.wmode), 6704},
		{"kx2Groups.lo0", unsafe.Offsetof(g.lo0), 6720},
		{"qxGroups.w", unsafe.Offsetof(q16.w), 2048},
		{"qxGroups.wv", unsafe.Offsetof(q16.wv), 4096},
		{"qxGroups.mx", unsafe.Offsetof(q16.mx), 6144},
		{"qxGroups.scale", unsafe.Offsetof(q16.scale), 6208},
		{"qxGroups.iscale", unsafe.Offsetof(q16.iscale), 6272},
		{"qxGroups.num", unsafe.Offsetof(q16.num), 6336},
		{"qxGroups.lo", unsafe.Offsetof(q16.lo), 6432},
		{"qxGroups.hi", unsafe.Offsetof(q16.hi), 6464},
		{"qxGroups.squares", unsafe.Offsetof(q16.squares), 6496},
		{"qxGroups.amax", unsafe.Offsetof(q16.amax), 6528},
		{"iq4Lanes.id", unsafe.Offsetof(i.id), 0},
		{"iq4Lanes.qx", unsafe.Offsetof(i.qx), 64},
		{"iq4Lanes.q2", unsafe.Offsetof(i.q2), 128},
		{"iq4Lanes.mx", unsafe.Offsetof(i.mx), 192},
		{"iqTrial.waux", unsafe.Offsetof(t3.waux), 128},
		{"iqTrial.wx", unsafe.Offsetof(t3.wx), 256},
		{"iqTrial.w", unsafe.Offsetof(t3.w), 384},
		{"iqTrial.L", unsafe.Offsetof(t3.L), 512},
		{"iqTrial.u", unsafe.Offsetof(t3.u), 640},
		{"iqTrial.id", unsafe.Offsetof(t3.id), 672},
		{"iqTrial.scale", unsafe.Offsetof(t3.scale), 676},
		{"iqTrial.onGrid", unsafe.Offsetof(t3.onGrid), 680},
		{"iqTrial.n", unsafe.Offsetof(t3.n), 684},
		{"iqTrial.index", unsafe.Offsetof(t3.index), 688},
		{"iqTrial.lv", unsafe.Offsetof(t3.lv), 696},
		{"iqTrial.off", unsafe.Offsetof(t3.off), 704},
		{"iqTrial.cnt", unsafe.Offsetof(t3.cnt), 712},
		{"iqTrial.LT", unsafe.Offsetof(t3.LT), 728},
		{"iqTrial.sumqx", unsafe.Offsetof(t3.sumqx), 4824},
		{"iqTrial.sumq2", unsafe.Offsetof(t3.sumq2), 4952},
		{"iqTrial.slot", unsafe.Offsetof(t3.slot), 5080},
	} {
		if c.got != c.want {
			t.Errorf("Offsetof(%s) = %d, want %d", c.name, c.got, c.want)
		}
	}
}

// laneGroups is the number of random groups per search in
// TestLanesMatchGo: a million in a full run, still enough for every branch
// of the kernels under -short.
func laneGroups() int {
	if testing.Short() {
		return 100_000
	}
	return 1_000_000
}

// randomGroup fills x with values from one of several distributions chosen
// by r: Gaussians over 40 decades, integer grids (exact ties), one-sided,
// sparse spikes, and raw float32 bit patterns (finite, below hugeValue).
func randomGroup(r *rand.Rand, x []float32) {
	scale := float32(math.Pow(10, float64(r.IntN(40)-25)))
	kind := r.IntN(7)
	for i := range x {
		switch kind {
		case 0, 1:
			x[i] = scale * float32(r.NormFloat64())
		case 2:
			x[i] = float32(r.IntN(33)-16) / float32(1+r.IntN(4))
		case 3:
			x[i] = scale * float32(r.Float64())
		case 4:
			x[i] = -scale * float32(r.Float64())
		case 5:
			x[i] = 0
			if r.IntN(8) == 0 {
				x[i] = scale * float32(r.NormFloat64())
			}
		case 6:
			for {
				x[i] = math.Float32frombits(r.Uint32())
				if abs(x[i]) < 1e12 {
					break
				}
			}
		}
	}
}

// edgeGroup fills xs as randomGroup does, then makes one group in sixteen
// all zeros, one constant and one small(xs) (the draws from r).
func edgeGroup(r *rand.Rand, xs []float32, small func(xs []float32)) {
	randomGroup(r, xs)
	switch r.IntN(16) {
	case 0:
		clear(xs)
	case 1:
		for i := range xs {
			xs[i] = xs[0]
		}
	case 2:
		small(xs)
	}
}

// kx2Mode is the weights that go with make_qkx2_quants's error measure:
// |x| with mad (Q2_K), sqrt(Σx²/n) + |x| with squares (Q4_K, Q5_K).
func kx2Mode(mad bool) kx2Weights {
	if mad {
		return kx2AbsX
	}
	return kx2AvAbs
}

// TestLanesMatchGo runs every search with the lane kernels and with the Go
// code on the same random groups (a million each, a tenth under -short)
// and requires identical bits.
func TestLanesMatchGo(t *testing.T) {
	if !useLanes {
		t.Skip("no lane kernels on this CPU or build")
	}
	defer func() { useLanes = true }()
	n := laneGroups()
	t.Run("makeQXQuants", func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		var x [16]float32
		for range n {
			randomGroup(r, x[:])
			for _, nmax := range []int32{4, 32} {
				var got, want [16]int8
				for _, qw := range [][]float32{nil, importance(x[:])} {
					useLanes = true
					gs := makeQXQuants(x[:], qw, nmax, got[:])
					useLanes = false
					ws := makeQXQuants(x[:], qw, nmax, want[:])
					if math.Float32bits(gs) != math.Float32bits(ws) || got != want {
						t.Fatalf("makeQXQuants(%v, %v, %d) = %v %v, want %v %v", x, qw, nmax, gs, got, ws, want)
					}
				}
			}
		}
	})
	t.Run("makeQKX2Quants", func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		var x, w [32]float32
		for g := range n {
			size := 16 << (g & 1)
			xs, ws := x[:size], w[:size]
			randomGroup(r, xs)
			mad := g&2 != 0
			kx2Mode(mad).set(ws, xs)
			nmax := []int32{3, 15, 31}[g%3]
			rmin := []float32{-0.5, -1}[g>>2&1]
			nstep := []int{15, 20}[g>>3&1]
			var got, want [32]uint8
			useLanes = true
			gs, gm := makeQKX2Quants(xs, ws, nmax, got[:], rmin, 0.1, nstep, mad)
			useLanes = false
			es, em := makeQKX2Quants(xs, ws, nmax, want[:], rmin, 0.1, nstep, mad)
			if math.Float32bits(gs) != math.Float32bits(es) || math.Float32bits(gm) != math.Float32bits(em) || got != want {
				t.Fatalf("makeQKX2Quants(%v, %v, nmax %d, rmin %v, nstep %d, mad %v) = %v %v %v, want %v %v %v",
					xs, ws, nmax, rmin, nstep, mad, gs, gm, got[:size], es, em, want[:size])
			}
		}
	})
	t.Run("makeQXGroups", func(t *testing.T) {
		// Runs of 9 to 16 groups of 16 values (the group kernel, idle
		// lanes included), with and without importance, against
		// makeQXQuants's Go search group by group; groups below
		// groupMaxEps and flat ones are mixed in.
		r := rand.New(rand.NewPCG(9, 10))
		var x, qw [16 * 16]float32
		for k := range n / 16 {
			groups := 9 + k%8
			for g := range groups {
				xs := x[g*16 : g*16+16]
				edgeGroup(r, xs, func(xs []float32) {
					for i := range xs {
						xs[i] *= 1e-15
					}
				})
				copy(qw[g*16:], importance(xs))
			}
			nmax := []int32{4, 32}[k&1]
			for _, w := range [][]float32{nil, qw[:groups*16]} {
				var gs, gi, es, ei [16]float32
				useLanes = true
				makeQXGroups(x[:groups*16], w, 16, nmax, gs[:groups], gi[:groups])
				useLanes = false
				makeQXGroups(x[:groups*16], w, 16, nmax, es[:groups], ei[:groups])
				for g := range groups {
					if math.Float32bits(gs[g]) != math.Float32bits(es[g]) || math.Float32bits(gi[g]) != math.Float32bits(ei[g]) {
						t.Fatalf("makeQXGroups group %d (%v, weighted %v, nmax %d) = scale %v iscale %v, want %v %v",
							g, x[g*16:g*16+16], w != nil, nmax, gs[g], gi[g], es[g], ei[g])
					}
				}
			}
		}
	})
	t.Run("makeQKX2Groups", func(t *testing.T) {
		// Runs of 9 to 16 groups (the group kernel, idle lanes included) of
		// 16 or 32 values against makeQKX2Quants's Go search, group by
		// group; flat groups (max = min: zeros, constants) and groups of
		// a few subnormals are mixed in.
		r := rand.New(rand.NewPCG(7, 8))
		var x, w [16 * 32]float32
		for k := range n / 16 {
			size, groups := 16<<(k&1), 9+k%8
			mad := k&2 != 0
			for g := range groups {
				xs, ws := x[g*size:g*size+size], w[g*size:g*size+size]
				edgeGroup(r, xs, func(xs []float32) {
					// a range of a few subnormals: infinite inverse scales
					for i := range xs {
						xs[i] = math.Float32frombits(uint32(r.IntN(3)) | uint32(r.IntN(2))<<31)
					}
				})
				kx2Mode(mad).set(ws, xs)
			}
			nmax := []int32{3, 15, 31}[k%3]
			rmin := []float32{-0.5, -1, -0.9}[k>>2%3]
			nstep := []int{15, 20, 36}[k>>3%3]
			xs, ws := x[:groups*size], w[:groups*size]
			var got, want [16 * 32]uint8
			var gs, gm, es, em [16]float32
			var glv, elv [16]kx2Level
			wmode := kx2Given // the weights above, or the kernel's own
			if k&16 != 0 {
				wmode = kx2Mode(mad)
			}
			useLanes = true
			makeQKX2Groups(xs, ws, wmode, size, nmax, rmin, 0.1, nstep, mad, gs[:groups], gm[:groups], glv[:groups])
			useLanes = false
			makeQKX2Groups(xs, ws, wmode, size, nmax, rmin, 0.1, nstep, mad, es[:groups], em[:groups], elv[:groups])
			for g := range groups {
				glv[g].levels(got[g*size:g*size+size], xs[g*size:g*size+size], nmax)
				elv[g].levels(want[g*size:g*size+size], xs[g*size:g*size+size], nmax)
				if math.Float32bits(gs[g]) != math.Float32bits(es[g]) || math.Float32bits(gm[g]) != math.Float32bits(em[g]) ||
					!bytes.Equal(got[g*size:g*size+size], want[g*size:g*size+size]) {
					t.Fatalf("makeQKX2Groups group %d (%v, %v, nmax %d, rmin %v, nstep %d, mad %v) = %v %v %v, want %v %v %v",
						g, xs[g*size:g*size+size], ws[g*size:g*size+size], nmax, rmin, nstep, mad,
						gs[g], gm[g], got[g*size:g*size+size], es[g], em[g], want[g*size:g*size+size])
				}
			}
		}
	})
	t.Run("requantLevels", func(t *testing.T) {
		// Q2_K, Q4_K, Q5_K and Q6_K's settings on random groups, with d and
		// dm from the group's range (exact ties among integer grids) or
		// far smaller (quotients past nearest_int's exact range).
		r := rand.New(rand.NewPCG(11, 12))
		var x [32]float32
		for k := range n {
			randomGroup(r, x[:])
			size := 16 << (k & 1)
			p := []struct{ lo, hi, add int32 }{{0, 3, 0}, {0, 15, 0}, {0, 31, 0}, {-32, 31, 32}}[k>>1&3]
			lo, hi := minMax(x[:size])
			d := (hi - lo) / float32(p.hi-p.lo)
			var dm float32
			if p.add == 0 {
				dm = -lo
			}
			if k&8 != 0 {
				d *= float32(math.Pow(10, float64(-r.IntN(30))))
			}
			if d == 0 {
				d = 1
			}
			var got, want [32]uint8
			useLanes = true
			requantLevels(got[:size], x[:size], dm, d, p.lo, p.hi, p.add)
			useLanes = false
			requantLevels(want[:size], x[:size], dm, d, p.lo, p.hi, p.add)
			if got != want {
				t.Fatalf("requantLevels(%v, dm %v, d %v, %v) = %v, want %v", x[:size], dm, d, p, got[:size], want[:size])
			}
		}
	})
	t.Run("quantizeIQ4_NL", func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		var x [32]float32
		for range n {
			randomGroup(r, x[:])
			var got, want [18]byte
			useLanes = true
			quantizeIQ4_NL(got[:], x[:])
			useLanes = false
			quantizeIQ4_NL(want[:], x[:])
			if got != want {
				t.Fatalf("quantizeIQ4_NL(%v) = %x, want %x", x, got, want)
			}
		}
	})
}
