package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

// diffGroups returns n groups of size values drawn from distributions that
// stress the searches: Gaussian weights at several scales, small-integer
// grids (exact ties between levels), one-sided and constant groups, lone
// spikes and values near GROUP_MAX_EPS.
func diffGroups(n, size int) [][]float32 {
	r := rand.New(rand.NewPCG(7, uint64(size)))
	out := make([][]float32, n)
	for g := range out {
		x := make([]float32, size)
		kind := g % 8
		scale := float32(math.Pow(10, float64(r.IntN(9)-6)))
		for i := range x {
			switch kind {
			case 0, 1:
				x[i] = scale * float32(r.NormFloat64())
			case 2:
				x[i] = float32(r.IntN(17)-8) / 4
			case 3:
				x[i] = scale * float32(r.Float64())
			case 4:
				x[i] = -scale * float32(r.Float64())
			case 5:
				x[i] = scale
			case 6:
				if r.IntN(size) == 0 {
					x[i] = scale * float32(r.NormFloat64()) * 100
				}
			case 7:
				x[i] = float32(r.NormFloat64()) * 1e-15
			}
		}
		out[g] = x
	}
	return out
}

// importance returns imatrix-like weights for x: qw·sqrt(σ² + x²) as the
// weighted quantizers form them, qw drawn from a skewed positive
// distribution (a few columns dominate, as in real imatrices) and some
// zero.
func importance(x []float32) []float32 {
	r := rand.New(rand.NewPCG(uint64(len(x)), math.Float64bits(float64(x[0]))))
	var sumX2 float32
	for _, v := range x {
		sumX2 += float32(v * v)
	}
	sigma2 := sumX2 / float32(len(x))
	w := make([]float32, len(x))
	for i, v := range x {
		if r.IntN(16) == 0 {
			continue
		}
		qw := float32(math.Exp(2 * r.NormFloat64()))
		w[i] = float32(qw * sqrtf(sigma2+float32(v*v)))
	}
	return w
}

// diffCount is the number of groups per search: enough to cross every
// branch of the searches many times, small enough for a quick test (a
// quarter of it with -short).
func diffCount() int {
	if testing.Short() {
		return 5000
	}
	return 20000
}

func TestSearchesMatchReference(t *testing.T) { forEachPath(t, testSearchesMatchReference) }

func testSearchesMatchReference(t *testing.T) {
	for _, size := range []int{16, 32} {
		for _, x := range diffGroups(diffCount(), size) {
			qw := importance(x)
			for _, nmax := range []int32{4, 32} {
				var got, want [32]int8
				for _, w := range [][]float32{nil, qw} {
					gs, ws := makeQXQuants(x, w, nmax, got[:]), refMakeQXQuants(x, w, nmax, want[:])
					if math.Float32bits(gs) != math.Float32bits(ws) || got != want {
						t.Fatalf("makeQXQuants(%v, %v, %d) = %v %v, want %v %v", x, w, nmax, gs, got, ws, want)
					}
				}
				gs, ws := makeQ3Quants(x, nmax, got[:]), refMakeQ3Quants(x, nmax, want[:])
				if math.Float32bits(gs) != math.Float32bits(ws) || got != want {
					t.Fatalf("makeQ3Quants(%v, %d) = %v %v, want %v %v", x, nmax, gs, got, ws, want)
				}
			}
			// Q2_K's weights |x| with mad, Q4_K/Q5_K's avx + |x| with squares.
			var sumX2 float32
			for _, v := range x {
				sumX2 += float32(v * v)
			}
			avX := sqrtf(sumX2 / float32(size))
			wAbs, wAv := make([]float32, size), make([]float32, size)
			for i, v := range x {
				wAbs[i], wAv[i] = abs(v), avX+abs(v)
			}
			for _, p := range []struct {
				w            []float32
				nmax         int32
				rmin, rdelta float32
				nstep        int
				mad          bool
			}{
				{wAbs, 3, -0.5, 0.1, 15, true},
				{wAv, 15, -1, 0.1, 20, false},
				{wAv, 31, -0.5, 0.1, 15, false},
				{qw, 3, -0.9, 0.05, 36, false}, // make_qkx3_quants with an imatrix
				{qw, 15, -0.9, 0.05, 36, false},
				{qw, 31, -0.9, 0.05, 36, false},
			} {
				var got, want, aux [32]uint8
				gs, gm := makeQKX2Quants(x, p.w, p.nmax, got[:], p.rmin, p.rdelta, p.nstep, p.mad)
				ws, wm := refMakeQKX2Quants(x, p.w, p.nmax, want[:], aux[:], p.rmin, p.rdelta, p.nstep, p.mad)
				if math.Float32bits(gs) != math.Float32bits(ws) || math.Float32bits(gm) != math.Float32bits(wm) || got != want {
					t.Fatalf("makeQKX2Quants(%v, nmax %d) = %v %v %v, want %v %v %v", x, p.nmax, gs, gm, got, ws, wm, want)
				}
			}
		}
	}
}

func TestIQ4NLMatchesReference(t *testing.T) { forEachPath(t, testIQ4NLMatchesReference) }

func testIQ4NLMatchesReference(t *testing.T) {
	for _, x := range diffGroups(diffCount(), 32) {
		var got, want [18]byte
		quantizeIQ4_NL(got[:], x)
		refQuantizeIQ4_NL(want[:], x)
		if got != want {
			t.Fatalf("quantizeIQ4_NL(%v) = %x, want %x", x, got, want)
		}
	}
}
