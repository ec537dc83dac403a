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

func TestIQSearchesMatchReference(t *testing.T) { forEachPath(t, testIQSearchesMatchReference) }

// testIQSearchesMatchReference runs the optimised IQ block searches and
// their straightforward ports (iqsearch_ref_test.go) on the same groups,
// with importance-derived and default weights.
func testIQSearchesMatchReference(t *testing.T) {
	n := diffCount() / 8 // the IQ searches cost about a hundred K-quant groups each
	for _, tc := range []struct {
		name string
		p    *iqParams
		size int
	}{
		{"IQ3_XXS", &iq3xxsParams, 32}, {"IQ3_S", &iq3sParams, 32}, {"IQ2_XXS", &iq2xxsParams, 32},
		{"IQ2_XS", &iq2xsParams, 16}, {"IQ2_S", &iq2sParams, 16},
	} {
		for _, x := range diffGroups(n, tc.size) {
			x2 := make([]float32, len(x))
			for i, v := range x {
				x2[i] = float32(v * v)
			}
			for _, w := range [][]float32{importance(x), x2} {
				s, p, sg, z := iqBlock(x, w, tc.p)
				rs, rp, rsg, rz := refIQBlock(x, w, tc.p)
				if math.Float32bits(s) != math.Float32bits(rs) || p != rp || sg != rsg || z != rz {
					t.Fatalf("%s: iqBlock(%v, %v) = %v %v %v %v, want %v %v %v %v", tc.name, x, w, s, p, sg, z, rs, rp, rsg, rz)
				}
			}
		}
	}
	for _, x := range append(diffGroups(n, 16), diffGroups(n, 32)...) {
		x2 := make([]float32, len(x))
		for i, v := range x {
			x2[i] = float32(v * v)
		}
		for _, w := range [][]float32{importance(x), x2} {
			if len(x) == 32 {
				s, k, p, z := iq1sBlock(x, w)
				rs, rk, rp, rz := refIQ1SBlock(x, w)
				if math.Float32bits(s) != math.Float32bits(rs) || k != rk || p != rp || z != rz {
					t.Fatalf("IQ1_S: iq1sBlock(%v, %v) = %v %v %v %v, want %v %v %v %v", x, w, s, k, p, z, rs, rk, rp, rz)
				}
				continue
			}
			s, k, p, z := iq1mBlock(x, w)
			rs, rk, rp, rz := refIQ1MBlock(x, w)
			if math.Float32bits(s) != math.Float32bits(rs) || k != rk || p != rp || z != rz {
				t.Fatalf("IQ1_M: iq1mBlock(%v, %v) = %v %v %v %v, want %v %v %v %v", x, w, s, k, p, z, rs, rk, rp, rz)
			}
		}
	}
}
