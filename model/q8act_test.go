package model

import (
	"slices"
	"testing"
)

// TestQuantizeQ8Act checks the activation quantizer on hand-computed
// blocks: d = max|x|/127 (F16), q = round-half-even(x·127/max|x|).
func TestQuantizeQ8Act(t *testing.T) {
	block := func(head ...float32) []float32 { return append(head, make([]float32, q8Values-len(head))...) }
	cases := []struct {
		name  string
		x     []float32
		d     float32
		qHead []int8
	}{
		{"max 127: ties to even", block(127, 2.5, -2.5, 3.5, 0.49), 1, []int8{127, 2, -2, 4, 0}},
		{"max -254: d 2", block(1, -254, 5, 127), 2, []int8{0, -127, 2, 64}}, // 0.5→0, 2.5→2, 63.5→64
		{"zero block", block(0, 0), 0, []int8{0, 0}},                         // id 0, no NaN
		{"F16 scale", block(1, 0.5), 0.007873535, []int8{127, 64}},           // 1/127 in F16; 63.5→64
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, q := make([]float32, 1), make([]int8, q8Values)
			quantizeQ8Act(d, q, c.x)
			if d[0] != c.d || !slices.Equal(q[:len(c.qHead)], c.qHead) {
				t.Errorf("quantizeQ8Act(%v...) = d %v, q %v, want d %v, q %v", c.x[:len(c.qHead)], d[0], q[:len(c.qHead)], c.d, c.qHead)
			}
		})
	}
}
