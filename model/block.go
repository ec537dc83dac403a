package model

import (
	"slices"

	"github.com/lorakit/lorakit/arch"
)

// One transformer block, assembled from the recipe (the training pass and
// Session share it; only the attention itself differs):
//
//	n1  = norm(x)
//	q|k|v = attn_qkv(n1), or attn_q, attn_k, attn_v (biases if any)
//	q, k  = per-head RMSNorm (qk norm), then RoPE (NORM/NEOX, per-layer base, rope_freqs)
//	ao  = attention(q, k, v)                     scale, soft-cap, sliding window
//	mid = x + postnorm(attn_output(ao))           post-norm only with PostNorms
//	n2  = norm(mid)
//	a   = gelu(up(n2))  or  act(gate(n2)) ⊙ up(n2)   (gate|up fused in ffn_up for Phi-3)
//	out = mid + postnorm(ffn_down(a))

// normForward is the recipe's norm (LayerNorm keeps mean; b its bias).
//
//	x (N,C) -> out (N,C), mean, rstd (N)
func (m *Model) normForward(out, mean, rstd, x, w, b []float32, N int) {
	c := m.Config
	if c.Recipe.Norm == arch.LayerNorm {
		layerNormForward(out, mean, rstd, x, w, b, N, c.Embd, c.NormEps)
		return
	}
	rmsNormForward(out, rstd, x, w, N, c.Embd, c.NormEps)
}

// normBackward adds normForward's input gradient to dx (and dw, db).
func (m *Model) normBackward(dx, dw, db, dout, x, w, mean, rstd []float32, N int) {
	if m.Config.Recipe.Norm == arch.LayerNorm {
		layerNormBackward(dx, dw, db, dout, x, w, mean, rstd, N, m.Config.Embd)
		return
	}
	rmsNormBackward(dx, dw, dout, x, w, rstd, N, m.Config.Embd)
}

// attn returns the attention shape of block blk on a (B,T) batch.
func (m *Model) attn(blk *block, B, T int) attnShape {
	c := m.Config
	s := attnShape{B: B, T: T, H: c.Heads, KV: c.KVHeads, hd: c.HeadDim, ld: c.QKVDim(),
		scale: float32(c.AttnScale), cap: float32(c.AttnSoftcap)}
	if blk.swa {
		s.window = c.Window
	}
	return s
}

// geluTableIf returns llama.cpp's GELU table when the options ask for it.
func (m *Model) geluTableIf() []uint16 {
	if m.opts.GELUF16Table {
		return geluTable()
	}
	return nil
}

// linActs returns the function giving a projection's saved activations
// (nil when not training).
func linActs(blk *block, la *layerActs, grad bool) func(*linear) *linAct {
	lins := blk.linears()
	if grad && len(la.lin) != len(lins) {
		la.lin = make([]linAct, len(lins))
	}
	return func(p *linear) *linAct {
		if !grad {
			return nil
		}
		return &la.lin[slices.Index(lins, p)]
	}
}

// attnInput computes la.n1 and la.qkv (q|k|v after the q/k norm and RoPE)
// for N rows of x at positions pos0 + i%T.
func (m *Model) attnInput(blk *block, la *layerActs, x []float32, N, T, pos0 int, grad bool) {
	c := m.Config
	W, qd, kvd := c.QKVDim(), c.QDim(), c.KVDim()
	act := linActs(blk, la, grad)
	m.normForward(la.n1, la.n1mean, la.n1rstd, x, blk.norm1, blk.norm1b, N)
	if blk.qkv != nil {
		blk.qkv.forward(la.qkv, W, la.n1, N, act(blk.qkv))
	} else {
		blk.q.forward(la.qkv, W, la.n1, N, act(blk.q))
		blk.k.forward(la.qkv[qd:], W, la.n1, N, act(blk.k))
		blk.v.forward(la.qkv[qd+kvd:], W, la.n1, N, act(blk.v))
	}
	if blk.qNorm != nil {
		var pre, rstd []float32
		if grad {
			pre, rstd = la.qkPre, la.qkRstd
		}
		// q and k as H+KV heads of one (N, W) buffer, with separate gains
		headNormForward(la.qkv, W, N, c.Heads, c.HeadDim, blk.qNorm, c.NormEps, pre, rstd)
		var kpre []float32
		if grad {
			kpre = splitPre(pre, N, qd, kvd)
			rstd = rstd[N*c.Heads:]
		}
		headNormForward(la.qkv[qd:], W, N, c.KVHeads, c.HeadDim, blk.kNorm, c.NormEps, kpre, rstd)
	}
	if blk.rope != nil {
		blk.rope.rotate(la.qkv, W, N, T, pos0, c.Heads, c.HeadDim, false)
		blk.rope.rotate(la.qkv[qd:], W, N, T, pos0, c.KVHeads, c.HeadDim, false)
	}
}

