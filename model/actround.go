package model

import (
	"encoding/binary"
	"math"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/half"
)

// llama.cpp's CPU backend multiplies a weight stored in a non-F32 type by
// activations it has first converted to that type's dot-product type
// (ggml's vec_dot_type): F16 weights by F16 activations, BF16 by BF16,
// Q4_0/Q5_0/Q8_0/IQ4_NL by Q8_0 blocks, Q4_1/Q5_1 by Q8_1 blocks, the
// K-quants by Q8_K blocks. Options.RoundActivations rounds the activations
// the same way before the product (which then runs on the dequantized
// weight in float32): the products agree with llama.cpp's up to float32
// summation order, instead of differing by the activations' rounding
// (~1e-2 in the logits of Q8_0 files). Q8_1 blocks also carry
// s = F16(d·Σq), which llama.cpp multiplies by the weight block's min m
// in place of m·Σx'; q81Mins adds that difference.

// actRounding is a dot-product type's rounding of activations.
type actRounding int

const (
	actNone actRounding = iota
	actF16              // round to F16
	actBF16             // round to BF16
	actQ8               // Q8_0: blocks of 32, d = F16(max|x|/127)
	actQ81              // Q8_1: as Q8_0, plus the block sums s
	actQ8K              // Q8_K: blocks of 256, d = 1/(−127/x_max) in float32
)

// actRoundingFor returns how products with a weight of type dt round their
// activations.
func actRoundingFor(dt format.DType) actRounding {
	switch dt {
	case format.F16:
		return actF16
	case format.BF16:
		return actBF16
	case format.Q4_0, format.Q5_0, format.Q8_0, format.IQ4_NL:
		return actQ8
	case format.Q4_1, format.Q5_1:
		return actQ81
	case format.Q2_K, format.Q3_K, format.Q4_K, format.Q5_K, format.Q6_K, format.IQ4_XS:
		return actQ8K
	}
	return actNone
}

// round replaces x by its round trip through the dot-product type, row by
// row (rows of cols values; cols a multiple of the block size, which the
// weight's own blocks guarantee). For Q8_1 it sets corr to each block's
// s − Σx' (llama.cpp's F16 sum minus the exact one).
//
//	x (n·cols) -> dst (n·cols), corr (n·cols/32) for Q8_1
func (r actRounding) round(dst, x, corr []float32, cols int) {
	switch r {
	case actF16:
		for i, v := range x {
			dst[i] = half.F16Float32(half.F16(v))
		}
	case actBF16:
		for i, v := range x {
			dst[i] = half.BF16Float32(half.BF16(v))
		}
	case actQ8, actQ81:
		for b := 0; b < len(x); b += 32 {
			d, sumq := roundQ8Block(dst[b:b+32], x[b:b+32])
			if r == actQ81 {
				s := half.F16Float32(half.F16(d * float32(sumq)))
				corr[b/32] = float32(float64(s) - float64(half.F16Float32(half.F16(d)))*float64(sumq))
			}
		}
	case actQ8K:
		for b := 0; b < len(x); b += 256 {
			roundQ8KBlock(dst[b:b+256], x[b:b+256])
		}
	default:
		copy(dst, x)
	}
}

// roundQ8Block is ggml-cpu's AVX2 quantize_row_q8_0 (and q8_1) on one
// block, dequantized: d = max|x|/127, q = round-half-even(x·(127/max|x|)),
// x' = F16(d)·q. It returns d (before the F16 rounding) and Σq.
func roundQ8Block(dst, x []float32) (d float32, sumq int) {
	var amax float32
	for _, v := range x {
		amax = max(amax, float32(math.Abs(float64(v))))
	}
	d = amax / 127
	dh := half.F16Float32(half.F16(d))
	var id float32
	if amax != 0 {
		id = 127 / amax
	}
	for i, v := range x {
		q := math.RoundToEven(float64(v * id))
		sumq += int(q)
		dst[i] = dh * float32(q)
	}
	return d, sumq
}

// q81Mins adds llama.cpp's Q8_1 sum term to a product with a Q4_1 or
// Q5_1 weight (blocks of 32 starting with F16 d, F16 m):
// y[i,j] += Σ_b m_(j,b)·corr_(i,b).
//
//	corr (n, Cols/32) -> y (n, ldy) +=, columns [0, Rows)
func (w *Matrix) q81Mins(y []float32, ldy int, corr []float32, n int) {
	nb := w.Cols / 32
	bb := w.rowBytes / nb
	parallelFor(w.Rows, 2*n*nb, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			row := w.raw[j*w.rowBytes : (j+1)*w.rowBytes]
			for i := range n {
				var s float32
				for b, c := range corr[i*nb : (i+1)*nb] {
					s += half.F16Float32(binary.LittleEndian.Uint16(row[b*bb+2:])) * c
				}
				y[i*ldy+j] += s
			}
		}
	})
}

// roundQ8KBlock is ggml's quantize_row_q8_K_ref on one block, dequantized:
// with m the first value of largest magnitude, s = −127/m,
// q = min(127, round-half-even(s·x)), x' = (1/s)·q.
func roundQ8KBlock(dst, x []float32) {
	var amax, m float32
	for _, v := range x {
		if a := float32(math.Abs(float64(v))); a > amax {
			amax, m = a, v
		}
	}
	if amax == 0 {
		clear(dst)
		return
	}
	s := -127 / m
	d := 1 / s
	for i, v := range x {
		dst[i] = d * float32(min(127, math.RoundToEven(float64(s*v))))
	}
}
