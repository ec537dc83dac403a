package encoder

import (
	"fmt"
	"math"

	"github.com/lorakit/lorakit/format"
)

// Sequence is one input: token ids, token types (nil: all 0) and an
// attention mask (nil: all tokens attend).
type Sequence struct {
	IDs   []int
	Types []int
	Mask  []bool
}

// Output is the result of a forward pass over one sequence.
type Output struct {
	// Hidden is the last layer's output, (tokens, Hidden) row-major.
	Hidden []float64
	// Logits are the head's outputs (nil without a head); a token head's
	// are (tokens, labels) row-major.
	Logits []float64
}

// pass keeps one sequence's activations for the backward pass.
type pass struct {
	n      int
	keep   []bool
	seq    Sequence
	pos    []int
	emb    normCache
	layers []layerCache
	head   headCache
}

type layerCache struct {
	q, k, v, o, up, down linCache
	pq, pk               linCache // DeBERTa: query/key projections of the relative embeddings
	attn                 attnCache
	ln1, ln2             normCache
	upOut                []float64 // (n,FF) before GELU
}

// check validates a sequence against the model.
func (m *Model) check(s Sequence) error {
	n := len(s.IDs)
	switch {
	case n == 0:
		return fmt.Errorf("encoder: empty sequence: %w", format.ErrFormat)
	case s.Types != nil && len(s.Types) != n, s.Mask != nil && len(s.Mask) != n:
		return fmt.Errorf("encoder: %d tokens but %d types and %d mask values: %w", n, len(s.Types), len(s.Mask), format.ErrShape)
	}
	for i, id := range s.IDs {
		if id < 0 || id >= m.Config.Vocab {
			return fmt.Errorf("encoder: token %d is id %d, outside the vocabulary of %d: %w", i, id, m.Config.Vocab, format.ErrFormat)
		}
	}
	for i, t := range s.Types {
		if t < 0 || (t >= m.Config.Types && !(m.typ == nil && t == 0)) {
			return fmt.Errorf("encoder: token %d has type %d, but the model has %d token types: %w", i, t, m.Config.Types, format.ErrFormat)
		}
	}
	if s.Mask != nil && !s.Mask[0] {
		return fmt.Errorf("encoder: the first token, which the head reads, is masked: %w", format.ErrFormat)
	}
	if _, err := m.positions(s); err != nil {
		return err
	}
	return nil
}

// positions are the position-embedding rows of the tokens.
func (m *Model) positions(s Sequence) ([]int, error) {
	p := make([]int, len(s.IDs))
	k := 0
	for i, id := range s.IDs {
		switch {
		case !m.Config.RoBERTaPositions:
			p[i] = i
		case id == m.Config.PadID:
			p[i] = 0 // HF's padding_idx row, cut by llama.cpp's conversion; the token is masked
		default:
			p[i] = k
			k++
		}
		if m.pos != nil && p[i] >= m.Config.Positions {
			return nil, fmt.Errorf("encoder: %d tokens, more than the %d positions of the model: %w", len(s.IDs), m.Config.Positions, format.ErrUnsupported)
		}
	}
	return p, nil
}

// Forward runs the encoder and the head over one sequence.
func (m *Model) Forward(s Sequence) (Output, error) {
	if err := m.check(s); err != nil {
		return Output{}, err
	}
	return m.forward(s, nil), nil
}

// forward runs a checked sequence; c, when not nil, keeps the activations.
func (m *Model) forward(s Sequence, c *pass) Output {
	cfg := m.Config
	n, H := len(s.IDs), cfg.Hidden
	keep := make([]bool, n)
	for i := range keep {
		keep[i] = s.Mask == nil || s.Mask[i]
	}
	pos, _ := m.positions(s)
	x := make([]float64, n*H)
	for i, id := range s.IDs {
		t := 0
		if s.Types != nil {
			t = s.Types[i]
		}
		for d := range H {
			x[i*H+d] = float64(m.tok[id*H+d])
			if m.typ != nil {
				x[i*H+d] += float64(m.typ[t*H+d])
			}
			if m.pos != nil {
				x[i*H+d] += float64(m.pos[pos[i]*H+d])
			}
		}
	}
	if c != nil {
		*c = pass{n: n, keep: keep, seq: s, pos: pos, layers: make([]layerCache, len(m.layers))}
	}
	pick := func(i int) *layerCache {
		if c == nil {
			return nil
		}
		return &c.layers[i]
	}
	var ec *normCache
	if c != nil {
		ec = &c.emb
	}
	x = m.embNorm.forward(x, n, ec)
	var rel *relInput
	if m.deb != nil {
		rel = m.deb.input(n)
		for i := range n {
			if !keep[i] { // DeBERTa multiplies the embeddings by the mask
				clear(x[i*H : (i+1)*H])
			}
		}
	}
	for i := range m.layers {
		x = m.layers[i].forward(x, n, cfg, keep, rel, pick(i))
	}
	out := Output{Hidden: x}
	if cfg.Head != NoHead {
		var hc *headCache
		if c != nil {
			hc = &c.head
		}
		if cfg.Head == TokenHead {
			if hc == nil {
				hc = &headCache{}
			}
			out.Logits = m.out.forward(x, n, &hc.out)
		} else {
			out.Logits = m.headForward(x[:H], hc)
		}
	}
	return out
}

