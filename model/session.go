package model

import (
	"fmt"
	"math"

	"github.com/lorakit/lorakit/model/gemm"
)

// Session is one sequence being decoded: it feeds tokens through the model
// incrementally, keeping every layer's keys and values (the KV cache) so
// each new token costs one position's work. Sessions of one model may run
// in parallel as long as the model's weights do not change.
type Session struct {
	m    *Model
	pos  int
	k, v [][]float32 // per layer: (pos, KVDim) keys (after RoPE) and values
	buf  []float32   // Step's activations, reused from call to call
}

// NewSession starts an empty sequence.
func (m *Model) NewSession() *Session {
	L := m.Config.Layers
	return &Session{m: m, k: make([][]float32, L), v: make([][]float32, L)}
}

// Pos is the number of tokens the session holds.
func (s *Session) Pos() int { return s.pos }

// Clone returns an independent copy of the session (for beam search).
func (s *Session) Clone() *Session {
	c := &Session{m: s.m, pos: s.pos, k: make([][]float32, len(s.k)), v: make([][]float32, len(s.v))}
	for l := range s.k {
		c.k[l] = append([]float32(nil), s.k[l]...)
		c.v[l] = append([]float32(nil), s.v[l]...)
	}
	return c
}

// Truncate forgets every token from position n on.
func (s *Session) Truncate(n int) {
	if n < 0 || n >= s.pos {
		return
	}
	kv := s.m.Config.KVDim()
	for l := range s.k {
		s.k[l], s.v[l] = s.k[l][:n*kv], s.v[l][:n*kv]
	}
	s.pos = n
}

// Logits returns the last position's logits for a fresh sequence of
// tokens (positions 0..len-1), as llama.cpp's llama_get_logits_ith(-1).
func (m *Model) Logits(tokens []int) ([]float32, error) {
	return m.NewSession().Step(tokens)
}

// Step appends tokens to the sequence, processing them as one batch, and
// returns the logits (Vocab values) predicting the token after the last.
func (s *Session) Step(tokens []int) ([]float32, error) {
	m := s.m
	c := m.Config
	n := len(tokens)
	if n == 0 {
		return nil, fmt.Errorf("model: Step with no tokens: %w", ErrContext)
	}
	if s.pos+n > c.Context {
		return nil, fmt.Errorf("model: %d + %d tokens, context %d: %w", s.pos, n, c.Context, ErrContext)
	}
	if err := m.checkTokens(tokens, "token"); err != nil {
		return nil, err
	}
	C, FF, W, kvd, pos0 := c.Embd, c.FF, c.QKVDim(), c.KVDim(), s.pos
	// Every kernel below writes its output before reading it, so the
	// buffers are carved out of s.buf without clearing.
	ffs := 2
	if c.Arch == ArchLlama {
		ffs = 3
	}
	s.buf = grow(s.buf, n*(3*C+2+W+c.QDim()+ffs*FF))
	buf := s.buf
	f := func(k int) []float32 {
		p := buf[:k:k]
		buf = buf[k:]
		return p
	}
	x, n1, mid, stat, stat2 := f(n*C), f(n*C), f(n*C), f(n), f(n)
	qkv, ao, h, a := f(n*W), f(n*c.QDim()), f(n*FF), f(n*FF)
	var g []float32
	if c.Arch == ArchLlama {
		g = f(n * FF)
	}
	var wpe []float32
	if m.wpe != nil {
		wpe = m.wpe.F32
	}
	embeddingForward(x, tokens, n, pos0, m.wte, wpe)
	for l := range m.blocks {
		blk := &m.blocks[l]
		if c.Arch == ArchGPT2 {
			layerNormForward(n1, stat, stat2, x, blk.norm1, blk.norm1b, n, C, c.NormEps)
			blk.qkv.forward(qkv, W, n1, n, nil)
		} else {
			rmsNormForward(n1, stat, x, blk.norm1, n, C, c.NormEps)
			blk.q.forward(qkv, W, n1, n, nil)
			blk.k.forward(qkv[c.QDim():], W, n1, n, nil)
			blk.v.forward(qkv[c.QDim()+kvd:], W, n1, n, nil)
			m.rope.rotate(qkv, W, n, n, pos0, c.Heads, c.HeadDim, false)
			m.rope.rotate(qkv[c.QDim():], W, n, n, pos0, c.KVHeads, c.HeadDim, false)
		}
		for i := range n {
			row := qkv[i*W:]
			s.k[l] = append(s.k[l], row[c.QDim():c.QDim()+kvd]...)
			s.v[l] = append(s.v[l], row[c.QDim()+kvd:c.QDim()+2*kvd]...)
		}
		s.attend(ao, qkv, l, n, pos0)
		blk.o.forward(mid, C, ao, n, nil)
		addInto(mid, x)
		if c.Arch == ArchGPT2 {
			layerNormForward(n1, stat, stat2, mid, blk.norm2, blk.norm2b, n, C, c.NormEps)
			blk.up.forward(h, FF, n1, n, nil)
			geluForward(a, h, m.opts.GELUF16Table)
		} else {
			rmsNormForward(n1, stat, mid, blk.norm2, n, C, c.NormEps)
			blk.gate.forward(g, FF, n1, n, nil)
			blk.up.forward(h, FF, n1, n, nil)
			swigluForward(a, g, h)
		}
		blk.down.forward(x, C, a, n, nil)
		addInto(x, mid)
	}
	s.pos += n
	last := x[(n-1)*C:]
	m.finalNorm(n1[:C], stat, stat2, last, 1)
	logits := make([]float32, c.Vocab)
	m.head.MulNT(logits, c.Vocab, n1[:C], 1, false)
	if err := checkLogits(logits); err != nil {
		return nil, err
	}
	return logits, nil
}

