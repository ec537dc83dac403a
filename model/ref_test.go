package model

import (
	"math"
	"sort"
	"unsafe"

	"github.com/lorakit/lorakit/arch"
)

// A float64 reference of every layer, written as plainly as possible
// (loops, no GEMM, no fusion), for finite-difference gradient checks: the
// numerical gradients are central differences of these functions in
// float64, so they carry no float32 rounding.

func layerNorm64(x, w, b []float64, N, C int, eps float64) []float64 {
	out := make([]float64, N*C)
	for i := range N {
		row := x[i*C : (i+1)*C]
		var m, v float64
		for _, a := range row {
			m += a
		}
		m /= float64(C)
		for _, a := range row {
			v += (a - m) * (a - m)
		}
		r := 1 / math.Sqrt(v/float64(C)+eps)
		for c, a := range row {
			out[i*C+c] = (a-m)*r*w[c] + b[c]
		}
	}
	return out
}

func rmsNorm64(x, w []float64, N, C int, eps float64) []float64 {
	out := make([]float64, N*C)
	for i := range N {
		row := x[i*C : (i+1)*C]
		var ss float64
		for _, a := range row {
			ss += a * a
		}
		r := 1 / math.Sqrt(ss/float64(C)+eps)
		for c, a := range row {
			out[i*C+c] = a * r * w[c]
		}
	}
	return out
}

func gelu64(x float64) float64 {
	return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
}

func silu64(x float64) float64 { return x / (1 + math.Exp(-x)) }

// part64 is a LoRA part in float64.
type part64 struct {
	off, out, rank int
	scale          float64
	a, b           []float64
}

// linear64: x (N,in), w (out,in), b (out) or nil -> (N,out), plus LoRA parts.
func linear64(x, w, b []float64, parts []part64, N, in, out int) []float64 {
	y := make([]float64, N*out)
	for i := range N {
		for o := range out {
			s := 0.0
			if b != nil {
				s = b[o]
			}
			for k := range in {
				s += x[i*in+k] * w[o*in+k]
			}
			y[i*out+o] = s
		}
		for _, p := range parts {
			xa := make([]float64, p.rank)
			for r := range p.rank {
				for k := range in {
					xa[r] += x[i*in+k] * p.a[r*in+k]
				}
			}
			for o := range p.out {
				for r := range p.rank {
					y[i*out+p.off+o] += p.scale * xa[r] * p.b[o*p.rank+r]
				}
			}
		}
	}
	return y
}

// rope64 rotates the first dims of each head in place: adjacent pairs
// (NORM) or halves (NEOX), angle p·scale·base^(−2j/dims)/f_j.
func rope64(x []float64, ld, N, T, heads, hd, dims int, base, scale float64, factors []float32, neox bool) {
	stride, span := 2, 1
	if neox {
		stride, span = 1, dims/2
	}
	for i := range N {
		p := float64(i % T)
		for h := range heads {
			v := x[i*ld+h*hd:]
			for j := range dims / 2 {
				th := p * scale * math.Pow(base, -2*float64(j)/float64(dims))
				if factors != nil {
					th /= float64(factors[j])
				}
				c, s := math.Cos(th), math.Sin(th)
				a, b := v[stride*j], v[stride*j+span]
				v[stride*j], v[stride*j+span] = a*c-b*s, a*s+b*c
			}
		}
	}
}

// attention64: qkv (B*T, ld) -> (B*T, H*hd), causal, GQA, with s's scale,
// soft-cap and sliding window.
func attention64(qkv []float64, s attnShape) []float64 {
	qd := s.H * s.hd
	out := make([]float64, s.B*s.T*qd)
	for b := range s.B {
		for h := range s.H {
			g := h / (s.H / s.KV)
			for t := range s.T {
				q := qkv[(b*s.T+t)*s.ld+h*s.hd:]
				lo := 0
				if s.window > 0 {
					lo = max(0, t-s.window+1)
				}
				sc := make([]float64, t+1)
				m := math.Inf(-1)
				for j := lo; j <= t; j++ {
					k := qkv[(b*s.T+j)*s.ld+s.kOff()+g*s.hd:]
					for d := range s.hd {
						sc[j] += q[d] * k[d]
					}
					sc[j] *= float64(s.scale)
					if s.cap > 0 {
						sc[j] = float64(s.cap) * math.Tanh(sc[j]/float64(s.cap))
					}
					m = math.Max(m, sc[j])
				}
				var sum float64
				for j := lo; j <= t; j++ {
					sc[j] = math.Exp(sc[j] - m)
					sum += sc[j]
				}
				for j := lo; j <= t; j++ {
					v := qkv[(b*s.T+j)*s.ld+s.vOff()+g*s.hd:]
					for d := range s.hd {
						out[(b*s.T+t)*qd+h*s.hd+d] += sc[j] / sum * v[d]
					}
				}
			}
		}
	}
	return out
}

