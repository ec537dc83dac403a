package encoder

import "math"

// headCache keeps the head's activations.
type headCache struct {
	first linCache // pooler (BERT) or dense (RoBERTa)
	t     []float64
	out   linCache
}

// headForward computes the logits from the first token's hidden state.
//
//	h0 (H) -> logits (labels): out(tanh(first(h0)))
func (m *Model) headForward(h0 []float64, c *headCache) []float64 {
	if c == nil {
		c = &headCache{}
	}
	first := m.pooler
	if m.Config.Head == RoBERTaHead {
		first = m.dense
	}
	z := first.forward(h0, 1, &c.first)
	for i, v := range z {
		z[i] = math.Tanh(v)
	}
	c.t = z
	return m.out.forward(z, 1, &c.out)
}

// headBackward returns d(h0).
func (m *Model) headBackward(dLogits []float64, c *headCache) []float64 {
	first := m.pooler
	if m.Config.Head == RoBERTaHead {
		first = m.dense
	}
	dz := m.out.backward(dLogits, &c.out)
	for i, t := range c.t {
		dz[i] *= 1 - t*t
	}
	return first.backward(dz, &c.first)
}
