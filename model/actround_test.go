package model

import (
	"slices"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// TestActRounding checks the activation rounding on hand-computed blocks:
// Q8_0 d = F16(max|x|/127), q = round-half-even(x·127/max|x|); Q8_K with
// the signed largest value m, q = min(127, round(−127/m·x)), x' = q/(−127/m).
func TestActRounding(t *testing.T) {
	pad := func(n int, head ...float32) []float32 { return append(head, make([]float32, n-len(head))...) }
	cases := []struct {
		name string
		dt   format.DType
		x    []float32
		want []float32 // head of the rounded row
	}{
		{"Q8_0 max 127: ties to even", format.Q8_0, pad(32, 127, 2.5, -2.5, 3.5, 0.49), []float32{127, 2, -2, 4, 0}},
		{"Q8_0 max 254: d 2", format.Q8_0, pad(32, 1, -254, 5, 127), []float32{0, -254, 4, 128}},
		{"Q8_0 zero block", format.Q4_0, pad(32, 0, 0), []float32{0, 0}},
		// d = F16(1/127) = 0.00787353515625; 0.5·127 = 63.5 → 64
		{"Q8_0 F16 scale", format.Q5_0, pad(32, 1, 0.5), []float32{127 * 0.00787353515625, 64 * 0.00787353515625}},
		// m = −254: s = 0.5, q = round-half-even(0.5·x), x' = 2q
		{"Q8_K negative max", format.Q4_K, pad(256, -254, 3, 1, 100, 254), []float32{-254, 4, 0, 100, 254}},
		{"F16", format.F16, []float32{1 + 1.0/4096}, []float32{1}},
		{"BF16", format.BF16, []float32{1 + 1.0/256}, []float32{1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := make([]float32, len(c.x))
			actRoundingFor(c.dt).round(got, c.x, make([]float32, len(c.x)/32+1), len(c.x))
			if !slices.Equal(got[:len(c.want)], c.want) {
				t.Errorf("round(%v...) = %v, want %v", c.x[:len(c.want)], got[:len(c.want)], c.want)
			}
		})
	}
	// Q8_1: s = F16(d·Σq) with d = max/127 unrounded; corr = s − F16(d)·Σq.
	x := pad(32, 1, 1, 1) // d = 1/127, Σq = 381, d·Σq = 3 exactly; F16(d)·Σq = 2.99981689453125
	corr := make([]float32, 1)
	actRoundingFor(format.Q4_1).round(make([]float32, 32), x, corr, 32)
	if want := float32(3 - 2.99981689453125); corr[0] != want {
		t.Errorf("Q8_1 correction = %v, want %v", corr[0], want)
	}
}
