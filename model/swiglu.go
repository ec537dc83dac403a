package model

import "math"

// SwiGLU, Llama's feed-forward gate: out = silu(g) · u, silu(g) = g·σ(g).

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

// swigluForward combines the gate and up projections.
//
//	g (N), u (N) -> out (N)
func swigluForward(out, g, u []float32) {
	parallelFor(len(g)/1024+1, func(lo, hi int) {
		for i := lo * 1024; i < min(len(g), hi*1024); i++ {
			out[i] = g[i] * sigmoid(g[i]) * u[i]
		}
	})
}

// swigluBackward sets the gradients of the gate and up inputs.
//
//	dout (N), g (N), u (N) -> dg (N), du (N)
func swigluBackward(dg, du, dout, g, u []float32) {
	parallelFor(len(g)/1024+1, func(lo, hi int) {
		for i := lo * 1024; i < min(len(g), hi*1024); i++ {
			s := sigmoid(g[i])
			silu := g[i] * s
			du[i] = dout[i] * silu
			dg[i] = dout[i] * u[i] * s * (1 + g[i]*(1-s))
		}
	})
}
