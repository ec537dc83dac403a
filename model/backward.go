package model

import (
	"errors"
	"slices"
)

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
	if c.Arch == ArchGPT2 {
		layerNormBackward(a.dres, m.dnormF, m.dnormFb, a.dnf, a.resid[c.Layers], m.normF, a.nfmean, a.nfrstd, N, C)
	} else {
		rmsNormBackward(a.dres, m.dnormF, a.dnf, a.resid[c.Layers], m.normF, a.nfrstd, N, C)
	}
	for l := len(m.blocks) - 1; l >= 0; l-- {
		m.blockBackward(l, a)
	}
	if m.dwte != nil {
		var dwpe []float32
		if m.wpe != nil {
			dwpe = m.dwpe
		}
		embeddingBackward(m.dwte, dwpe, a.dres, a.tokens, a.T, C)
	}
	return nil
}

// blockBackward turns a.dres from the gradient of a.resid[l+1] into that of
// a.resid[l], adding parameter gradients on the way.
func (m *Model) blockBackward(l int, a *acts) {
	c := m.Config
	blk, la := &m.blocks[l], &a.layers[l]
	B, T, C, N, FF, W := a.B, a.T, c.Embd, a.B*a.T, c.FF, c.QKVDim()
	x := a.resid[l]
	lins := blk.linears()
	act := func(p *linear) *linAct { return &la.lin[slices.Index(lins, p)] }
	nFF := N * FF

	// out = mid + down(a): the residual passes dres on to mid unchanged.
	clear(a.da[:nFF])
	blk.down.backward(a.da, a.dres, C, la.a, N, act(blk.down))
	clear(a.dn)
	if c.Arch == ArchGPT2 {
		geluBackward(a.dh[:nFF], a.da[:nFF], la.h)
		blk.up.backward(a.dn, a.dh, FF, la.n2, N, act(blk.up))
		layerNormBackward(a.dres, blk.dnorm2, blk.dnorm2b, a.dn, la.mid, blk.norm2, la.n2mean, la.n2rstd, N, C)
	} else {
		swigluBackward(a.dg[:nFF], a.dh[:nFF], a.da[:nFF], la.g, la.h)
		blk.gate.backward(a.dn, a.dg, FF, la.n2, N, act(blk.gate))
		blk.up.backward(a.dn, a.dh, FF, la.n2, N, act(blk.up))
		rmsNormBackward(a.dres, blk.dnorm2, a.dn, la.mid, blk.norm2, la.n2rstd, N, C)
	}

	// mid = x + o(attention(qkv(norm1(x))))
	clear(a.dao)
	blk.o.backward(a.dao, a.dres, C, la.ao, N, act(blk.o))
	clear(a.dqkv)
	attentionBackward(a.dqkv, a.dao, la.att, la.qkv, m.attn(B, T))
	// Below the first block only trainable embeddings need a gradient.
	var dn []float32
	if l > 0 || m.dwte != nil || m.dwpe != nil {
		dn = a.dn
		clear(dn)
	}
	if c.Arch == ArchGPT2 {
		blk.qkv.backward(dn, a.dqkv, W, la.n1, N, act(blk.qkv))
		if dn != nil {
			layerNormBackward(a.dres, blk.dnorm1, blk.dnorm1b, dn, x, blk.norm1, la.n1mean, la.n1rstd, N, C)
		}
	} else {
		m.rope.rotate(a.dqkv, W, N, T, 0, c.Heads, c.HeadDim, true)
		m.rope.rotate(a.dqkv[c.QDim():], W, N, T, 0, c.KVHeads, c.HeadDim, true)
		blk.q.backward(dn, a.dqkv, W, la.n1, N, act(blk.q))
		blk.k.backward(dn, a.dqkv[c.QDim():], W, la.n1, N, act(blk.k))
		blk.v.backward(dn, a.dqkv[c.QDim()+c.KVDim():], W, la.n1, N, act(blk.v))
		if dn != nil {
			rmsNormBackward(a.dres, blk.dnorm1, dn, x, blk.norm1, la.n1rstd, N, C)
		}
	}
}
