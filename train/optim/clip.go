package optim

import "math"

// GradNorm returns the global L2 norm of all gradients, summed in float64
// in parameter order (the same value on every run).
func GradNorm(params []Param) float64 {
	var ss float64
	for _, p := range params {
		for _, g := range p.Grad {
			ss += float64(g) * float64(g)
		}
	}
	return math.Sqrt(ss)
}

// ClipGradNorm scales all gradients so that their global L2 norm is at most
// maxNorm, as torch.nn.utils.clip_grad_norm_ does: by
// maxNorm/(norm + 1e-6) when that is below 1. It returns the norm before
// clipping. maxNorm ≤ 0 only measures.
func ClipGradNorm(params []Param, maxNorm float64) float64 {
	norm := GradNorm(params)
	if maxNorm <= 0 {
		return norm
	}
	if coef := maxNorm / (norm + 1e-6); coef < 1 {
		ScaleGrad(params, coef)
	}
	return norm
}

// Accumulator counts micro-batches for gradient accumulation: gradients of
// Every micro-batches are summed into Param.Grad (each loss scaled by
// LossScale, so the sum is their mean) before one optimizer step.
type Accumulator struct {
	Every int // micro-batches per optimizer step (≤ 1: every one)
	n     int // micro-batches since the last step
}

// LossScale is the factor each micro-batch's loss (and so its gradient)
// is multiplied by: 1/Every.
func (a *Accumulator) LossScale() float64 { return 1 / float64(max(a.Every, 1)) }

// Add records one micro-batch and reports whether it completes an
// optimizer step (then the count restarts).
func (a *Accumulator) Add() bool {
	a.n++
	if a.n >= max(a.Every, 1) {
		a.n = 0
		return true
	}
	return false
}

// Pending returns the micro-batches added since the last step.
func (a *Accumulator) Pending() int { return a.n }
