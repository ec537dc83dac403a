package model

import (
	"encoding/binary"
	"math"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/half"
)

// llama.cpp's CPU backend multiplies a Q8_0 weight by activations it has
// first quantized to Q8_0 themselves (ggml-cpu's quantize_row_q8_0, then
// ggml_vec_dot_q8_0_q8_0): per block of 32 values, d = max|x|/127 stored
// as F16, q = round-to-nearest-even(x·127/max|x|), and the product is
// Σ_blocks (d_x·d_w)·Σ q_x·q_w. Options.Q8Activations reproduces that for
// matrices kept in Q8_0, which accounts for the ~1e-2 by which a float32
// product misses llama.cpp's logits on Q8_0 files.

// q8Block is Q8_0's block: 32 values, a 2-byte F16 scale then 32 int8.
const (
	q8Values = 32
	q8Bytes  = 34
)

// quantizeQ8Act quantizes one row of activations as ggml-cpu's AVX2
// quantize_row_q8_0 does.
//
//	x (cols), cols a multiple of 32 -> d (cols/32) scales as float32, q (cols)
func quantizeQ8Act(d []float32, q []int8, x []float32) {
	for b := range len(x) / q8Values {
		blk := x[b*q8Values : (b+1)*q8Values]
		var amax float32
		for _, v := range blk {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		d[b] = half.F16Float32(half.F16(amax / 127))
		var id float32
		if amax != 0 {
			id = 127 / amax
		}
		for i, v := range blk {
			q[b*q8Values+i] = int8(math.RoundToEven(float64(v * id)))
		}
	}
}

// mulNTQ8 is MulNT for a Q8_0 matrix with Q8_0-quantized activations.
//
//	x (n, Cols) -> y (n, ldy), columns [0, Rows)
func (w *Matrix) mulNTQ8(y []float32, ldy int, x []float32, n int, accumulate bool) {
	nb := w.Cols / q8Values
	dx, qx := make([]float32, n*nb), make([]int8, n*w.Cols)
	for i := range n {
		quantizeQ8Act(dx[i*nb:(i+1)*nb], qx[i*w.Cols:(i+1)*w.Cols], x[i*w.Cols:(i+1)*w.Cols])
	}
	parallelFor(w.Rows, 2*n*w.Cols, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			row := w.raw[j*w.rowBytes : (j+1)*w.rowBytes]
			for i := range n {
				var sum float32
				for b := range nb {
					blk := row[b*q8Bytes : (b+1)*q8Bytes]
					dw := half.F16Float32(binary.LittleEndian.Uint16(blk))
					xq := qx[i*w.Cols+b*q8Values : i*w.Cols+(b+1)*q8Values]
					var sumi int32
					for k, v := range blk[2:] {
						sumi += int32(int8(v)) * int32(xq[k])
					}
					sum += float32(sumi) * (dx[i*nb+b] * dw)
				}
				if accumulate {
					sum += y[i*ldy+j]
				}
				y[i*ldy+j] = sum
			}
		}
	})
}

// emulatesQ8 reports whether products with w reproduce llama.cpp's Q8_0
// activation quantization.
func (w *Matrix) emulatesQ8() bool { return w.q8act && w.DType == format.Q8_0 && w.raw != nil }
