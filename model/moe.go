package model

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/lorakit/lorakit/format"
)

// Mixture-of-experts feed-forward, as llama.cpp's build_moe_ffn with
// softmax gating and normalised weights (Mixtral on the llama
// architecture, Qwen3-MoE):
//
//	p   = softmax(ffn_gate_inp · x)                  over all E experts
//	S   = the K experts of largest p                 (ggml_argsort_top_k)
//	w_k = p_k / max(Σ_S p, 2⁻¹⁴)                     renormalised
//	out = Σ_k w_k · down_k( silu(gate_k·x) ⊙ up_k·x )
//
// Rows are gathered per expert, so each expert's projections are products
// over the rows routed to it.

// moeClamp is the smallest weight sum llama.cpp divides by (the smallest
// normal F16, ggml_clamp in build_moe_ffn).
const moeClamp = 6.103515625e-5

// moeActs is what a mixture-of-experts block keeps (N rows, K experts
// each, E experts of width EF): the routing, and the experts' inputs and
// activations in expert order.
type moeActs struct {
	logits, probs []float32 // (N,E) router logits, softmax
	dlogits       []float32 // (N,E) backward scratch
	sel           []int     // (N,K) chosen experts, by falling probability
	w             []float32 // (N,K) their weights
	wsum          []float32 // (N) Σ chosen probabilities before the clamp
	pos           []int     // (N,K) row of slot (i,k) in expert order
	slot          []int     // (N·K) inverse: slot i·K+k of each expert-ordered row
	start         []int     // (E+1) each expert's rows in expert order
	x, y          []float32 // (N·K, C) inputs and outputs
	gu, a         []float32 // (N·K, 2·EF) gate|up, (N·K, EF) activation
}

func newMoEActs(c Config, N int) moeActs {
	f := func(n int) []float32 { return make([]float32, n) }
	E, K, C, EF := c.Experts, c.ExpertsUsed, c.Embd, c.ExpertFF
	return moeActs{logits: f(N * E), probs: f(N * E), dlogits: f(N * E), sel: make([]int, N*K), w: f(N * K), wsum: f(N),
		pos: make([]int, N*K), slot: make([]int, N*K), start: make([]int, E+1),
		x: f(N * K * C), y: f(N * K * C), gu: f(2 * N * K * EF), a: f(N * K * EF)}
}

// route computes the router probabilities, picks each row's experts and
// weights, and orders the (row, slot) pairs by expert.
func (mo *moeActs) route(N, E, K int) {
	parallelFor(N, 8*E, func(lo, hi int) {
		idx := make([]int, E)
		for i := lo; i < hi; i++ {
			p := mo.probs[i*E : (i+1)*E]
			copy(p, mo.logits[i*E:(i+1)*E])
			maskedSoftmax(p, 0, E)
			for e := range idx {
				idx[e] = e
			}
			// falling probability; equal ones by expert index
			slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(p[b], p[a]) })
			sel := mo.sel[i*K : (i+1)*K]
			copy(sel, idx[:K])
			var sum float64
			for _, e := range sel {
				sum += float64(p[e])
			}
			mo.wsum[i] = float32(sum)
			s := max(float32(sum), moeClamp)
			for k, e := range sel {
				mo.w[i*K+k] = p[e] / s
			}
		}
	})
	clear(mo.start)
	for _, e := range mo.sel[:N*K] {
		mo.start[e+1]++
	}
	for e := range E {
		mo.start[e+1] += mo.start[e]
	}
	next := append([]int(nil), mo.start[:E]...)
	for j, e := range mo.sel[:N*K] {
		mo.pos[j] = next[e]
		mo.slot[next[e]] = j
		next[e]++
	}
}

