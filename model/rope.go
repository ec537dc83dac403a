package model

import "math"

// ropeTable holds the rotations of rotary position embedding as llama.cpp
// applies it for rope type NORM (Llama on GGUF-layout weights): within each
// head, the adjacent pairs (x[2i], x[2i+1]) of the first dims values turn by
// θ = pos · base^(−2i/dims).
type ropeTable struct {
	dims     int
	cos, sin []float32 // (Context, dims/2)
}

func newRopeTable(context, dims int, base float64) *ropeTable {
	h := dims / 2
	r := &ropeTable{dims: dims, cos: make([]float32, context*h), sin: make([]float32, context*h)}
	for p := range context {
		for i := range h {
			theta := float64(p) * math.Pow(base, -2*float64(i)/float64(dims))
			r.cos[p*h+i] = float32(math.Cos(theta))
			r.sin[p*h+i] = float32(math.Sin(theta))
		}
	}
	return r
}

// rotate turns every head of x in place; row i sits at position
// pos0 + i%T. inverse turns by −θ: the backward pass, since a rotation's
// gradient is its transpose.
//
//	x (N, ld) holding heads·hd values per row -> x rotated
func (r *ropeTable) rotate(x []float32, ld, N, T, pos0, heads, hd int, inverse bool) {
	h := r.dims / 2
	parallelFor(N, 3*heads*r.dims, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			p := pos0 + i%T
			cs, sn := r.cos[p*h:(p+1)*h], r.sin[p*h:(p+1)*h]
			row := x[i*ld:]
			for hh := range heads {
				v := row[hh*hd : hh*hd+r.dims]
				for j := range h {
					c, s := cs[j], sn[j]
					if inverse {
						s = -s
					}
					a, b := v[2*j], v[2*j+1]
					v[2*j] = a*c - b*s
					v[2*j+1] = a*s + b*c
				}
			}
		}
	})
}
