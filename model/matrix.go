package model

import (
	"fmt"
	"sync"

	"github.com/lorakit/lorakit/format"
	_ "github.com/lorakit/lorakit/format/gguf/quant" // ggml block codecs for format.ToFloat32
	"github.com/lorakit/lorakit/model/gemm"
)

// Matrix is a weight matrix (Rows, Cols), row-major, in nn.Linear
// orientation (out features, in features). It holds either float32 values
// (F32, a view of the model's parameter buffer) or, for a frozen weight
// kept in its stored type (Q8_0, Q4_0, Q4_K, F16, BF16, ...), the raw
// ggml rows, dequantized a block of rows at a time inside each product.
type Matrix struct {
	Rows, Cols int
	DType      format.DType // F32 when F32 holds the values
	F32        []float32    // Rows*Cols values, or nil
	raw        []byte       // Rows rows of rowBytes each, when DType != F32
	rowBytes   int
	actRound   actRounding // how products round the activations first (actround.go)
}

// quantRows is how many float32 values one dequantized block of rows
// holds: 64K floats (256 KiB) stays in L2 while the GEMM reads it.
const quantRows = 1 << 16

// blockRows returns how many rows one dequantized block holds.
func (w *Matrix) blockRows() int { return max(8, quantRows/max(w.Cols, 1)) }

var scratchPool = sync.Pool{New: func() any { return new([]float32) }}

func getScratch(n int) *[]float32 {
	p := scratchPool.Get().(*[]float32)
	if cap(*p) < n {
		*p = make([]float32, n)
	}
	*p = (*p)[:n]
	return p
}

// RowsTo dequantizes rows [r0, r1) into dst ((r1-r0)*Cols values).
func (w *Matrix) RowsTo(dst []float32, r0, r1 int) {
	if w.F32 != nil {
		copy(dst, w.F32[r0*w.Cols:r1*w.Cols])
		return
	}
	// The bytes were validated at load; a decode error here is a bug.
	if err := format.ToFloat32(dst[:(r1-r0)*w.Cols], w.raw[r0*w.rowBytes:r1*w.rowBytes], w.DType); err != nil {
		panic(fmt.Sprintf("model: dequantizing rows %d..%d of a %v matrix: %v", r0, r1, w.DType, err))
	}
}

// MulNT computes y (n, Rows) = x (n, Cols) · Wᵀ, written with row stride
// ldy (the columns [0, Rows) of each row), or added to y with accumulate.
func (w *Matrix) MulNT(y []float32, ldy int, x []float32, n int, accumulate bool) {
	if w.actRound != actNone && w.raw != nil {
		xr, corr := getScratch(n*w.Cols), getScratch(n*w.Cols/32)
		defer scratchPool.Put(xr)
		defer scratchPool.Put(corr)
		w.actRound.round(*xr, x[:n*w.Cols], *corr, w.Cols)
		x = *xr
		if w.actRound == actQ81 {
			defer w.q81Mins(y, ldy, *corr, n)
		}
	}
	beta := float32(0)
	if accumulate {
		beta = 1
	}
	if w.F32 != nil {
		if n <= gemvRows {
			mulNTRows(y, ldy, x, n, w.F32, w.Rows, w.Cols, accumulate)
			return
		}
		gemm.Sgemm(false, true, n, w.Rows, w.Cols, 1, x, w.Cols, w.F32, w.Cols, beta, y, ldy)
		return
	}
	rb := w.blockRows()
	blocks := (w.Rows + rb - 1) / rb
	parallelFor(blocks, 2*n*rb*w.Cols, func(lo, hi int) {
		p := getScratch(rb * w.Cols)
		defer scratchPool.Put(p)
		for blk := lo; blk < hi; blk++ {
			r0, r1 := blk*rb, min(w.Rows, (blk+1)*rb)
			s := (*p)[:(r1-r0)*w.Cols]
			w.RowsTo(s, r0, r1)
			if n <= gemvRows {
				mulNTRows(y[r0:], ldy, x, n, s, r1-r0, w.Cols, accumulate)
				continue
			}
			gemm.Sgemm(false, true, n, r1-r0, w.Cols, 1, x, w.Cols, s, w.Cols, beta, y[r0:], ldy)
		}
	})
}

// MulNN computes dx (n, Cols) = dy (n, Rows; row stride ldy) · W, the input
// gradient of a linear layer, or adds it to dx with accumulate.
func (w *Matrix) MulNN(dx []float32, dy []float32, ldy int, n int, accumulate bool) {
	beta := float32(0)
	if accumulate {
		beta = 1
	}
	if w.F32 != nil {
		gemm.Sgemm(false, false, n, w.Cols, w.Rows, 1, dy, ldy, w.F32, w.Cols, beta, dx, w.Cols)
		return
	}
	rb := w.blockRows()
	p := getScratch(rb * w.Cols)
	defer scratchPool.Put(p)
	for r0 := 0; r0 < w.Rows; r0 += rb {
		r1 := min(w.Rows, r0+rb)
		s := (*p)[:(r1-r0)*w.Cols]
		w.RowsTo(s, r0, r1)
		gemm.Sgemm(false, false, n, w.Cols, r1-r0, 1, dy[r0:], ldy, s, w.Cols, beta, dx, w.Cols)
		beta = 1
	}
}

// Dequantize turns a kept-quantized matrix into float32 values in place.
func (w *Matrix) Dequantize() {
	if w.F32 != nil {
		return
	}
	f := make([]float32, w.Rows*w.Cols)
	w.RowsTo(f, 0, w.Rows)
	w.F32, w.raw, w.DType, w.rowBytes = f, nil, format.F32, 0
}

// rowBlock returns rows [r0, r1) as a matrix sharing w's storage (an
// expert of a stacked expert tensor).
func (w *Matrix) rowBlock(r0, r1 int) *Matrix {
	v := &Matrix{Rows: r1 - r0, Cols: w.Cols, DType: w.DType, rowBytes: w.rowBytes, actRound: w.actRound}
	if w.F32 != nil {
		v.F32 = w.F32[r0*w.Cols : r1*w.Cols : r1*w.Cols]
	} else {
		v.raw = w.raw[r0*w.rowBytes : r1*w.rowBytes : r1*w.rowBytes]
	}
	return v
}
