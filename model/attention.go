package model

import (
	"math"

	"github.com/lorakit/lorakit/model/gemm"
)

// attnShape describes causal self-attention over a fused q|k|v buffer:
// B sequences of T positions, H query heads sharing KV key/value heads
// (query head h reads kv head h/(H/KV)), head width hd. Each row of the
// buffer is ld wide and holds q (H·hd), then k (KV·hd), then v (KV·hd).
// The scores are scale·q·kᵀ, soft-capped to cap·tanh(s/cap) when cap > 0;
// with window > 0 a query at position t sees only keys t−window < j ≤ t
// (llama.cpp's sliding window: masked when t − j ≥ window).
type attnShape struct {
	B, T, H, KV, hd, ld int
	scale, cap          float32
	window              int
}

// visible returns the first key position a query at position t sees.
func (s attnShape) visible(t int) int { return firstVisible(t, s.window) }

// firstVisible is the first key a query at position t sees with a sliding
// window (0: none).
func firstVisible(t, window int) int {
	if window > 0 {
		return max(0, t-window+1)
	}
	return 0
}

// softcap applies cap·tanh(s/cap) to row in place, as ggml does it: a
// float32 scale by 1/cap, tanh, a scale by cap.
func softcap(row []float32, c float32) {
	inv := 1 / c
	for j, v := range row {
		row[j] = c * float32(math.Tanh(float64(v*inv)))
	}
}

func (s attnShape) kOff() int { return s.H * s.hd }
func (s attnShape) vOff() int { return (s.H + s.KV) * s.hd }

// attentionForward computes softmax(q·kᵀ/√hd + causal mask)·v for every
// (sequence, head) pair, in parallel over the pairs, and keeps the
// probabilities for the backward pass.
//
//	qkv (B*T, ld) -> att (B,H,T,T) probabilities, out (B*T, H*hd)
func attentionForward(out, att, qkv []float32, s attnShape) {
	T, hd, ld, qd := s.T, s.hd, s.ld, s.H*s.hd
	group := s.H / s.KV
	parallelFor(s.B*s.H, 4*T*T*hd, func(lo, hi int) {
		for bh := lo; bh < hi; bh++ {
			b, h := bh/s.H, bh%s.H
			base := b * T * ld
			q := qkv[base+h*hd:]
			k := qkv[base+s.kOff()+(h/group)*hd:]
			v := qkv[base+s.vOff()+(h/group)*hd:]
			p := att[bh*T*T : (bh+1)*T*T]
			// scores (T,T) = q (T,hd) · kᵀ · scale
			gemm.Sgemm(false, true, T, T, hd, s.scale, q, ld, k, ld, 0, p, T)
			for t := range T {
				row := p[t*T : (t+1)*T]
				if s.cap > 0 {
					softcap(row[:t+1], s.cap)
				}
				maskedSoftmax(row, s.visible(t), t+1)
			}
			// out (T,hd) = p (T,T) · v (T,hd)
			gemm.Sgemm(false, false, T, hd, T, 1, p, T, v, ld, 0, out[b*T*qd+h*hd:], qd)
		}
	})
}

// maskedSoftmax turns row[lo:n] into probabilities and zeroes the rest.
func maskedSoftmax(row []float32, lo, n int) {
	m := float32(math.Inf(-1))
	for _, v := range row[lo:n] {
		m = max(m, v)
	}
	var sum float64
	for j, v := range row[lo:n] {
		e := expf(v - m)
		row[lo+j] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for j := range row[lo:n] {
		row[lo+j] *= inv
	}
	clear(row[:lo])
	clear(row[n:])
}

// attentionBackward sets the gradients of q, k and v (dqkv must be zero on
// entry in the q|k|v columns), in parallel over (sequence, kv head) so that
// the query heads sharing a kv head add into its gradient one at a time.
// Masked probabilities are zero, so their score gradients vanish; a
// soft-cap's derivative 1 − tanh² is taken from scores computed again.
//
//	dout (B*T, H*hd), att (B,H,T,T), qkv (B*T, ld) -> dqkv (B*T, ld)
func attentionBackward(dqkv, dout, att, qkv []float32, s attnShape) {
	T, hd, ld, qd := s.T, s.hd, s.ld, s.H*s.hd
	scale := s.scale
	group := s.H / s.KV
	parallelFor(s.B*s.KV, 8*group*T*T*hd, func(lo, hi int) {
		dp := getScratch(T * T)
		defer scratchPool.Put(dp)
		var zs []float32
		if s.cap > 0 {
			z := getScratch(T * T)
			defer scratchPool.Put(z)
			zs = *z
		}
		for bg := lo; bg < hi; bg++ {
			b, g := bg/s.KV, bg%s.KV
			base := b * T * ld
			k, v := qkv[base+s.kOff()+g*hd:], qkv[base+s.vOff()+g*hd:]
			dk, dv := dqkv[base+s.kOff()+g*hd:], dqkv[base+s.vOff()+g*hd:]
			for h := g * group; h < (g+1)*group; h++ {
				bh := b*s.H + h
				q, dq := qkv[base+h*hd:], dqkv[base+h*hd:]
				p := att[bh*T*T : (bh+1)*T*T]
				do := dout[b*T*qd+h*hd:]
				d := *dp
				// dp (T,T) = do (T,hd) · vᵀ;  dv (T,hd) += pᵀ · do
				gemm.Sgemm(false, true, T, T, hd, 1, do, qd, v, ld, 0, d, T)
				gemm.Sgemm(true, false, T, hd, T, 1, p, T, do, qd, 1, dv, ld)
				// ds = p ⊙ (dp − Σ_j dp·p), row by row
				for t := range T {
					pr, dr := p[t*T:t*T+t+1], d[t*T:(t+1)*T]
					var dot float32
					for j, pv := range pr {
						dot += pv * dr[j]
					}
					for j, pv := range pr {
						dr[j] = pv * (dr[j] - dot)
					}
					clear(dr[t+1:])
				}
				if zs != nil {
					// scores before the cap (T,T) = q · kᵀ · scale; ds ·= 1 − tanh²(z/cap)
					gemm.Sgemm(false, true, T, T, hd, scale, q, ld, k, ld, 0, zs, T)
					inv := 1 / s.cap
					for t := range T {
						dr, zr := d[t*T:t*T+t+1], zs[t*T:t*T+t+1]
						for j, z := range zr {
							th := float32(math.Tanh(float64(z * inv)))
							dr[j] *= 1 - th*th
						}
					}
				}
				// dq (T,hd) = ds · k · scale;  dk (T,hd) += dsᵀ · q · scale
				gemm.Sgemm(false, false, T, hd, T, scale, d, T, k, ld, 0, dq, ld)
				gemm.Sgemm(true, false, T, hd, T, scale, d, T, q, ld, 1, dk, ld)
			}
		}
	})
}
