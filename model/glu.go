package model

import "github.com/lorakit/lorakit/arch"

// Gated feed-forward activations (llama.cpp's LLM_FFN_PAR): the gate and up
// projections of each row sit side by side in one (N, 2·FF) buffer, gate
// first, and
//
//	out = act(gate) ⊙ up,  act = SiLU (SwiGLU) or GELU-tanh (GeGLU)
//
// Phi-3's fused ffn_up writes that buffer directly; separate ffn_gate and
// ffn_up write its two halves.

// gluCost is the rough work of one element, for parallelFor.
const gluCost = 40

// gatedForward combines the gate and up halves; with table, GELU is
// llama.cpp's F16 lookup (geluF16).
//
//	gu (N, 2·FF) -> out (N, FF)
func gatedForward(out, gu []float32, N, FF int, act arch.Activation, table []uint16) {
	parallelFor(N, gluCost*FF, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			g, u, o := gu[2*i*FF:(2*i+1)*FF], gu[(2*i+1)*FF:(2*i+2)*FF], out[i*FF:(i+1)*FF]
			switch {
			case act == arch.SiLU:
				for j, x := range g {
					o[j] = x * sigmoid(x) * u[j]
				}
			case table != nil:
				for j, x := range g {
					o[j] = geluF16(x, table) * u[j]
				}
			default:
				for j, x := range g {
					o[j] = gelu(x) * u[j]
				}
			}
		}
	})
}

// gatedBackward sets the gradients of the gate and up halves (the exact
// derivative, also where the forward pass used the F16 table).
//
//	dout (N, FF), gu (N, 2·FF) -> dgu (N, 2·FF)
func gatedBackward(dgu, dout, gu []float32, N, FF int, act arch.Activation) {
	parallelFor(N, 2*gluCost*FF, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			g, u, d := gu[2*i*FF:(2*i+1)*FF], gu[(2*i+1)*FF:(2*i+2)*FF], dout[i*FF:(i+1)*FF]
			dg, du := dgu[2*i*FF:(2*i+1)*FF], dgu[(2*i+1)*FF:(2*i+2)*FF]
			for j, x := range g {
				var a, da float32
				if act == arch.SiLU {
					s := sigmoid(x)
					a, da = x*s, s*(1+x*(1-s))
				} else {
					a, da = gelu(x), geluGrad(x)
				}
				du[j] = d[j] * a
				dg[j] = d[j] * u[j] * da
			}
		}
	})
}
