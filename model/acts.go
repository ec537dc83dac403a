package model

import "github.com/lorakit/lorakit/arch"

// layerActs is what one block keeps from the forward pass (N = B*T rows);
// Session reuses one for its steps. Buffers a recipe does not need are nil.
type layerActs struct {
	n1, n1mean, n1rstd []float32 // attention norm: out (N,C), stats (N)
	qkv                []float32 // (N, QKVDim): q|k|v, after the q/k norm and RoPE
	qkPre, qkRstd      []float32 // q/k norm: q|k before it (N, QDim+KVDim), 1/rms (N·(H+KV))
	att                []float32 // (B,H,T,T) attention probabilities
	ao                 []float32 // (N, QDim) attention output before attn_output
	po, poRstd         []float32 // post-attention norm: its input (N,C) and 1/rms (N)
	mid                []float32 // (N,C) residual after attention
	n2, n2mean, n2rstd []float32 // ffn norm
	h                  []float32 // ffn_up output (N,FF), or gate|up (N, 2·FF) for a gated MLP
	a                  []float32 // (N,FF) activation: gelu(h) or act(gate)·up
	fo, foRstd         []float32 // post-FFN norm: its input (N,C) and 1/rms (N)
	moe                moeActs   // mixture of experts
	lin                []linAct  // per projection, in block.linears() order
}

// newLayerActs allocates one block's activations for N rows; att is the
// size of the attention probabilities (0 for a Session).
func newLayerActs(c Config, N, att int) layerActs {
	f := func(n int) []float32 { return make([]float32, n) }
	r := c.Recipe
	C, FF := c.Embd, c.FF
	la := layerActs{n1: f(N * C), n1mean: f(N), n1rstd: f(N), qkv: f(N * c.QKVDim()), att: f(att), ao: f(N * c.QDim()),
		mid: f(N * C), n2: f(N * C), n2mean: f(N), n2rstd: f(N), a: f(N * FF)}
	switch {
	case c.Experts > 0:
		la.moe = newMoEActs(c, N)
	case r.MLP == arch.MLPGated:
		la.h = f(2 * N * FF)
	default:
		la.h = f(N * FF)
	}
	if r.QKNorm {
		la.qkPre, la.qkRstd = f(N*(c.QDim()+c.KVDim())), f(N*(c.Heads+c.KVHeads))
	}
	if r.PostNorms {
		la.po, la.poRstd, la.fo, la.foRstd = f(N*C), f(N), f(N*C), f(N)
	}
	return la
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

	// backward scratch: dh is (N, 2·FF) for a gated MLP; dpost (N,C) the
	// gradient of a post-norm's input
	dres, dn, dnf, dqkv, dao, da, dh, dpost []float32
	dmoe                                    []float32 // (N·K, C): gradient of the experts' outputs or inputs
}

// actsFor returns the activation buffers for a (B,T) batch, reusing the
// previous ones when the shape is unchanged.
func (m *Model) actsFor(B, T int) *acts {
	if a := m.acts; a != nil && a.B == B && a.T == T {
		return a
	}
	c := m.Config
	N, C := B*T, c.Embd
	a := &acts{B: B, T: T}
	f := func(n int) []float32 { return make([]float32, n) }
	a.resid = make([][]float32, c.Layers+1)
	for i := range a.resid {
		a.resid[i] = f(N * C)
	}
	a.layers = make([]layerActs, c.Layers)
	for i := range a.layers {
		a.layers[i] = newLayerActs(c, N, B*c.Heads*T*T)
	}
	a.nf, a.nfmean, a.nfrstd, a.weight = f(N*C), f(N), f(N), f(N)
	a.dres, a.dn, a.dnf, a.dqkv, a.dao = f(N*C), f(N*C), f(N*C), f(N*c.QKVDim()), f(N*c.QDim())
	a.da, a.dh = f(N*c.FF), f(len(a.layers[0].h))
	if c.Experts > 0 {
		K, EF := c.ExpertsUsed, c.ExpertFF
		a.da, a.dh, a.dmoe = f(N*K*EF), f(2*N*K*EF), f(N*K*C)
	}
	if c.Recipe.PostNorms {
		a.dpost = f(N * C)
	}
	m.acts = a
	return a
}