// moeForward computes the experts' weighted sum for N rows of x.
//
//	x (N,C) -> out (N,C)
func (m *Model) moeForward(blk *block, mo *moeActs, x, out []float32, N int, act func(*linear) *linAct) {
	c := m.Config
	E, K, C, EF := c.Experts, c.ExpertsUsed, c.Embd, c.ExpertFF
	blk.router.forward(mo.logits, E, x, N, act(blk.router))
	mo.route(N, E, K)
	for j, s := range mo.slot[:N*K] {
		copy(mo.x[j*C:(j+1)*C], x[(s/K)*C:])
	}
	for e, ex := range blk.experts {
		r0, n := mo.start[e], mo.start[e+1]-mo.start[e]
		if n == 0 {
			continue
		}
		xe, gu, a := mo.x[r0*C:], mo.gu[2*r0*EF:], mo.a[r0*EF:]
		ex.gate.forward(gu, 2*EF, xe, n, act(ex.gate))
		ex.up.forward(gu[EF:], 2*EF, xe, n, act(ex.up))
		gatedForward(a, gu, n, EF, c.Recipe.Act, nil)
		ex.down.forward(mo.y[r0*C:], C, a, n, act(ex.down))
	}
	parallelFor(N, 2*K*C, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			o := out[i*C : (i+1)*C]
			clear(o)
			for k := range K {
				w, y := mo.w[i*K+k], mo.y[mo.pos[i*K+k]*C:]
				for d := range o {
					o[d] += w * y[d]
				}
			}
		}
	})
}

// moeBackward adds the input gradient of moeForward to dx, and the
// router's and experts' parameter gradients to theirs. The choice of
// experts is piecewise constant; the gradient flows through the weights
// into the router logits and through the chosen experts.
//
//	dout (N,C), x (N,C) -> dx (N,C) +=
func (m *Model) moeBackward(blk *block, mo *moeActs, dx, dout, x []float32, N int, a *acts, act func(*linear) *linAct) {
	c := m.Config
	E, K, C, EF := c.Experts, c.ExpertsUsed, c.Embd, c.ExpertFF
	dy := a.dmoe
	// dw_(i,k) = dout_i · y_j;  dy_j = w_(i,k) · dout_i;  then the router
	parallelFor(N, 4*K*C+4*E*K, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d := dout[i*C : (i+1)*C]
			p, dl := mo.probs[i*E:(i+1)*E], mo.dlogits[i*E:(i+1)*E]
			clear(dl) // dl holds dL/dp first
			s := max(mo.wsum[i], moeClamp)
			var dws float32 // Σ_k dw_k · p_k
			for k := range K {
				j := mo.pos[i*K+k]
				y, g := mo.y[j*C:(j+1)*C], dy[j*C:(j+1)*C]
				w := mo.w[i*K+k]
				var dw float32
				for t, v := range d {
					dw += v * y[t]
					g[t] = w * v
				}
				e := mo.sel[i*K+k]
				dl[e] = dw / s
				dws += dw * p[e]
			}
			if mo.wsum[i] >= moeClamp {
				for _, e := range mo.sel[i*K : (i+1)*K] {
					dl[e] -= dws / (s * s)
				}
			}
			// softmax: dlogit_e = p_e (dp_e − Σ_f p_f dp_f)
			var dot float32
			for e, v := range dl {
				dot += v * p[e]
			}
			for e, v := range dl {
				dl[e] = p[e] * (v - dot)
			}
		}
	})
	for e, ex := range blk.experts {
		r0, n := mo.start[e], mo.start[e+1]-mo.start[e]
		if n == 0 {
			continue
		}
		xe, gu, ae := mo.x[r0*C:], mo.gu[2*r0*EF:], mo.a[r0*EF:]
		da, dgu, dye := a.da[r0*EF:(r0+n)*EF], a.dh[2*r0*EF:], dy[r0*C:(r0+n)*C]
		clear(da)
		ex.down.backward(da, dye, C, ae, n, act(ex.down))
		gatedBackward(dgu, da, gu, n, EF, c.Recipe.Act)
		dxe := dye // dy_e is spent: its rows take the experts' input gradient
		clear(dxe)
		ex.gate.backward(dxe, dgu, 2*EF, xe, n, act(ex.gate))
		ex.up.backward(dxe, dgu[EF:], 2*EF, xe, n, act(ex.up))
	}
	for j, s := range mo.slot[:N*K] {
		o, g := dx[(s/K)*C:(s/K+1)*C], dy[j*C:(j+1)*C]
		for t, v := range g {
			o[t] += v
		}
	}
	blk.router.backward(dx, mo.dlogits, E, x, N, act(blk.router))
}

