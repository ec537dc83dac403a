package encoder

import "math"

// headCache keeps the head's activations.
type headCache struct {
	first  linCache  // pooler (BERT, DeBERTa) or dense (RoBERTa)
	pre, t []float64 // before and after the activation
	out    linCache
}

// headForward computes the logits from the first token's hidden state.
//
//	h0 (H) -> logits (labels): out(act(first(h0))), act tanh (BERT, RoBERTa) or GELU (DeBERTa)
func (m *Model) headForward(h0 []float64, c *headCache) []float64 {
	if c == nil {
		c = &headCache{}
	}
	first := m.pooler
	if m.Config.Head == RoBERTaHead {
		first = m.dense
	}
	z := first.forward(h0, 1, &c.first)
	c.pre = z
	t := make([]float64, len(z))
	for i, v := range z {
		if m.Config.Head == DeBERTaHead {
			t[i] = gelu(v)
		} else {
			t[i] = math.Tanh(v)
		}
	}
	c.t = t
	return m.out.forward(t, 1, &c.out)
}

// headBackward returns d(h0).
func (m *Model) headBackward(dLogits []float64, c *headCache) []float64 {
	first := m.pooler
	if m.Config.Head == RoBERTaHead {
		first = m.dense
	}
	dz := m.out.backward(dLogits, &c.out)
	for i, t := range c.t {
		if m.Config.Head == DeBERTaHead {
			dz[i] *= geluGrad(c.pre[i])
		} else {
			dz[i] *= 1 - t*t
		}
	}
	return first.backward(dz, &c.first)
}
