package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refMinMax is ggml's FLT_MAX-seeded min/max loop of quantize_row_q4_1_ref.
func refMinMax(x []float32) (lo, hi float32) {
	lo, hi = math.MaxFloat32, -math.MaxFloat32
	for _, v := range x {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return lo, hi
}

// refMinMaxSeeded is make_qkx2_quants's min (or max) loop, seeded with x[0].
func refMinMaxSeeded(x []float32, wantMin bool) float32 {
	m := x[0]
	for _, v := range x[1:] {
		if wantMin && v < m || !wantMin && v > m {
			m = v
		}
	}
	return m
}

// refSignedMax is ggml's amax/max loop of quantize_row_q4_0_ref.
func refSignedMax(x []float32) float32 {
	var amax, mx float32
	for _, v := range x {
		if a := abs(v); amax < a {
			amax, mx = a, v
		}
	}
	return mx
}

// TestLegacyExtrema checks the branch-free extrema of the legacy
// quantizers against ggml's loops bit for bit, on blocks full of ±0, ties
// and values of both signs, where the sign of a zero result matters (it is
// stored in the block).
func TestLegacyExtrema(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	pool := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.5, -0.5, 3e-41, -3e-41, 65504, -65504}
	for range 200000 {
		var x [32]float32
		k := 2 + r.IntN(len(pool)-1) // draw from the first k: all zeros when 2
		for i := range x {
			x[i] = pool[r.IntN(k)]
		}
		lo, hi := minMax(x[:])
		wlo, whi := refMinMax(x[:])
		if math.Float32bits(lo) != math.Float32bits(wlo) || math.Float32bits(hi) != math.Float32bits(whi) {
			t.Fatalf("minMax(%v) = %v, %v, want %v, %v", x, lo, hi, wlo, whi)
		}
		if lo, hi := minMax(x[:16]); math.Float32bits(lo) != math.Float32bits(refMinMaxSeeded(x[:16], true)) || math.Float32bits(hi) != math.Float32bits(refMinMaxSeeded(x[:16], false)) {
			t.Fatalf("minMax(%v) = %v, %v, want make_qkx2_quants's", x[:16], lo, hi)
		}
		bits, _ := absMaxBits(&x)
		if got, want := signedMax(&x, bits), refSignedMax(x[:]); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("signedMax(%v) = %v, want %v", x, got, want)
		}
	}
}
