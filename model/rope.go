package model

import (
	"fmt"
	"math"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
)

// ropeTable holds the rotations of rotary position embedding as ggml's
// CPU rope computes them (ggml_rope_cache_init): for pair i of the first
// dims values of a head at position p, θ = p·scale·base^(−2i/dims) / f_i,
// with the power taken by repeated float32 multiplication by
// powf(base, −2/dims) as ggml does, and f_i the rope_freqs factors (1
// without). Layout NORM pairs adjacent values (2i, 2i+1); NEOX pairs the
// halves (i, i+dims/2).
type ropeTable struct {
	dims     int
	neox     bool
	cos, sin []float32 // (Context, dims/2)
}

func newRopeTable(context, dims int, base, scale float64, factors []float32, neox bool) *ropeTable {
	h := dims / 2
	r := &ropeTable{dims: dims, neox: neox, cos: make([]float32, context*h), sin: make([]float32, context*h)}
	step := float32(math.Pow(base, -2/float64(dims)))
	for p := range context {
		theta := float32(p)
		for i := range h {
			t := theta
			if factors != nil {
				t /= factors[i]
			}
			t *= float32(scale)
			r.cos[p*h+i] = float32(math.Cos(float64(t)))
			r.sin[p*h+i] = float32(math.Sin(float64(t)))
			theta *= step
		}
	}
	return r
}

// buildRope gives every block its rotation table: one per distinct RoPE
// base (Gemma 3's sliding-window layers have their own).
func (m *Model) buildRope() error {
	c := m.Config
	if c.Recipe.Rope == arch.RopeNone {
		return nil
	}
	for _, f := range m.ropeFreqs {
		if !(f > 0) || math.IsInf(float64(f), 0) {
			return fmt.Errorf("model: tensor \"rope_freqs.weight\": factor %v: %w", f, format.ErrFormat)
		}
	}
	tables := map[float64]*ropeTable{}
	for l := range m.blocks {
		base := c.RopeBase
		if m.blocks[l].swa {
			base = c.RopeBaseSWA
		}
		if tables[base] == nil {
			tables[base] = newRopeTable(c.Context, c.RopeDims, base, c.RopeScale, m.ropeFreqs, c.Recipe.Rope == arch.RopeNeox)
		}
		m.blocks[l].rope = tables[base]
	}
	return nil
}

// rotate turns every head of x in place; row i sits at position
// pos0 + i%T. inverse turns by −θ: the backward pass, since a rotation's
// gradient is its transpose.
//
//	x (N, ld) holding heads·hd values per row -> x rotated
func (r *ropeTable) rotate(x []float32, ld, N, T, pos0, heads, hd int, inverse bool) {
	h := r.dims / 2
	// NORM pairs (2j, 2j+1); NEOX pairs (j, j+h)
	stride, span := 2, 1
	if r.neox {
		stride, span = 1, h
	}
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
					a, b := v[stride*j], v[stride*j+span]
					v[stride*j] = a*c - b*s
					v[stride*j+span] = a*s + b*c
				}
			}
		}
	})
}
