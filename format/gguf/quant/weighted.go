package quant

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
)

// QuantizeRowsWeighted quantizes src, rows of rowLen values each, into dst
// as ggml's quantize_<type>(src, dst, nrows, n_per_row, imatrix) does:
// imatrix holds one importance value per column (rowLen of them, shared by
// every row), as llama-quantize passes it (in_sum2/counts of the imatrix
// file), or is nil. For a 3-D expert tensor llama-quantize passes each
// expert's matrix its own rowLen values; call once per expert likewise.
//
// With a nil imatrix the bytes are QuantizeRows's: ggml falls back to its
// reference quantizers, or runs the IQ searches unweighted; IQ2_XXS,
// IQ2_XS and IQ1_S, which ggml only makes with importance weights, then
// give an error wrapping format.ErrUnsupported.
//
// Shapes and input errors are QuantizeRows's; an imatrix whose length is
// not rowLen wraps format.ErrShape, one holding a negative, NaN or ±Inf
// value wraps format.ErrFormat. A type without a weighted quantizer gives
// an error wrapping format.ErrUnsupported that names it. The rows are
// spread over all cores.
func QuantizeRowsWeighted(dst []byte, src []float32, rowLen int, dt format.DType, imatrix []float32) error {
	if imatrix == nil {
		if _, ok := codecs[dt]; ok {
			return QuantizeRows(dst, src, rowLen, dt)
		}
	}
	c, ok := codecs[dt]
	if !ok || c.weighted == nil {
		return fmt.Errorf("quant: no importance-weighted quantizer for %v: %w", dt, format.ErrUnsupported)
	}
	rowBytes, err := rowShape(len(src), len(dst), rowLen, dt)
	if err != nil {
		return err
	}
	if len(imatrix) != rowLen {
		return fmt.Errorf("quant: %v: importance matrix has %d values for rows of %d: %w", dt, len(imatrix), rowLen, format.ErrShape)
	}
	for i, v := range imatrix {
		if !(v >= 0) || !finite(v) {
			return fmt.Errorf("quant: %v: importance value %d is %v: %w", dt, i, v, format.ErrFormat)
		}
	}
	enc := c
	enc.quantize = func(dst []byte, src []float32) int {
		if i := firstNonFinite(src); i >= 0 {
			return i
		}
		for r := range len(src) / rowLen {
			c.weighted(dst[r*rowBytes:(r+1)*rowBytes], src[r*rowLen:(r+1)*rowLen], imatrix)
		}
		return -1
	}
	return parallelRows(len(src)/rowLen, rowLen, func(r0, r1 int) error {
		return enc.encode(dst[r0*rowBytes:r1*rowBytes], src[r0*rowLen:r1*rowLen], dt, r0*rowLen)
	})
}

// RequiresImatrix reports whether llama-quantize refuses to make tensors of
// type dt without an importance matrix: IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS,
// IQ2_S and IQ3_XXS (llama-quant.cpp's tensor_requires_imatrix; it exempts
// the token embedding and output tensors, and also requires one for the
// Q2_K tensors of a Q2_K_S file, which depends on the file type, not the
// tensor type, so Q2_K reports false here).
func RequiresImatrix(dt format.DType) bool {
	switch dt {
	case format.IQ1_S, format.IQ1_M, format.IQ2_XXS, format.IQ2_XS, format.IQ2_S, format.IQ3_XXS:
		return true
	}
	return false
}
