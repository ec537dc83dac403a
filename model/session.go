package model

import (
	"fmt"

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
	n    int         // rows of la and x
	la   layerActs   // Step's activations, reused from call to call
	x    []float32   // (n, C) residual stream
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
	C, W, qd, kvd, pos0 := c.Embd, c.QKVDim(), c.QDim(), c.KVDim(), s.pos
	// The buffers are kept from call to call: every kernel below writes
	// its output before reading it.
	if s.n != n {
		s.la, s.x, s.n = newLayerActs(c, n, 0), make([]float32, n*C), n
	}
	la, x := &s.la, s.x
	var wpe []float32
	if m.wpe != nil {
		wpe = m.wpe.F32
	}
	embeddingForward(x, tokens, n, pos0, m.wte, wpe, m.embedScale())
	for l := range m.blocks {
		blk := &m.blocks[l]
		m.attnInput(blk, la, x, n, n, pos0, false)
		for i := range n {
			row := la.qkv[i*W:]
			s.k[l] = append(s.k[l], row[qd:qd+kvd]...)
			s.v[l] = append(s.v[l], row[qd+kvd:qd+2*kvd]...)
		}
		s.attend(la.ao, la.qkv, l, n, pos0)
		m.blockOutput(blk, la, x, x, n, false)
	}
	s.pos += n
	last := x[(n-1)*C:]
	m.normForward(la.n1[:C], la.n1mean, la.n1rstd, last, m.normF, m.normFb, 1)
	logits := make([]float32, c.Vocab)
	m.head.MulNT(logits, c.Vocab, la.n1[:C], 1, false)
	if c.FinalSoftcap > 0 {
		softcap(logits, float32(c.FinalSoftcap))
	}
	if err := checkLogits(logits); err != nil {
		return nil, err
	}
	return logits, nil
}

// attend computes causal attention of the n new queries in qkv (rows at
// positions pos0..pos0+n-1) over the cached keys and values of layer l,
// in parallel over heads, with the layer's scale, soft-cap and window.
//
//	qkv (n, QKVDim), cache k, v (pos0+n, KVDim) -> out (n, H*hd)
func (s *Session) attend(out, qkv []float32, l, n, pos0 int) {
	c := s.m.Config
	hd, W, kvd, qd, P := c.HeadDim, c.QKVDim(), c.KVDim(), c.QDim(), pos0+n
	sh := s.m.attn(&s.m.blocks[l], 1, P)
	group := c.Heads / c.KVHeads
	parallelFor(c.Heads, 4*n*P*hd, func(lo, hi int) {
		sp := getScratch(n * P)
		defer scratchPool.Put(sp)
		sc := *sp
		for h := lo; h < hi; h++ {
			g := h / group
			k, v := s.k[l][g*hd:], s.v[l][g*hd:]
			if n <= gemvRows {
				attendRows(out[h*hd:], qd, qkv[h*hd:], W, k, v, kvd, sc, n, P, pos0, hd, sh)
				continue
			}
			// scores (n,P) = q (n,hd) · kᵀ · scale
			gemm.Sgemm(false, true, n, P, hd, sh.scale, qkv[h*hd:], W, k, kvd, 0, sc, P)
			for i := range n {
				row := sc[i*P : (i+1)*P]
				if sh.cap > 0 {
					softcap(row[:pos0+i+1], sh.cap)
				}
				maskedSoftmax(row, sh.visible(pos0+i), pos0+i+1)
			}
			// out (n,hd) = p (n,P) · v (P,hd)
			gemm.Sgemm(false, false, n, hd, P, 1, sc, P, v, kvd, 0, out[h*hd:], qd)
		}
	})
}

// attendRows is one head's attention for a few new queries (decoding), by
// dot products instead of packed products: query i at position pos0+i
// attends to the cached positions sh lets it see, up to pos0+i.
//
//	q (n,hd) stride ldq, k, v (P,hd) stride kvd, sc (n,P) scratch -> out (n,hd) stride ldo
func attendRows(out []float32, ldo int, q []float32, ldq int, k, v []float32, kvd int, sc []float32, n, P, pos0, hd int, sh attnShape) {
	for i := range n {
		qi, row := q[i*ldq:i*ldq+hd], sc[i*P:(i+1)*P]
		lo, hi := sh.visible(pos0+i), pos0+i+1
		for p := lo; p < hi; p++ {
			row[p] = sh.scale * dot(qi, k[p*kvd:])
		}
		if sh.cap > 0 {
			softcap(row[lo:hi], sh.cap)
		}
		maskedSoftmax(row, lo, hi)
		o := out[i*ldo : i*ldo+hd]
		clear(o)
		for p := lo; p < hi; p++ {
			pr := row[p]
			for j, vv := range v[p*kvd : p*kvd+hd] {
				o[j] += pr * vv
			}
		}
	}
}
