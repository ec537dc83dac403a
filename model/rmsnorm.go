package model

import "math"

// rmsNormForward scales each row by the inverse of its root mean square
// (accumulated in float64, as ggml's rms_norm) and by the gain w. It saves
// each row's 1/rms for the backward pass.
//
//	x (N,C), w (C) -> out (N,C), rstd (N)
func rmsNormForward(out, rstd, x, w []float32, N, C int, eps float32) {
	parallelFor(N, 6*C, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xi := x[i*C : (i+1)*C]
			var ss float64
			for _, v := range xi {
				ss += float64(v) * float64(v)
			}
			r := float32(1 / math.Sqrt(ss/float64(C)+float64(eps)))
			o := out[i*C : (i+1)*C]
			for c, v := range xi {
				o[c] = v * r * w[c]
			}
			rstd[i] = r
		}
	})
}

// rmsNormBackward accumulates the gradient of rmsNormForward into dx and,
// when not nil, into dw (full fine-tuning).
//
//	dout (N,C), x (N,C), w (C), rstd (N) -> dx (N,C) +=, dw (C) +=
func rmsNormBackward(dx, dw, dout, x, w, rstd []float32, N, C int) {
	parallelFor(N, 6*C, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d := dout[i*C : (i+1)*C]
			xi := x[i*C : (i+1)*C]
			r := rstd[i]
			// dx = r*dn - x * r^3 * mean(dn*x), dn = dout*w
			var s float32
			for c := range d {
				s += d[c] * w[c] * xi[c]
			}
			k := r * r * r * s / float32(C)
			o := dx[i*C : (i+1)*C]
			for c := range d {
				o[c] += r*d[c]*w[c] - xi[c]*k
			}
		}
	})
	if dw != nil {
		for i := range N {
			d := dout[i*C : (i+1)*C]
			xi := x[i*C : (i+1)*C]
			for c := range d {
				dw[c] += d[c] * xi[c] * rstd[i]
			}
		}
	}
}
