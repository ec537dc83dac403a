package model

import "math"

// layerNormForward normalises each row to zero mean and unit variance
// (statistics in float64, as ggml's norm), then scales and shifts. It
// saves each row's mean and 1/std for the backward pass.
//
//	x (N,C), w (C), b (C) -> out (N,C), mean (N), rstd (N)
func layerNormForward(out, mean, rstd, x, w, b []float32, N, C int, eps float32) {
	parallelFor(N, 8*C, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xi := x[i*C : (i+1)*C]
			var s float64
			for _, v := range xi {
				s += float64(v)
			}
			m := s / float64(C)
			var ss float64
			for _, v := range xi {
				d := float64(v) - m
				ss += d * d
			}
			r := float32(1 / math.Sqrt(ss/float64(C)+float64(eps)))
			mf := float32(m)
			o := out[i*C : (i+1)*C]
			for c, v := range xi {
				o[c] = (v-mf)*r*w[c] + b[c]
			}
			mean[i], rstd[i] = mf, r
		}
	})
}

// layerNormBackward accumulates the gradient of layerNormForward into dx
// and, when not nil, into dw and db (full fine-tuning).
//
//	dout (N,C), x (N,C), w (C), mean (N), rstd (N) -> dx (N,C) +=, dw (C) +=, db (C) +=
func layerNormBackward(dx, dw, db, dout, x, w, mean, rstd []float32, N, C int) {
	parallelFor(N, 8*C, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d := dout[i*C : (i+1)*C]
			xi := x[i*C : (i+1)*C]
			m, r := mean[i], rstd[i]
			// dnorm = dout*w; dx = r*(dnorm - mean(dnorm) - norm*mean(dnorm*norm))
			var sd, sdn float32
			for c := range d {
				n := (xi[c] - m) * r
				dn := d[c] * w[c]
				sd += dn
				sdn += dn * n
			}
			sd /= float32(C)
			sdn /= float32(C)
			o := dx[i*C : (i+1)*C]
			for c := range d {
				n := (xi[c] - m) * r
				o[c] += r * (d[c]*w[c] - sd - n*sdn)
			}
		}
	})
	if dw != nil {
		for i := range N {
			d := dout[i*C : (i+1)*C]
			xi := x[i*C : (i+1)*C]
			for c := range d {
				dw[c] += d[c] * (xi[c] - mean[i]) * rstd[i]
				db[c] += d[c]
			}
		}
	}
}
