package model

import (
	"math"

	"github.com/lorakit/lorakit/model/gemm"
)

// classifierChunk bounds the logits held at once: about 32M floats (128
// MiB), so the vocabulary-sized probabilities exist once, a chunk of rows
// at a time, and are turned into their gradient in place. Every chunk
// re-packs the head's weight for both of its products (GPT-2's 50,257 x
// 768 is 154 MB), so chunks are as large as this allows, and equal.
const classifierChunk = 1 << 25

// headScratch is the classifier's working memory, kept between steps so
// the vocabulary-sized logits are not allocated again each time.
type headScratch struct {
	x, z, dx []float32
	th       []float32 // tanh(z/cap) of soft-capped logits, for their gradient
	rows     []int
	losses   []float64
}

// classifier is the lm head fused with softmax cross-entropy, forward and
// backward. Only rows with a non-zero weight are computed: rows are
// gathered a chunk at a time, their logits computed, turned into
// probabilities, the loss taken, and (when dx is not nil) the probabilities
// overwritten by d loss/d logits, which flow straight back through the
// head. With label smoothing ε the target distribution is
// (1−ε)·onehot + ε/V. With capZ > 0 the logits are soft-capped first,
// capZ·tanh(z/capZ) (Gemma 2's final_logit_softcapping). It returns
// Σ weight·loss. sc, when not nil, is reused working memory.
//
//	x (N,C), w (V,C), targets (N), weight (N) -> loss; dx (N,C) = ∂loss/∂x, dw (V,C) += ∂loss/∂w
func classifier(sc *headScratch, x []float32, N, C int, w *Matrix, capZ float32, targets []int, weight []float32, smoothing float32, dx, dw []float32) float64 {
	if sc == nil {
		sc = new(headScratch)
	}
	V := w.Rows
	rows := sc.rows[:0]
	for i := range N {
		if weight[i] != 0 {
			rows = append(rows, i)
		}
	}
	if dx != nil {
		clear(dx[:N*C])
	}
	chunk := max(1, min(len(rows), classifierChunk/V))
	if nc := (len(rows) + chunk - 1) / max(chunk, 1); nc > 1 {
		chunk = (len(rows) + nc - 1) / nc
	}
	sc.rows = rows
	sc.x, sc.z, sc.dx = grow(sc.x, chunk*C), grow(sc.z, chunk*V), grow(sc.dx, chunk*C)
	if capZ > 0 && dx != nil {
		sc.th = grow(sc.th, chunk*V)
	}
	if cap(sc.losses) < chunk {
		sc.losses = make([]float64, chunk)
	}
	losses := sc.losses[:chunk]
	var total float64
	for c0 := 0; c0 < len(rows); c0 += chunk {
		idx := rows[c0:min(len(rows), c0+chunk)]
		n := len(idx)
		x1, z := sc.x[:n*C], sc.z[:n*V]
		for r, i := range idx {
			copy(x1[r*C:(r+1)*C], x[i*C:(i+1)*C])
		}
		// z (n,V) = x1 (n,C) · wᵀ
		w.MulNT(z, V, x1, n, false)
		parallelFor(n, 30*V, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				i := idx[r]
				zr := z[r*V : (r+1)*V]
				if capZ > 0 {
					softcap(zr, capZ)
				}
				if capZ > 0 && dx != nil {
					th := sc.th[r*V : (r+1)*V]
					for j, v := range zr {
						th[j] = v / capZ
					}
				}
				losses[r] = softmaxXent(zr, targets[i], smoothing, weight[i], dx != nil)
				if capZ > 0 && dx != nil {
					// through the cap: ∂/∂z = ∂/∂(capped) · (1 − tanh²)
					for j, t := range sc.th[r*V : (r+1)*V] {
						zr[j] *= 1 - t*t
					}
				}
			}
		})
		for r := range n {
			total += float64(weight[idx[r]]) * losses[r]
		}
		if dx == nil {
			continue
		}
		// dx1 (n,C) = dz (n,V) · w;  dw (V,C) += dzᵀ · x1
		dx1 := sc.dx[:n*C]
		w.MulNN(dx1, z, V, n, false)
		for r, i := range idx {
			copy(dx[i*C:(i+1)*C], dx1[r*C:(r+1)*C])
		}
		if dw != nil {
			gemm.Sgemm(true, false, V, C, n, 1, z, V, x1, C, 1, dw, C)
		}
	}
	return total
}

