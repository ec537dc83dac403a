package model

// SwiGLU, Llama's feed-forward gate: out = silu(g) · u, silu(g) = g·σ(g).

// swigluCost is the rough work of one element, for parallelFor.
const swigluCost = 30

// swigluForward combines the gate and up projections.
//
//	g (N), u (N) -> out (N)
func swigluForward(out, g, u []float32) {
	parallelFor(len(g), swigluCost, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i] = g[i] * sigmoid(g[i]) * u[i]
		}
	})
}

// swigluBackward sets the gradients of the gate and up inputs.
//
//	dout (N), g (N), u (N) -> dg (N), du (N)
func swigluBackward(dg, du, dout, g, u []float32) {
	parallelFor(len(g), swigluCost, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			s := sigmoid(g[i])
			silu := g[i] * s
			du[i] = dout[i] * silu
			dg[i] = dout[i] * u[i] * s * (1 + g[i]*(1-s))
		}
	})
}
