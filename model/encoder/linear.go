package encoder

// Linear is one projection y = x·Wᵀ + b of the encoder, named by its GGUF
// module name ("blk.0.attn_q", "cls.output"), with an optional LoRA update
//
//	y += s · (x·Aᵀ)·Bᵀ
//
// W and b are float32 (as stored); arithmetic is float64. DW and DB are
// the full gradients of a trainable linear (a modules_to_save head), nil
// when W is frozen.
type Linear struct {
	Name    string
	Out, In int
	W, B    []float32 // (Out,In), (Out) or nil
	DW, DB  []float32
	LoRA    *LoRA
}

// LoRA is a low-rank update of a Linear: A (Rank,In), B (Out,Rank), scale
// s = alpha/rank (or alpha/√rank with rsLoRA, folded in by the caller), with
// gradients DA, DB.
type LoRA struct {
	Rank   int
	Scale  float64
	A, B   []float32
	DA, DB []float32
}

// linCache is what a linear keeps for its backward pass.
type linCache struct {
	x  []float64 // (n,In)
	xa []float64 // (n,Rank) x·Aᵀ, with LoRA
	n  int
}

// forward computes y for n rows.
//
//	x (n,In) -> y (n,Out)
func (l *Linear) forward(x []float64, n int, c *linCache) []float64 {
	y := make([]float64, n*l.Out)
	for i := range n {
		xi := x[i*l.In : (i+1)*l.In]
		yi := y[i*l.Out : (i+1)*l.Out]
		for o := range l.Out {
			s := dot32(xi, l.W[o*l.In:(o+1)*l.In])
			if l.B != nil {
				s += float64(l.B[o])
			}
			yi[o] = s
		}
	}
	var xa []float64
	if p := l.LoRA; p != nil {
		xa = make([]float64, n*p.Rank)
		for i := range n {
			xi := x[i*l.In : (i+1)*l.In]
			for r := range p.Rank {
				xa[i*p.Rank+r] = dot32(xi, p.A[r*l.In:(r+1)*l.In])
			}
			yi := y[i*l.Out : (i+1)*l.Out]
			for o := range l.Out {
				yi[o] += p.Scale * dot32(xa[i*p.Rank:(i+1)*p.Rank], p.B[o*p.Rank:(o+1)*p.Rank])
			}
		}
	}
	if c != nil {
		*c = linCache{x: x, xa: xa, n: n}
	}
	return y
}

// backward returns dx and accumulates the gradients of the trainable parts.
//
//	dy (n,Out) -> dx (n,In); DW (Out,In) +=, DB (Out) +=, LoRA DA (Rank,In) +=, DB (Out,Rank) +=
func (l *Linear) backward(dy []float64, c *linCache) []float64 {
	n := c.n
	dx := make([]float64, n*l.In)
	for i := range n {
		dyi := dy[i*l.Out : (i+1)*l.Out]
		dxi := dx[i*l.In : (i+1)*l.In]
		for o, d := range dyi {
			if d == 0 {
				continue
			}
			w := l.W[o*l.In : (o+1)*l.In]
			for k := range dxi {
				dxi[k] += d * float64(w[k])
			}
		}
	}
	if l.DW != nil {
		dw := make([]float64, l.Out*l.In)
		db := make([]float64, l.Out)
		for i := range n {
			xi := c.x[i*l.In : (i+1)*l.In]
			for o, d := range dy[i*l.Out : (i+1)*l.Out] {
				db[o] += d
				row := dw[o*l.In : (o+1)*l.In]
				for k, v := range xi {
					row[k] += d * v
				}
			}
		}
		addTo(l.DW, dw)
		if l.DB != nil {
			addTo(l.DB, db)
		}
	}
	if p := l.LoRA; p != nil {
		// g = dy·B (n,Rank); dA = s·gᵀ·x; dB = s·dyᵀ·xa; dx += s·g·A
		g := make([]float64, n*p.Rank)
		da := make([]float64, p.Rank*l.In)
		dbl := make([]float64, l.Out*p.Rank)
		for i := range n {
			gi := g[i*p.Rank : (i+1)*p.Rank]
			xai := c.xa[i*p.Rank : (i+1)*p.Rank]
			for o, d := range dy[i*l.Out : (i+1)*l.Out] {
				b := p.B[o*p.Rank : (o+1)*p.Rank]
				row := dbl[o*p.Rank : (o+1)*p.Rank]
				for r := range gi {
					gi[r] += d * float64(b[r])
					row[r] += p.Scale * d * xai[r]
				}
			}
			xi := c.x[i*l.In : (i+1)*l.In]
			dxi := dx[i*l.In : (i+1)*l.In]
			for r, gr := range gi {
				a := p.A[r*l.In : (r+1)*l.In]
				row := da[r*l.In : (r+1)*l.In]
				for k := range xi {
					row[k] += p.Scale * gr * xi[k]
					dxi[k] += p.Scale * gr * float64(a[k])
				}
			}
		}
		addTo(p.DA, da)
		addTo(p.DB, dbl)
	}
	return dx
}

// addTo adds a float64 gradient into a float32 buffer.
func addTo(dst []float32, src []float64) {
	for i, v := range src {
		dst[i] += float32(v)
	}
}

// dot32 is Σ x[k]·w[k] in order, float32 weights w widened (len(w) >= len(x)).
func dot32(x []float64, w []float32) float64 {
	s := 0.0
	for k, v := range x {
		s += v * float64(w[k])
	}
	return s
}
