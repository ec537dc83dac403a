package encoder

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/lorakit/lorakit/format"
)

// mlmHead is BERT's masked-LM head (BertLMPredictionHead): a transform
// dense → GELU → LayerNorm, then logits against the token embedding
// (tied decoder) plus a bias.
type mlmHead struct {
	dense       *Linear
	norm        layerNorm
	bias, dBias []float32 // (Vocab)
}

// AddMLMHead attaches a freshly initialised masked-LM head (weights
// N(0, std²), LayerNorm 1 and 0, zero bias), trainable, for pre-training.
func (m *Model) AddMLMHead(std float64, rng *rand.Rand) {
	H := m.Config.Hidden
	w := make([]float32, H*H)
	for i := range w {
		w[i] = float32(std * rng.NormFloat64())
	}
	ones := make([]float32, H)
	for i := range ones {
		ones[i] = 1
	}
	m.mlm = &mlmHead{
		dense: &Linear{Name: "mlm.dense", Out: H, In: H, W: w, B: make([]float32, H), DW: make([]float32, H*H), DB: make([]float32, H)},
		norm:  layerNorm{Name: "mlm.norm", W: ones, B: make([]float32, H), DW: make([]float32, H), DB: make([]float32, H), eps: m.Config.Eps},
		bias:  make([]float32, m.Config.Vocab), dBias: make([]float32, m.Config.Vocab),
	}
}

// TrainEverything makes every weight trainable for pre-training: the
// linears (TrainAll), the LayerNorms and the token, position and type
// embeddings (the MLM decoder is tied to the token embedding).
func (m *Model) TrainEverything() {
	m.TrainAll()
	norms := []*layerNorm{&m.embNorm}
	for i := range m.layers {
		norms = append(norms, &m.layers[i].ln1, &m.layers[i].ln2)
	}
	for _, ln := range norms {
		ln.W, ln.B = slices.Clone(ln.W), slices.Clone(ln.B)
		ln.DW, ln.DB = make([]float32, len(ln.W)), make([]float32, len(ln.B))
	}
	m.tok, m.pos, m.typ = slices.Clone(m.tok), slices.Clone(m.pos), slices.Clone(m.typ)
	m.emb = &embGrads{tok: make([]float32, len(m.tok)), pos: make([]float32, len(m.pos)), typ: make([]float32, len(m.typ))}
}

// extraParams lists the trainable LayerNorms, embeddings and MLM head.
func (m *Model) extraParams() []Param {
	var out []Param
	norms := []*layerNorm{&m.embNorm}
	for i := range m.layers {
		norms = append(norms, &m.layers[i].ln1, &m.layers[i].ln2)
	}
	if m.mlm != nil {
		norms = append(norms, &m.mlm.norm)
		l := m.mlm.dense
		out = append(out, Param{"mlm.dense.weight", l.W, l.DW}, Param{"mlm.dense.bias", l.B, l.DB}, Param{"mlm.bias", m.mlm.bias, m.mlm.dBias})
	}
	for _, ln := range norms {
		if ln.DW != nil {
			out = append(out, Param{ln.Name + ".weight", ln.W, ln.DW}, Param{ln.Name + ".bias", ln.B, ln.DB})
		}
	}
	if g := m.emb; g != nil {
		out = append(out, Param{"token_embd.weight", m.tok, g.tok})
		if m.pos != nil {
			out = append(out, Param{"position_embd.weight", m.pos, g.pos})
		}
		if m.typ != nil {
			out = append(out, Param{"token_types.weight", m.typ, g.typ})
		}
	}
	return out
}

// MLMLoss is the masked-LM loss of one sequence: the mean cross entropy
// of the original tokens targets[i] at the positions where targets[i] is
// not IgnoreLabel. With grad it also runs the backward pass, scaled by
// lossScale, into every trainable parameter.
func (m *Model) MLMLoss(s Sequence, targets []int, grad bool, lossScale float64) (float64, error) {
	if m.mlm == nil {
		return 0, fmt.Errorf("encoder: no masked-LM head (AddMLMHead): %w", format.ErrUnsupported)
	}
	if err := m.check(s); err != nil {
		return 0, err
	}
	if len(targets) != len(s.IDs) {
		return 0, fmt.Errorf("encoder: %d MLM targets for %d tokens: %w", len(targets), len(s.IDs), format.ErrShape)
	}
	H, V := m.Config.Hidden, m.Config.Vocab
	var rows []int
	for i, t := range targets {
		if t == IgnoreLabel {
			continue
		}
		if t < 0 || t >= V {
			return 0, fmt.Errorf("encoder: MLM target %d at token %d outside the vocabulary of %d: %w", t, i, V, format.ErrFormat)
		}
		rows = append(rows, i)
	}
	if len(rows) == 0 {
		return 0, nil
	}
	var c *pass
	if grad {
		c = &pass{}
	}
	out := m.forward(s, c)
	k := len(rows)
	h := make([]float64, k*H)
	for r, i := range rows {
		copy(h[r*H:(r+1)*H], out.Hidden[i*H:(i+1)*H])
	}
	var dc linCache
	var nc normCache
	z := m.mlm.dense.forward(h, k, &dc)
	g := make([]float64, len(z))
	for i, v := range z {
		g[i] = gelu(v)
	}
	y := m.mlm.norm.forward(g, k, &nc)
	loss := 0.0
	dlog := make([]float64, k*V)
	for r, i := range rows {
		yr := y[r*H : (r+1)*H]
		logits := make([]float64, V)
		for v := range V {
			s := float64(m.mlm.bias[v])
			for d, x := range yr {
				s += x * float64(m.tok[v*H+d])
			}
			logits[v] = s
		}
		lp := logSoftmax(logits)
		loss -= lp[targets[i]]
		for v, l := range lp {
			dlog[r*V+v] = math.Exp(l) / float64(k) * lossScale
		}
		dlog[r*V+targets[i]] -= 1 / float64(k) * lossScale
	}
	loss /= float64(k)
	if !grad {
		return loss, nil
	}
	// logits = y·tokᵀ + bias: dy = dlog·tok, dtok += dlogᵀ·y, dbias += Σ dlog
	dy := make([]float64, k*H)
	for r := range k {
		for v := range V {
			d := dlog[r*V+v]
			m.mlm.dBias[v] += float32(d)
			for e := range H {
				dy[r*H+e] += d * float64(m.tok[v*H+e])
				if m.emb != nil {
					m.emb.tok[v*H+e] += float32(d * y[r*H+e])
				}
			}
		}
	}
	dg := m.mlm.norm.backward(dy, &nc)
	for i, v := range z {
		dg[i] *= geluGrad(v)
	}
	dh := m.mlm.dense.backward(dg, &dc)
	dHidden := make([]float64, len(out.Hidden))
	for r, i := range rows {
		copy(dHidden[i*H:(i+1)*H], dh[r*H:(r+1)*H])
	}
	m.backward(dHidden, nil, c)
	return loss, nil
}

// Freeze ends training of every weight: gradients are dropped (the
// trained values stay) and the MLM head is removed, leaving the encoder
// ready for a head and LoRA (NewHead, AddLoRA, TrainHead).
func (m *Model) Freeze() {
	for _, l := range m.linears {
		l.DW, l.DB = nil, nil
	}
	m.embNorm.DW, m.embNorm.DB = nil, nil
	for i := range m.layers {
		for _, ln := range []*layerNorm{&m.layers[i].ln1, &m.layers[i].ln2} {
			ln.DW, ln.DB = nil, nil
		}
	}
	m.emb, m.mlm = nil, nil
}