// xent64 is the smoothed cross-entropy of one row of logits.
func xent64(z []float64, t int, eps float64) float64 {
	m := math.Inf(-1)
	var mean float64
	for _, v := range z {
		m = math.Max(m, v)
		mean += v
	}
	mean /= float64(len(z))
	var s float64
	for _, v := range z {
		s += math.Exp(v - m)
	}
	lse := m + math.Log(s)
	return (1-eps)*(lse-z[t]) + eps*(lse-mean)
}

// params64 gives float64 versions of a model's weights: the trainable ones
// as views of theta (laid out as Params), the others as converted copies.
type params64 struct {
	base  []float32
	theta []float64
}

func (p params64) get(s []float32) []float64 {
	if s == nil {
		return nil
	}
	if len(p.base) > 0 {
		start := uintptr(unsafe.Pointer(&p.base[0]))
		at := uintptr(unsafe.Pointer(&s[0]))
		if at >= start && at < start+uintptr(len(p.base))*4 {
			off := int(at-start) / 4
			return p.theta[off : off+len(s)]
		}
	}
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

func (p params64) matrix(w *Matrix) []float64 {
	if w.F32 == nil {
		f := make([]float32, w.Rows*w.Cols)
		w.RowsTo(f, 0, w.Rows)
		return p.get(f)
	}
	return p.get(w.F32)
}

func (p params64) lin(l *linear, x []float64, N int) []float64 {
	var parts []part64
	for _, q := range l.parts {
		parts = append(parts, part64{off: q.off, out: q.out, rank: q.rank, scale: float64(q.scale), a: p.get(q.a), b: p.get(q.b)})
	}
	return linear64(x, p.matrix(l.w), p.get(l.b), parts, N, l.w.Cols, l.w.Rows)
}

// headNorm64 RMS-normalises each of the heads·hd values of every row
// (stride ld) per head, in place.
func headNorm64(x []float64, ld, N, heads, hd int, w []float64, eps float64) {
	for i := range N {
		for h := range heads {
			v := x[i*ld+h*hd : i*ld+(h+1)*hd]
			copy(v, rmsNorm64(v, w, 1, hd, eps))
		}
	}
}

// moe64 is the mixture-of-experts feed-forward in float64: every expert on
// every row, then the softmax top-K mixture with renormalised weights.
func moe64(p params64, blk *block, x []float64, N int, c Config) []float64 {
	E, K, C, EF := c.Experts, c.ExpertsUsed, c.Embd, c.ExpertFF
	logits := p.lin(blk.router, x, N)
	ys := make([][]float64, E)
	for e, ex := range blk.experts {
		g, u := p.lin(ex.gate, x, N), p.lin(ex.up, x, N)
		a := make([]float64, N*EF)
		for i := range a {
			a[i] = silu64(g[i]) * u[i]
		}
		ys[e] = p.lin(ex.down, a, N)
	}
	out := make([]float64, N*C)
	for i := range N {
		z := logits[i*E : (i+1)*E]
		m := math.Inf(-1)
		for _, v := range z {
			m = math.Max(m, v)
		}
		pr := make([]float64, E)
		var sum float64
		for e, v := range z {
			pr[e] = math.Exp(v - m)
			sum += pr[e]
		}
		idx := make([]int, E)
		for e := range idx {
			pr[e] /= sum
			idx[e] = e
		}
		sort.SliceStable(idx, func(a, b int) bool { return pr[idx[a]] > pr[idx[b]] })
		var s float64
		for _, e := range idx[:K] {
			s += pr[e]
		}
		for _, e := range idx[:K] {
			for d := range C {
				out[i*C+d] += pr[e] / math.Max(s, moeClamp) * ys[e][i*C+d]
			}
		}
	}
	return out
}

// refLoss is the model's loss on b computed by the float64 reference with
// the trainable parameters theta (no dropout), following the recipe.
func refLoss(m *Model, b Batch, theta []float64) float64 {
	p := params64{base: m.Params(), theta: theta}
	c := m.Config
	r := c.Recipe
	N, C, FF, W, qd, kvd := b.B*b.T, c.Embd, c.FF, c.QKVDim(), c.QDim(), c.KVDim()
	wte := p.matrix(m.wte)
	x := make([]float64, N*C)
	scale := 1.0
	if r.EmbedScale {
		scale = math.Sqrt(float64(C))
	}
	for i, id := range b.Tokens {
		for k := range C {
			x[i*C+k] = wte[id*C+k] * scale
		}
		if m.wpe != nil {
			wpe := p.get(m.wpe.F32)
			for k := range C {
				x[i*C+k] += wpe[(i%b.T)*C+k]
			}
		}
	}
	eps := float64(c.NormEps)
	norm := func(x []float64, w, bias []float32) []float64 {
		if r.Norm == arch.LayerNorm {
			return layerNorm64(x, p.get(w), p.get(bias), N, C, eps)
		}
		return rmsNorm64(x, p.get(w), N, C, eps)
	}
	cols := func(src []float64, w int, dst []float64, off int) {
		for i := range N {
			copy(dst[i*W+off:], src[i*w:(i+1)*w])
		}
	}
	for l := range m.blocks {
		blk := &m.blocks[l]
		n1 := norm(x, blk.norm1, blk.norm1b)
		var qkv []float64
		if blk.qkv != nil {
			qkv = p.lin(blk.qkv, n1, N)
		} else {
			qkv = make([]float64, N*W)
			cols(p.lin(blk.q, n1, N), qd, qkv, 0)
			cols(p.lin(blk.k, n1, N), kvd, qkv, qd)
			cols(p.lin(blk.v, n1, N), kvd, qkv, qd+kvd)
		}
		if blk.qNorm != nil {
			headNorm64(qkv, W, N, c.Heads, c.HeadDim, p.get(blk.qNorm), eps)
			headNorm64(qkv[qd:], W, N, c.KVHeads, c.HeadDim, p.get(blk.kNorm), eps)
		}
		if r.Rope != arch.RopeNone {
			base := c.RopeBase
			if blk.swa {
				base = c.RopeBaseSWA
			}
			neox := r.Rope == arch.RopeNeox
			rope64(qkv, W, N, b.T, c.Heads, c.HeadDim, c.RopeDims, base, c.RopeScale, m.ropeFreqs, neox)
			rope64(qkv[qd:], W, N, b.T, c.KVHeads, c.HeadDim, c.RopeDims, base, c.RopeScale, m.ropeFreqs, neox)
		}
		ao := attention64(qkv, m.attn(blk, b.B, b.T))
		o := p.lin(blk.o, ao, N)
		if r.PostNorms {
			o = rmsNorm64(o, p.get(blk.postAttn), N, C, eps)
		}
		mid := make([]float64, N*C)
		for i := range mid {
			mid[i] = x[i] + o[i]
		}
		n2 := norm(mid, blk.norm2, blk.norm2b)
		act := make([]float64, N*FF)
		var g, u, f []float64
		switch {
		case blk.router != nil:
			f = moe64(p, blk, n2, N, c)
		case r.MLP == arch.MLPPlain:
			h := p.lin(blk.up, n2, N)
			for i := range h {
				act[i] = gelu64(h[i])
			}
		case blk.gate != nil:
			g, u = p.lin(blk.gate, n2, N), p.lin(blk.up, n2, N)
		default:
			gu := p.lin(blk.up, n2, N)
			g, u = make([]float64, N*FF), make([]float64, N*FF)
			for i := range N {
				copy(g[i*FF:], gu[2*i*FF:(2*i+1)*FF])
				copy(u[i*FF:], gu[(2*i+1)*FF:(2*i+2)*FF])
			}
		}
		for i := range g {
			if r.Act == arch.SiLU {
				act[i] = silu64(g[i]) * u[i]
			} else {
				act[i] = gelu64(g[i]) * u[i]
			}
		}
		if blk.router == nil {
			f = p.lin(blk.down, act, N)
		}
		if r.PostNorms {
			f = rmsNorm64(f, p.get(blk.postFFN), N, C, eps)
		}
		x = make([]float64, N*C)
		for i := range x {
			x[i] = mid[i] + f[i]
		}
	}
	nf := norm(x, m.normF, m.normFb)
	head := p.matrix(m.head)
	count := 0
	for i := range N {
		if b.Targets[i] >= 0 && (b.Mask == nil || b.Mask[i]) {
			count++
		}
	}
	var loss float64
	for i := range N {
		if b.Targets[i] < 0 || (b.Mask != nil && !b.Mask[i]) {
			continue
		}
		z := make([]float64, c.Vocab)
		for v := range c.Vocab {
			for k := range C {
				z[v] += nf[i*C+k] * head[v*C+k]
			}
			if c.FinalSoftcap > 0 {
				z[v] = c.FinalSoftcap * math.Tanh(z[v]/c.FinalSoftcap)
			}
		}
		loss += xent64(z, b.Targets[i], float64(b.LabelSmoothing)) / float64(count)
	}
	return loss
}
