package model

import (
	"math/rand/v2"

	"github.com/lorakit/lorakit/model/gemm"
)

// linear is one projection y = x·Wᵀ + b of the model, named by its GGUF
// module name ("blk.0.attn_q"), with the LoRA parts attached to it:
//
//	y = x·Wᵀ + b + Σ_parts s · dropout(x)·Aᵀ·Bᵀ   (into the part's output columns)
//
// W is frozen (dw nil) unless the model is fully fine-tuned.
type linear struct {
	name string
	// stacked: one expert of the stacked expert tensor name (its rows
	// e·out..(e+1)·out for the block's e-th expert)
	stacked bool
	expert  int // the expert's index in its stack (stacked only)
	w       *Matrix
	b       []float32 // (Rows) or nil
	dw, db  []float32 // full fine-tuning gradients, or nil
	parts   []*loraPart
	// dropout is the probability of zeroing an input of the LoRA path
	// (training only), drawn from rng, whose state is src (saved and
	// restored by Model.DropoutState and SetDropoutState).
	dropout float32
	src     *rand.PCG
	rng     *rand.Rand
	// observer, if set, sees every forward input (observe.go).
	observer InputObserver
}

// loraPart is one low-rank update of a linear, covering its output columns
// [off, off+out): GPT-2's fused attn_qkv can carry separate q, k and v
// parts, as loralib's MergedLinear does.
type loraPart struct {
	off, out, in, rank int
	scale              float32
	alpha              float64
	rsLoRA             bool
	a, b               []float32 // A (rank,in), B (out,rank): views of the LoRA buffer
	da, db             []float32 // their gradients
}

// linAct is what one linear keeps from its forward pass for the backward.
type linAct struct {
	xd   []float32   // dropout(x) (n,in), only with dropout
	keep []float32   // (n,in): 0 or 1/(1−p), only with dropout
	xa   [][]float32 // per part: dropout(x)·Aᵀ (n,rank)
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// forward computes the layer for n rows; act, when not nil, keeps what the
// backward pass needs (and enables dropout).
//
//	x (n,in) -> y (n, ldy), columns [0, out)
func (l *linear) forward(y []float32, ldy int, x []float32, n int, act *linAct) {
	out, in := l.w.Rows, l.w.Cols
	l.observe(x, n)
	l.w.MulNT(y, ldy, x, n, false)
	if l.b != nil {
		parallelFor(n, 2*out, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				row := y[i*ldy : i*ldy+out]
				for j, b := range l.b {
					row[j] += b
				}
			}
		})
	}
	if len(l.parts) == 0 {
		return
	}
	xd := x
	if act != nil && l.dropout > 0 {
		act.xd, act.keep = grow(act.xd, n*in), grow(act.keep, n*in)
		inv := 1 / (1 - l.dropout)
		for i := range n * in {
			k := float32(0)
			if l.rng.Float32() >= l.dropout {
				k = inv
			}
			act.keep[i] = k
			act.xd[i] = x[i] * k
		}
		xd = act.xd
	}
	if act != nil && len(act.xa) != len(l.parts) {
		act.xa = make([][]float32, len(l.parts))
	}
	for pi, p := range l.parts {
		var xa []float32
		if act != nil {
			act.xa[pi] = grow(act.xa[pi], n*p.rank)
			xa = act.xa[pi]
		} else {
			s := getScratch(n * p.rank)
			defer scratchPool.Put(s)
			xa = *s
		}
		// xa (n,r) = xd (n,in) · Aᵀ;  y[:, off:off+out] += s · xa · Bᵀ
		gemm.Sgemm(false, true, n, p.rank, in, 1, xd, in, p.a, in, 0, xa, p.rank)
		gemm.Sgemm(false, true, n, p.out, p.rank, p.scale, xa, p.rank, p.b, p.rank, 1, y[p.off:], ldy)
	}
}

// backward adds the layer's input gradient to dx (unless dx is nil: the
// input needs none) and its parameter gradients to dA, dB (LoRA) and dW,
// db (full fine-tuning).
//
//	dy (n, ldy), x (n,in) -> dx (n,in) +=
func (l *linear) backward(dx, dy []float32, ldy int, x []float32, n int, act *linAct) {
	out, in := l.w.Rows, l.w.Cols
	if l.dw != nil {
		// dW (out,in) += dyᵀ · x;  db += Σ_rows dy
		gemm.Sgemm(true, false, out, in, n, 1, dy, ldy, x, in, 1, l.dw, in)
		if l.db != nil {
			for i := range n {
				for j, g := range dy[i*ldy : i*ldy+out] {
					l.db[j] += g
				}
			}
		}
	}
	if dx != nil {
		l.w.MulNN(dx, dy, ldy, n, true)
	}
	if len(l.parts) == 0 {
		return
	}
	xd := x
	if l.dropout > 0 {
		xd = act.xd
	}
	maxR := 0
	for _, p := range l.parts {
		maxR = max(maxR, p.rank)
	}
	sp := getScratch(n * maxR)
	defer scratchPool.Put(sp)
	var dxd []float32
	if l.dropout > 0 && dx != nil {
		d := getScratch(n * in)
		defer scratchPool.Put(d)
		dxd = *d
		clear(dxd)
	}
	for pi, p := range l.parts {
		xa, dxa := act.xa[pi], (*sp)[:n*p.rank]
		dyp := dy[p.off:]
		// dB (out,r) += s · dypᵀ · xa;  dxa (n,r) = s · dyp · B;  dA (r,in) += dxaᵀ · xd
		gemm.Sgemm(true, false, p.out, p.rank, n, p.scale, dyp, ldy, xa, p.rank, 1, p.db, p.rank)
		gemm.Sgemm(false, false, n, p.rank, p.out, p.scale, dyp, ldy, p.b, p.rank, 0, dxa, p.rank)
		gemm.Sgemm(true, false, p.rank, in, n, 1, dxa, p.rank, xd, in, 1, p.da, in)
		// dx (n,in) += dxa · A (through the dropout mask when there is one)
		switch {
		case dx == nil:
		case dxd != nil:
			gemm.Sgemm(false, false, n, in, p.rank, 1, dxa, p.rank, p.a, in, 1, dxd, in)
		default:
			gemm.Sgemm(false, false, n, in, p.rank, 1, dxa, p.rank, p.a, in, 1, dx, in)
		}
	}
	for i, k := range act.keep[:len(dxd)] {
		dx[i] += dxd[i] * k
	}
}
