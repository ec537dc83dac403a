package model

import (
	"math"

	"github.com/lorakit/lorakit/format/half"
)

// attentionF16 computes causal attention the way llama.cpp's CPU flash
// attention does with its default F16 KV cache
// (ggml_compute_forward_flash_attn_ext_f16): q, k and v rounded to F16,
// scores q·k (float32 sum) times 1/√hd, an online softmax over the keys
// in order, and the weighted sum of v accumulated in an F16 vector that
// is rounded after every update and rescaled whenever the running maximum
// grows; the output is that vector divided by the sum of weights. The
// scores are scaled, soft-capped and windowed as attentionForward's. It
// keeps no probabilities: it serves forward passes without gradients
// (Options.LlamaAttention).
//
//	qkv (B*T, ld) -> out (B*T, H*hd)
func attentionF16(out, qkv []float32, s attnShape) {
	T, hd, ld, qd := s.T, s.hd, s.ld, s.H*s.hd
	group := s.H / s.KV
	// q, k and v as the F16 cache and ggml's F16 vec_dot see them.
	r16 := make([]float32, len(qkv))
	parallelFor(len(qkv)/ld, 2*ld, func(lo, hi int) {
		for i, v := range qkv[lo*ld : hi*ld] {
			r16[lo*ld+i] = roundF16(v)
		}
	})
	parallelFor(s.B*s.H, 4*T*T*hd, func(lo, hi int) {
		acc := make([]float32, hd)
		for bh := lo; bh < hi; bh++ {
			b, h := bh/s.H, bh%s.H
			base := b * T * ld
			for t := range T {
				q16 := r16[base+t*ld+h*hd:][:hd]
				clear(acc)
				sum, m := float32(0), float32(math.Inf(-1))
				for c := s.visible(t); c <= t; c++ {
					k := r16[base+c*ld+s.kOff()+(h/group)*hd:][:hd]
					v := r16[base+c*ld+s.vOff()+(h/group)*hd:][:hd]
					var dot float32
					for j, x := range q16 {
						dot += x * k[j]
					}
					score := dot * s.scale
					if s.cap > 0 {
						score = s.cap * float32(math.Tanh(float64(score/s.cap)))
					}
					ms, vs := float32(1), float32(1)
					if score > m {
						ms, m = expf(m-score), score
						for j := range acc {
							acc[j] = roundF16(acc[j] * ms)
						}
					} else {
						vs = expf(score - m)
					}
					for j := range acc {
						acc[j] = roundF16(acc[j] + v[j]*vs)
					}
					sum = sum*ms + vs
				}
				o := out[b*T*qd+t*qd+h*hd:][:hd]
				for j := range o {
					o[j] = acc[j] / sum
				}
			}
		}
	})
}

// roundF16 rounds x to the nearest binary16 value.
func roundF16(x float32) float32 { return half.F16Float32(half.F16(x)) }
