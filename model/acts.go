package model

// layerActs is what one block keeps from the forward pass (N = B*T rows).
type layerActs struct {
	n1, n1mean, n1rstd []float32 // attention norm: out (N,C), stats (N)
	qkv                []float32 // (N, QKVDim): q|k|v, after RoPE
	att                []float32 // (B,H,T,T) attention probabilities
	ao                 []float32 // (N, QDim) attention output before attn_output
	mid                []float32 // (N,C) residual after attention
	n2, n2mean, n2rstd []float32 // ffn norm
	h                  []float32 // (N,FF) ffn_up output (GELU input for gpt2)
	g                  []float32 // (N,FF) ffn_gate output (llama)
	a                  []float32 // (N,FF) activation: gelu(h) or silu(g)·h
	lin                [8]linAct // per projection, in block.linears() order
}

// acts holds the activations of one batch shape and the backward scratch.
type acts struct {
	B, T   int
	resid  [][]float32 // Layers+1 residual streams (N,C): resid[0] is the embedding
	layers []layerActs
	nf     []float32 // final norm (N,C)
	nfmean []float32
	nfrstd []float32

	weight  []float32 // (N) loss weight of each row
	tokens  []int     // copies of the batch
	targets []int
	ready   bool // a Forward with gradients ran and Backward has not yet

	head headScratch // the lm head's logits chunk and gathers

	// backward scratch
	dres, dn, dnf, dqkv, dao, da, dh, dg []float32
}

// actsFor returns the activation buffers for a (B,T) batch, reusing the
// previous ones when the shape is unchanged.
func (m *Model) actsFor(B, T int) *acts {
	if a := m.acts; a != nil && a.B == B && a.T == T {
		return a
	}
	c := m.Config
	N, C, FF := B*T, c.Embd, c.FF
	a := &acts{B: B, T: T}
	f := func(n int) []float32 { return make([]float32, n) }
	a.resid = make([][]float32, c.Layers+1)
	for i := range a.resid {
		a.resid[i] = f(N * C)
	}
	a.layers = make([]layerActs, c.Layers)
	for i := range a.layers {
		la := &a.layers[i]
		la.n1, la.n1mean, la.n1rstd = f(N*C), f(N), f(N)
		la.qkv, la.att, la.ao, la.mid = f(N*c.QKVDim()), f(B*c.Heads*T*T), f(N*c.QDim()), f(N*C)
		la.n2, la.n2mean, la.n2rstd = f(N*C), f(N), f(N)
		la.h, la.a = f(N*FF), f(N*FF)
		if c.Arch == ArchLlama {
			la.g = f(N * FF)
		}
	}
	a.nf, a.nfmean, a.nfrstd, a.weight = f(N*C), f(N), f(N), f(N)
	a.dres, a.dn, a.dnf, a.dqkv, a.dao = f(N*C), f(N*C), f(N*C), f(N*c.QKVDim()), f(N*c.QDim())
	a.da, a.dh = f(N*FF), f(N*FF)
	if c.Arch == ArchLlama {
		a.dg = f(N * FF)
	}
	m.acts = a
	return a
}
