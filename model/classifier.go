package model

import (
	"math"

	"github.com/lorakit/lorakit/model/gemm"
)

// classifierChunk bounds the logits held at once: about 16M floats (64 MiB),
// so the vocabulary-sized probabilities exist once, a chunk of rows at a
// time, and are turned into their gradient in place.
const classifierChunk = 1 << 24

// classifier is the lm head fused with softmax cross-entropy, forward and
// backward. Only rows with a non-zero weight are computed: rows are
// gathered a chunk at a time, their logits computed, turned into
// probabilities, the loss taken, and (when dx is not nil) the probabilities
// overwritten by d loss/d logits, which flow straight back through the
// head. With label smoothing ε the target distribution is
// (1−ε)·onehot + ε/V. It returns Σ weight·loss.
//
//	x (N,C), w (V,C), targets (N), weight (N) -> loss; dx (N,C) = ∂loss/∂x, dw (V,C) += ∂loss/∂w
func classifier(x []float32, N, C int, w *Matrix, targets []int, weight []float32, smoothing float32, dx, dw []float32) float64 {
	V := w.Rows
	rows := make([]int, 0, N)
	for i := range N {
		if weight[i] != 0 {
			rows = append(rows, i)
		}
	}
	if dx != nil {
		clear(dx[:N*C])
	}
	chunk := max(1, min(len(rows), classifierChunk/V))
	xs := getScratch(chunk * C)
	defer scratchPool.Put(xs)
	zs := getScratch(chunk * V)
	defer scratchPool.Put(zs)
	losses := make([]float64, chunk)
	var total float64
	for c0 := 0; c0 < len(rows); c0 += chunk {
		idx := rows[c0:min(len(rows), c0+chunk)]
		n := len(idx)
		x1, z := (*xs)[:n*C], (*zs)[:n*V]
		for r, i := range idx {
			copy(x1[r*C:(r+1)*C], x[i*C:(i+1)*C])
		}
		// z (n,V) = x1 (n,C) · wᵀ
		w.MulNT(z, V, x1, n, false)
		parallelFor(n, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				i := idx[r]
				losses[r] = softmaxXent(z[r*V:(r+1)*V], targets[i], smoothing, weight[i], dx != nil)
			}
		})
		for r := range n {
			total += float64(weight[idx[r]]) * losses[r]
		}
		if dx == nil {
			continue
		}
		// dx1 (n,C) = dz (n,V) · w;  dw (V,C) += dzᵀ · x1
		dx1 := getScratch(n * C)
		w.MulNN(*dx1, z, V, n, false)
		for r, i := range idx {
			copy(dx[i*C:(i+1)*C], (*dx1)[r*C:(r+1)*C])
		}
		scratchPool.Put(dx1)
		if dw != nil {
			gemm.Sgemm(true, false, V, C, n, 1, z, V, x1, C, 1, dw, C)
		}
	}
	return total
}

// softmaxXent returns the cross-entropy of logits z against target t
// (smoothed by ε: (1−ε)·(lse − z_t) + ε·(lse − mean z)) and, with grad,
// overwrites z with weight·∂loss/∂z = weight·(softmax(z) − (1−ε)·onehot − ε/V).
func softmaxXent(z []float32, t int, eps, weight float32, grad bool) float64 {
	zt := float64(z[t])
	m := z[0]
	var sumZ float64
	for _, v := range z {
		m = max(m, v)
		sumZ += float64(v)
	}
	var sum float64
	for j, v := range z {
		e := expf(v - m)
		if grad {
			z[j] = e
		}
		sum += float64(e)
	}
	lse := float64(m) + math.Log(sum)
	loss := lse - zt
	if eps != 0 {
		loss = (1-float64(eps))*loss + float64(eps)*(lse-sumZ/float64(len(z)))
	}
	if grad {
		inv := float32(1/sum) * weight
		u := eps / float32(len(z)) * weight
		for j := range z {
			z[j] = z[j]*inv - u
		}
		z[t] -= (1 - eps) * weight
	}
	return loss
}
