package quant

import (
	"math"
	"testing"
)

// bestIndexRef is ggml's best_index_int8 written literally: a binary search
// comparing 2x with the float sums of neighbouring levels.
func bestIndexRef(x float32) int {
	x2 := x + x
	idx := 0
	for step := 8; step > 0; step >>= 1 {
		j := idx + step
		if x2 >= float32(int32(kvaluesIQ4NL[j-1])+int32(kvaluesIQ4NL[j])) {
			idx = j
		}
	}
	return idx
}

// TestBestIndexIQ4 checks the table lookup against the literal search at
// every midpoint and its float32 neighbours, across the whole range in fine
// steps, and at the extremes and NaN.
func TestBestIndexIQ4(t *testing.T) {
	var xs []float32
	for _, m := range iq4Midpoints[1:] {
		h := float32(m) / 2
		xs = append(xs, h, math.Nextafter32(h, -1e9), math.Nextafter32(h, 1e9))
	}
	for x := float32(-130); x <= 130; x += 1.0 / 64 {
		xs = append(xs, x)
	}
	xs = append(xs, 0, float32(math.Copysign(0, -1)), -1e30, 1e30, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-45, -1e-45)
	for e := -149; e <= 8; e++ { // powers of two and their neighbours, both signs
		p := float32(math.Ldexp(1, e))
		for _, v := range []float32{p, math.Nextafter32(p, 0), math.Nextafter32(p, 1e9)} {
			xs = append(xs, v, -v, v-1, 1-v)
		}
	}
	bad := 0
	for _, x := range xs {
		if got, want := bestIndexIQ4(x), bestIndexRef(x); got != want {
			t.Errorf("bestIndexIQ4(%v) = %d, want %d", x, got, want)
			if bad++; bad == 10 {
				t.Fatal("too many errors")
			}
		}
	}
}