// softmaxXent returns the cross-entropy of logits z against target t
// (smoothed by ε: (1−ε)·(lse − z_t) + ε·(lse − mean z)) and overwrites z:
// with grad by weight·∂loss/∂z = weight·(softmax(z) − (1−ε)·onehot − ε/V),
// otherwise by exp(z − max z). The sums run in four float32 lanes over
// blocks of xentBlock values, added up in float64.
func softmaxXent(z []float32, t int, eps, weight float32, grad bool) float64 {
	zt := float64(z[t])
	m := maxf(z)
	var sumZ float64
	if eps != 0 {
		for _, v := range z {
			sumZ += float64(v)
		}
	}
	sum := expSub(z, m)
	lse := float64(m) + math.Log(sum)
	loss := lse - zt
	if eps != 0 {
		loss = (1-float64(eps))*loss + float64(eps)*(lse-sumZ/float64(len(z)))
	}
	if grad {
		inv := float32(1/sum) * weight
		u := eps / float32(len(z)) * weight
		axpb(z, inv, -u)
		z[t] -= (1 - eps) * weight
	}
	return loss
}

// xentBlock is how many values a float32 partial sum covers before it is
// added to the float64 total.
const xentBlock = 1024

// maxf returns the largest value of z (len(z) > 0), in four lanes.
func maxf(z []float32) float32 {
	if n := len(z) &^ 7; haveVec && n > 0 {
		m := maxAVX2(z[:n])
		for _, v := range z[n:] {
			m = max(m, v)
		}
		return m
	}
	m0 := z[0]
	m1, m2, m3 := m0, m0, m0
	i := 0
	for ; i+4 <= len(z); i += 4 {
		q := z[i : i+4 : i+4]
		if q[0] > m0 {
			m0 = q[0]
		}
		if q[1] > m1 {
			m1 = q[1]
		}
		if q[2] > m2 {
			m2 = q[2]
		}
		if q[3] > m3 {
			m3 = q[3]
		}
	}
	for ; i < len(z); i++ {
		if z[i] > m0 {
			m0 = z[i]
		}
	}
	return max(m0, m1, m2, m3)
}

// axpb sets z = z·a + b.
func axpb(z []float32, a, b float32) {
	i := 0
	if haveVec {
		i = len(z) &^ 7
		axpbAVX2(z[:i], a, b)
	}
	for ; i < len(z); i++ {
		z[i] = z[i]*a + b
	}
}

// expSub overwrites z by exp(z − m), m ≥ max z, and returns their sum.
func expSub(z []float32, m float32) float64 {
	var sum float64
	for b := 0; b < len(z); b += xentBlock {
		blk := z[b:min(len(z), b+xentBlock)]
		var s0, s1, s2, s3 float32
		i := 0
		if haveVec {
			i = len(blk) &^ 7
			s1 = expSubAVX2(blk[:i], m)
		}
		for ; i+4 <= len(blk); i += 4 {
			q := blk[i : i+4 : i+4]
			e0, e1, e2, e3 := expf(q[0]-m), expf(q[1]-m), expf(q[2]-m), expf(q[3]-m)
			q[0], q[1], q[2], q[3] = e0, e1, e2, e3
			s0, s1, s2, s3 = s0+e0, s1+e1, s2+e2, s3+e3
		}
		for ; i < len(blk); i++ {
			e := expf(blk[i] - m)
			blk[i] = e
			s0 += e
		}
		sum += float64(s0+s1) + float64(s2+s3)
	}
	return sum
}