// splitPre returns the k part of the q/k norm's saved inputs: q rows (N,qd)
// first, then k rows (N,kvd).
func splitPre(pre []float32, N, qd, kvd int) []float32 { return pre[N*qd : N*(qd+kvd)] }

// blockOutput computes out = mid + FFN(mid), mid = x + attn_output(la.ao),
// with the recipe's post norms.
func (m *Model) blockOutput(blk *block, la *layerActs, x, out []float32, N int, grad bool) {
	c := m.Config
	r := c.Recipe
	C, FF := c.Embd, c.FF
	act := linActs(blk, la, grad)
	if r.PostNorms {
		blk.o.forward(la.po, C, la.ao, N, act(blk.o))
		rmsNormForward(la.mid, la.poRstd, la.po, blk.postAttn, N, C, c.NormEps)
	} else {
		blk.o.forward(la.mid, C, la.ao, N, act(blk.o))
	}
	addInto(la.mid, x)
	m.normForward(la.n2, la.n2mean, la.n2rstd, la.mid, blk.norm2, blk.norm2b, N)
	ffOut := out
	if r.PostNorms {
		ffOut = la.fo
	}
	switch {
	case blk.router != nil:
		m.moeForward(blk, &la.moe, la.n2, ffOut, N, act)
	case r.MLP == arch.MLPPlain:
		blk.up.forward(la.h, FF, la.n2, N, act(blk.up))
		geluForward(la.a, la.h[:N*FF], m.opts.GELUF16Table)
	default:
		if blk.gate != nil {
			blk.gate.forward(la.h, 2*FF, la.n2, N, act(blk.gate))
			blk.up.forward(la.h[FF:], 2*FF, la.n2, N, act(blk.up))
		} else {
			blk.up.forward(la.h, 2*FF, la.n2, N, act(blk.up))
		}
		gatedForward(la.a, la.h, N, FF, r.Act, m.geluTableIf())
	}
	if blk.router == nil {
		blk.down.forward(ffOut, C, la.a, N, act(blk.down))
	}
	if r.PostNorms {
		rmsNormForward(out, la.foRstd, la.fo, blk.postFFN, N, C, c.NormEps)
	}
	addInto(out, la.mid)
}

// blockForward runs block l on a.resid[l] into a.resid[l+1]; with grad the
// LoRA layers keep their dropout masks and low-rank activations.
func (m *Model) blockForward(l int, a *acts, grad bool) {
	blk, la := &m.blocks[l], &a.layers[l]
	N := a.B * a.T
	m.attnInput(blk, la, a.resid[l], N, a.T, 0, grad)
	if m.opts.LlamaAttention && !grad {
		attentionF16(la.ao, la.qkv, m.attn(blk, a.B, a.T))
	} else {
		attentionForward(la.ao, la.att, la.qkv, m.attn(blk, a.B, a.T))
	}
	m.blockOutput(blk, la, a.resid[l], a.resid[l+1], N, grad)
}

