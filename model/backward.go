package model

import "errors"

// ErrNoForward is returned by Backward called without a preceding Forward.
var ErrNoForward = errors.New("model: Backward without a Forward")

// Backward propagates the loss of the last Forward back through the model
// and adds the gradients to Grads: LoRA dA and dB (the frozen base weights
// only pass gradients through, dx), or every weight's gradient when fully
// fine-tuning. Call ZeroGrad between optimizer steps.
func (m *Model) Backward() error {
	a := m.acts
	if a == nil || !a.ready {
		return ErrNoForward
	}
	a.ready = false
	c := m.Config
	N, C := a.B*a.T, c.Embd
	clear(a.dres)
	m.normBackward(a.dres, m.dnormF, m.dnormFb, a.dnf, a.resid[c.Layers], m.normF, a.nfmean, a.nfrstd, N)
	for l := len(m.blocks) - 1; l >= 0; l-- {
		m.blockBackward(l, a)
	}
	if m.dwte != nil {
		var dwpe []float32
		if m.wpe != nil {
			dwpe = m.dwpe
		}
		embeddingBackward(m.dwte, dwpe, a.dres, a.tokens, a.T, C, m.embedScale())
	}
	return nil
}