// forward runs one layer.
//
//	x (n,H) -> (n,H)
func (b *block) forward(x []float64, n int, cfg Config, keep []bool, rel *relInput, c *layerCache) []float64 {
	if c == nil {
		c = &layerCache{}
	}
	q := b.q.forward(x, n, &c.q)
	k := b.k.forward(x, n, &c.k)
	v := b.v.forward(x, n, &c.v)
	var terms *relTerms
	if rel != nil {
		terms = &relTerms{idx: rel.idx, c2p: rel.c2p, p2c: rel.p2c}
		if rel.p2c {
			terms.pq = b.q.forward(rel.emb, rel.rows, &c.pq)
		}
		if rel.c2p {
			terms.pk = b.k.forward(rel.emb, rel.rows, &c.pk)
		}
	}
	ctx := attention(q, k, v, n, cfg.Heads, cfg.HeadDim(), keep, terms, &c.attn)
	a := b.o.forward(ctx, n, &c.o)
	for i := range a {
		a[i] += x[i]
	}
	h := b.ln1.forward(a, n, &c.ln1)
	u := b.up.forward(h, n, &c.up)
	c.upOut = u
	g := make([]float64, len(u))
	for i, z := range u {
		g[i] = gelu(z)
	}
	d := b.down.forward(g, n, &c.down)
	for i := range d {
		d[i] += h[i]
	}
	return b.ln2.forward(d, n, &c.ln2)
}

// backward takes d(out) and returns d(x).
func (b *block) backward(dy []float64, cfg Config, c *layerCache) []float64 {
	dd := b.ln2.backward(dy, &c.ln2)
	dg := b.down.backward(dd, &c.down)
	for i, z := range c.upOut {
		dg[i] *= geluGrad(z)
	}
	dh := b.up.backward(dg, &c.up)
	for i := range dh {
		dh[i] += dd[i]
	}
	da := b.ln1.backward(dh, &c.ln1)
	dctx := b.o.backward(da, &c.o)
	dq, dk, dv, dpq, dpk := attentionBackward(dctx, c.q.n, cfg.Heads, cfg.HeadDim(), &c.attn)
	if dpq != nil && c.attn.rel.p2c { // the relative embeddings are frozen: only the projections learn
		b.q.backward(dpq, &c.pq)
	}
	if dpk != nil && c.attn.rel.c2p {
		b.k.backward(dpk, &c.pk)
	}
	dx := b.q.backward(dq, &c.q)
	for i, v := range b.k.backward(dk, &c.k) {
		dx[i] += v + da[i]
	}
	for i, v := range b.v.backward(dv, &c.v) {
		dx[i] += v
	}
	return dx
}

// backward propagates d(hidden) (n,H) and d(logits) through the model,
// accumulating the gradients of the trainable parameters. Embeddings are
// frozen: the gradient stops at the embedding LayerNorm.
func (m *Model) backward(dHidden, dLogits []float64, c *pass) {
	H := m.Config.Hidden
	dx := make([]float64, c.n*H)
	copy(dx, dHidden)
	switch {
	case dLogits != nil && m.Config.Head == TokenHead:
		for i, v := range m.out.backward(dLogits, &c.head.out) {
			dx[i] += v
		}
	case dLogits != nil:
		for d, v := range m.headBackward(dLogits, &c.head) {
			dx[d] += v
		}
	}
	for i := len(m.layers) - 1; i >= 0; i-- {
		dx = m.layers[i].backward(dx, m.Config, &c.layers[i])
	}
	if m.emb == nil && m.embNorm.DW == nil {
		return // embeddings and their norm frozen
	}
	if m.deb != nil {
		for i, k := range c.keep {
			if !k {
				clear(dx[i*H : (i+1)*H])
			}
		}
	}
	dx = m.embNorm.backward(dx, &c.emb)
	if g := m.emb; g != nil {
		for i, id := range c.seq.IDs {
			row := dx[i*H : (i+1)*H]
			for d, v := range row {
				g.tok[id*H+d] += float32(v)
				if m.pos != nil {
					g.pos[c.pos[i]*H+d] += float32(v)
				}
				if m.typ != nil {
					t := 0
					if c.seq.Types != nil {
						t = c.seq.Types[i]
					}
					g.typ[t*H+d] += float32(v)
				}
			}
		}
	}
}

// logSoftmax returns log p of logits.
func logSoftmax(z []float64) []float64 {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = max(mx, v)
	}
	s := 0.0
	for _, v := range z {
		s += math.Exp(v - mx)
	}
	out := make([]float64, len(z))
	for i, v := range z {
		out[i] = v - mx - math.Log(s)
	}
	return out
}