// blockBackward turns a.dres from the gradient of a.resid[l+1] into that of
// a.resid[l], adding parameter gradients on the way.
func (m *Model) blockBackward(l int, a *acts) {
	c := m.Config
	r := c.Recipe
	blk, la := &m.blocks[l], &a.layers[l]
	B, T, C, N, FF, W := a.B, a.T, c.Embd, a.B*a.T, c.FF, c.QKVDim()
	qd, kvd := c.QDim(), c.KVDim()
	x := a.resid[l]
	act := linActs(blk, la, true)

	// out = mid + postnorm(down(a)): the residual passes dres on to mid unchanged.
	dff := a.dres
	if r.PostNorms {
		dff = a.dpost
		clear(dff)
		rmsNormBackward(dff, blk.dpostFFN, a.dres, la.fo, blk.postFFN, la.foRstd, N, C)
	}
	clear(a.dn)
	if blk.router == nil {
		clear(a.da[:N*FF])
		blk.down.backward(a.da, dff, C, la.a, N, act(blk.down))
	}
	switch {
	case blk.router != nil:
		m.moeBackward(blk, &la.moe, a.dn, dff, la.n2, N, a, act)
	case r.MLP == arch.MLPPlain:
		geluBackward(a.dh[:N*FF], a.da[:N*FF], la.h[:N*FF])
		blk.up.backward(a.dn, a.dh, FF, la.n2, N, act(blk.up))
	default:
		gatedBackward(a.dh, a.da, la.h, N, FF, r.Act)
		if blk.gate != nil {
			blk.gate.backward(a.dn, a.dh, 2*FF, la.n2, N, act(blk.gate))
			blk.up.backward(a.dn, a.dh[FF:], 2*FF, la.n2, N, act(blk.up))
		} else {
			blk.up.backward(a.dn, a.dh, 2*FF, la.n2, N, act(blk.up))
		}
	}
	m.normBackward(a.dres, blk.dnorm2, blk.dnorm2b, a.dn, la.mid, blk.norm2, la.n2mean, la.n2rstd, N)

	// mid = x + postnorm(o(attention(qkv(norm1(x)))))
	dat := a.dres
	if r.PostNorms {
		dat = a.dpost
		clear(dat)
		rmsNormBackward(dat, blk.dpostAttn, a.dres, la.po, blk.postAttn, la.poRstd, N, C)
	}
	clear(a.dao)
	blk.o.backward(a.dao, dat, C, la.ao, N, act(blk.o))
	clear(a.dqkv)
	attentionBackward(a.dqkv, a.dao, la.att, la.qkv, m.attn(blk, B, T))
	if blk.rope != nil {
		blk.rope.rotate(a.dqkv, W, N, T, 0, c.Heads, c.HeadDim, true)
		blk.rope.rotate(a.dqkv[qd:], W, N, T, 0, c.KVHeads, c.HeadDim, true)
	}
	if blk.qNorm != nil {
		headNormBackward(a.dqkv, W, N, c.Heads, c.HeadDim, blk.qNorm, la.qkPre, la.qkRstd, blk.dqNorm)
		headNormBackward(a.dqkv[qd:], W, N, c.KVHeads, c.HeadDim, blk.kNorm, splitPre(la.qkPre, N, qd, kvd), la.qkRstd[N*c.Heads:], blk.dkNorm)
	}
	// Below the first block only trainable embeddings need a gradient.
	var dn []float32
	if l > 0 || m.dwte != nil || m.dwpe != nil {
		dn = a.dn
		clear(dn)
	}
	if blk.qkv != nil {
		blk.qkv.backward(dn, a.dqkv, W, la.n1, N, act(blk.qkv))
	} else {
		blk.q.backward(dn, a.dqkv, W, la.n1, N, act(blk.q))
		blk.k.backward(dn, a.dqkv[qd:], W, la.n1, N, act(blk.k))
		blk.v.backward(dn, a.dqkv[qd+kvd:], W, la.n1, N, act(blk.v))
	}
	if dn != nil {
		m.normBackward(a.dres, blk.dnorm1, blk.dnorm1b, dn, x, blk.norm1, la.n1mean, la.n1rstd, N)
	}
}