// ApplyExpertLoRA attaches a runtime LoRA update to every expert of a
// stacked expert tensor (module "blk.N.ffn_up_exps", "ffn_gate_exps" or
// "ffn_down_exps"), as llama.cpp's 3-D adapter tensors hold them: expert e
// gets A_e = a[e] (rank, in) and B_e = b[e] (out, rank), its update
// scale·B_e·A_e applied only to the rows routed to it (llama.cpp's
// build_lora_mm_id). The parts become trainable like ApplyAdapter's;
// Adapter exports them as one stacked module per expert tensor.
func (m *Model) ApplyExpertLoRA(module string, a, b [][]float32, rank int, scale float64) error {
	lins, err := m.expertTargets(module, a, b, rank)
	if err != nil {
		return err
	}
	for e, l := range lins {
		l.parts = append(l.parts, &loraPart{out: l.w.Rows, in: l.w.Cols, rank: rank, alpha: float64(rank) * scale,
			scale: float32(scale), a: a[e], b: b[e]})
	}
	m.layoutLoRA()
	return nil
}

// expertTargets finds the experts' projections of a stacked expert tensor
// and checks an expert LoRA (a[e], b[e] of rank rank) against them,
// changing nothing.
func (m *Model) expertTargets(module string, a, b [][]float32, rank int) ([]*linear, error) {
	if m.opts.FullFineTune {
		return nil, fmt.Errorf("model: LoRA on a fully fine-tuned model: %w", format.ErrUnsupported)
	}
	var lins []*linear
	for i := range m.blocks {
		for _, l := range m.blocks[i].linears() {
			if l.stacked && l.name == module {
				lins = append(lins, l)
			}
		}
	}
	switch {
	case len(lins) == 0:
		return nil, fmt.Errorf("model: expert adapter %q: no such stacked expert tensor in this %s model: %w", module, m.Config.Arch, format.ErrNotFound)
	case len(a) != len(lins) || len(b) != len(lins):
		return nil, fmt.Errorf("model: expert adapter %q: %d A and %d B for %d experts: %w", module, len(a), len(b), len(lins), format.ErrShape)
	case rank <= 0 || rank > maxDim:
		return nil, fmt.Errorf("model: expert adapter %q: rank %d: %w", module, rank, format.ErrFormat)
	}
	for e, l := range lins {
		switch {
		case len(a[e]) != rank*l.w.Cols || len(b[e]) != l.w.Rows*rank:
			return nil, fmt.Errorf("model: expert adapter %q expert %d: A %d and B %d values for rank %d on (%d,%d): %w",
				module, e, len(a[e]), len(b[e]), rank, l.w.Rows, l.w.Cols, format.ErrShape)
		case len(l.parts) > 0:
			return nil, fmt.Errorf("model: expert adapter %q: adapted already: %w", module, format.ErrExists)
		}
	}
	return lins, nil
}

// linear returns the expert's projection from stack which (0 gate, 1 up, 2 down).
func (e expert) linear(which int) *linear { return [3]*linear{e.gate, e.up, e.down}[which] }

// dequantizeStack turns a kept-quantized stacked expert tensor into
// float32 in place and points its experts at the new values.
func (b *block) dequantizeStack(which int) {
	st := b.stacks[which]
	st.Dequantize()
	rows := st.Rows / len(b.experts)
	for e := range b.experts {
		b.experts[e].linear(which).w = st.rowBlock(e*rows, (e+1)*rows)
	}
}
