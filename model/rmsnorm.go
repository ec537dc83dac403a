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

// headNormForward is Qwen3's and Gemma 3's q/k norm: an RMSNorm over each
// head's hd values (gain w shared by the heads), in place on the first
// heads·hd columns of every row. It keeps the inputs in pre and each
// head's 1/rms in rstd for the backward pass (pre nil: inference).
//
//	x (N, ld), w (hd) -> x normalised, pre (N, heads·hd), rstd (N·heads)
func headNormForward(x []float32, ld, N, heads, hd int, w []float32, eps float32, pre, rstd []float32) {
	parallelFor(N, 6*heads*hd, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := x[i*ld : i*ld+heads*hd]
			if pre != nil {
				copy(pre[i*heads*hd:], row)
			}
			for h := range heads {
				v := row[h*hd : (h+1)*hd]
				var ss float64
				for _, a := range v {
					ss += float64(a) * float64(a)
				}
				r := float32(1 / math.Sqrt(ss/float64(hd)+float64(eps)))
				for c, a := range v {
					v[c] = a * r * w[c]
				}
				if rstd != nil {
					rstd[i*heads+h] = r
				}
			}
		}
	})
}

// headNormBackward turns d, the gradient of headNormForward's output, into
// that of its input, in place, and adds the gain's gradient to dw when
// not nil.
//
//	d (N, ld), pre (N, heads·hd), w (hd), rstd (N·heads) -> d, dw (hd) +=
func headNormBackward(d []float32, ld, N, heads, hd int, w, pre, rstd, dw []float32) {
	if dw != nil {
		for i := range N {
			for h := range heads {
				dv, xv, r := d[i*ld+h*hd:i*ld+(h+1)*hd], pre[(i*heads+h)*hd:], rstd[i*heads+h]
				for c, g := range dv {
					dw[c] += g * xv[c] * r
				}
			}
		}
	}
	parallelFor(N, 6*heads*hd, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			for h := range heads {
				dv, xv, r := d[i*ld+h*hd:i*ld+(h+1)*hd], pre[(i*heads+h)*hd:(i*heads+h+1)*hd], rstd[i*heads+h]
				var s float32
				for c, g := range dv {
					s += g * w[c] * xv[c]
				}
				k := r * r * r * s / float32(hd)
				for c, g := range dv {
					dv[c] = r*g*w[c] - xv[c]*k
				}
			}
		}
	})
}
