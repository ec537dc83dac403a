package quant

import (
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
			var sumX2 float32
			for _, v := range xs {
				sumX2 += float32(v * v)
			}
			avX := sqrtf(sumX2 / float32(size))
			for i, v := range xs {
				if mad {
					ws[i] = abs(v)
				} else {
					ws[i] = avX + abs(v)
				}
			}
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