// attend computes causal attention of the n new queries in qkv (rows at
// positions pos0..pos0+n-1) over the cached keys and values of layer l,
// in parallel over heads.
//
//	qkv (n, QKVDim), cache k, v (pos0+n, KVDim) -> out (n, H*hd)
func (s *Session) attend(out, qkv []float32, l, n, pos0 int) {
	c := s.m.Config
	hd, W, kvd, qd, P := c.HeadDim, c.QKVDim(), c.KVDim(), c.QDim(), pos0+n
	scale := float32(1 / math.Sqrt(float64(hd)))
	group := c.Heads / c.KVHeads
	parallelFor(c.Heads, 4*n*P*hd, func(lo, hi int) {
		sp := getScratch(n * P)
		defer scratchPool.Put(sp)
		sc := *sp
		for h := lo; h < hi; h++ {
			g := h / group
			k, v := s.k[l][g*hd:], s.v[l][g*hd:]
			if n <= gemvRows {
				attendRows(out[h*hd:], qd, qkv[h*hd:], W, k, v, kvd, sc, n, P, pos0, hd, scale)
				continue
			}
			// scores (n,P) = q (n,hd) · kᵀ · scale
			gemm.Sgemm(false, true, n, P, hd, scale, qkv[h*hd:], W, k, kvd, 0, sc, P)
			for i := range n {
				causalSoftmax(sc[i*P:(i+1)*P], pos0+i+1)
			}
			// out (n,hd) = p (n,P) · v (P,hd)
			gemm.Sgemm(false, false, n, hd, P, 1, sc, P, v, kvd, 0, out[h*hd:], qd)
		}
	})
}

// attendRows is one head's attention for a few new queries (decoding), by
// dot products instead of packed products: query i at position pos0+i
// attends to cached positions [0, pos0+i].
//
//	q (n,hd) stride ldq, k, v (P,hd) stride kvd, sc (n,P) scratch -> out (n,hd) stride ldo
func attendRows(out []float32, ldo int, q []float32, ldq int, k, v []float32, kvd int, sc []float32, n, P, pos0, hd int, scale float32) {
	for i := range n {
		qi, row := q[i*ldq:i*ldq+hd], sc[i*P:(i+1)*P]
		for p := range pos0 + i + 1 {
			row[p] = scale * dot(qi, k[p*kvd:])
		}
		causalSoftmax(row, pos0+i+1)
		o := out[i*ldo : i*ldo+hd]
		clear(o)
		for p, pr := range row[:pos0+i+1] {
			for j, vv := range v[p*kvd : p*kvd+hd] {
				o[j] += pr * vv
			}
		}
	}
}
