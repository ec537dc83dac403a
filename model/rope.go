package model

import (
	"fmt"
	"math"
	"sync"

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
//
// Rows are computed for the positions used so far (a 128K context is not
// tabulated up front); rows once computed never change, so concurrent
// Sessions read them without holding the lock.
type ropeTable struct {
	dims, context int
	neox          bool
	step, scale   float32
	factors       []float32

	mu       sync.Mutex
	cos, sin []float32 // (positions computed, dims/2)
}

func newRopeTable(context, dims int, base, scale float64, factors []float32, neox bool) *ropeTable {
	return &ropeTable{dims: dims, context: context, neox: neox, factors: factors,
		step: float32(math.Pow(base, -2/float64(dims))), scale: float32(scale)}
}

// upto returns the rows of positions [0, n), computing missing ones.
func (r *ropeTable) upto(n int) (cos, sin []float32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.dims / 2
	have := len(r.cos) / h
	if have >= n {
		return r.cos, r.sin
	}
	rows := min(r.context, max(n, 2*have, 64))
	c, s := make([]float32, rows*h), make([]float32, rows*h)
	copy(c, r.cos)
	copy(s, r.sin)
	for p := have; p < rows; p++ {
		theta := float32(p)
		for i := range h {
			t := theta
			if r.factors != nil {
				t /= r.factors[i]
			}
			t *= r.scale
			c[p*h+i] = float32(math.Cos(float64(t)))
			s[p*h+i] = float32(math.Sin(float64(t)))
			theta *= r.step
		}
	}
	r.cos, r.sin = c, s
	return c, s
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
	cos, sin := r.upto(pos0 + min(T, N))
	parallelFor(N, 3*heads*r.dims, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			p := pos0 + i%T
			cs, sn := cos[p*h:(p+1)*h], sin[p*h:(p+1)*h]
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
