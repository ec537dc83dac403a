package quant

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
)

// ErrNonFinite is wrapped by Quantize's error for a NaN or ±Inf input. It
// wraps format.ErrFormat: such a tensor is malformed for quantization, and
// ggml's quantizers would silently turn it into garbage blocks.
var ErrNonFinite = fmt.Errorf("non-finite value: %w", format.ErrFormat)

// codec is one block type's pair of kernels. Both work on whole blocks; the
// lengths are checked by the callers.
type codec struct {
	// quantize encodes src into dst and returns the index of the first
	// non-finite value of src, or -1 (dst is then unspecified).
	quantize func(dst []byte, src []float32) int
	// dequantize decodes src into dst.
	dequantize func(dst []float32, src []byte)
}

// codecs holds every block type this package knows.
var codecs = map[format.DType]codec{
	format.Q4_0:   perBlock(format.Q4_0, quantizeQ4_0, dequantizeQ4_0),
	format.Q4_1:   perBlock(format.Q4_1, quantizeQ4_1, dequantizeQ4_1),
	format.Q5_0:   perBlock(format.Q5_0, quantizeQ5_0, dequantizeQ5_0),
	format.Q5_1:   perBlock(format.Q5_1, quantizeQ5_1, dequantizeQ5_1),
	format.Q8_0:   {quantize: quantizeQ8_0, dequantize: dequantizeQ8_0},
	format.Q8_1:   perBlock(format.Q8_1, quantizeQ8_1, dequantizeQ8_1),
	format.Q2_K:   perBlock(format.Q2_K, quantizeQ2_K, dequantizeQ2_K),
	format.Q3_K:   perBlock(format.Q3_K, quantizeQ3_K, dequantizeQ3_K),
	format.Q4_K:   perBlock(format.Q4_K, quantizeQ4_K, dequantizeQ4_K),
	format.Q5_K:   perBlock(format.Q5_K, quantizeQ5_K, dequantizeQ5_K),
	format.Q6_K:   perBlock(format.Q6_K, quantizeQ6_K, dequantizeQ6_K),
	format.Q8_K:   perBlock(format.Q8_K, quantizeQ8_K, dequantizeQ8_K),
	format.IQ4_NL: perBlock(format.IQ4_NL, quantizeIQ4_NL, dequantizeIQ4_NL),
}

// perBlock lifts one-block kernels of type dt to whole-slice kernels that
// refuse non-finite input before encoding.
func perBlock(dt format.DType, enc func(b []byte, x []float32), dec func(y []float32, b []byte)) codec {
	bs, bb := dt.BlockSize(), dt.BlockBytes()
	return codec{
		quantize: func(dst []byte, src []float32) int {
			if i := firstNonFinite(src); i >= 0 {
				return i
			}
			for i := range len(src) / bs {
				enc(dst[bb*i:bb*i+bb], src[bs*i:bs*i+bs])
			}
			return -1
		},
		dequantize: func(dst []float32, src []byte) {
			for i := range len(src) / bb {
				dec(dst[bs*i:bs*i+bs], src[bb*i:bb*i+bb])
			}
		},
	}
}

// firstNonFinite returns the index of the first NaN or ±Inf in x, or -1.
func firstNonFinite(x []float32) int {
	for i, v := range x {
		if !finite(v) {
			return i
		}
	}
	return -1
}

// CanQuantize reports whether Quantize can encode dt.
func CanQuantize(dt format.DType) bool { _, ok := codecs[dt]; return ok }

// CanDequantize reports whether Dequantize can decode dt.
func CanDequantize(dt format.DType) bool { _, ok := codecs[dt]; return ok }

// lookup returns dt's codec or an ErrUnsupported error naming it.
func lookup(dt format.DType, what string) (codec, error) {
	c, ok := codecs[dt]
	if !ok {
		return codec{}, fmt.Errorf("quant: no %s for %v: %w", what, dt, format.ErrUnsupported)
	}
	return c, nil
}

// checkLengths verifies that n values and nb bytes are the same whole number
// of dt blocks.
func checkLengths(n, nb int, dt format.DType) error {
	bs, bb := dt.BlockSize(), dt.BlockBytes()
	if n%bs != 0 {
		return fmt.Errorf("quant: %d values is not a whole number of %v blocks of %d: %w", n, dt, bs, format.ErrShape)
	}
	if want := n / bs * bb; nb != want {
		return fmt.Errorf("quant: %d %v values take %d bytes, have %d: %w", n, dt, want, nb, format.ErrShape)
	}
	return nil
}

// Quantize encodes src into dst as ggml blocks of type dt, exactly as ggml's
// reference quantizer (quantize_row_*_ref, no importance matrix) does.
// len(src) must be a whole number of blocks and len(dst) their size in
// bytes, else the error wraps format.ErrShape. A NaN or ±Inf in src gives an
// error wrapping ErrNonFinite (and format.ErrFormat) that names its index;
// dst is then unspecified. A type without a quantizer gives
// format.ErrUnsupported.
func Quantize(dst []byte, src []float32, dt format.DType) error {
	c, err := lookup(dt, "quantizer")
	if err != nil {
		return err
	}
	if err := checkLengths(len(src), len(dst), dt); err != nil {
		return err
	}
	if i := c.quantize(dst, src); i >= 0 {
		return fmt.Errorf("quant: %v: value %d is %v: %w", dt, i, src[i], ErrNonFinite)
	}
	return nil
}

// Dequantize decodes the ggml blocks of type dt in src into dst, exactly as
// ggml's to_float does. len(dst) must be a whole number of blocks and
// len(src) their size in bytes, else the error wraps format.ErrShape. Any
// bytes decode (there is no invalid block), so no other error is possible
// for a supported type.
func Dequantize(dst []float32, src []byte, dt format.DType) error {
	c, err := lookup(dt, "dequantizer")
	if err != nil {
		return err
	}
	if err := checkLengths(len(dst), len(src), dt); err != nil {
		return err
	}
	c.dequantize(dst, src)
	return nil
}

func init() {
	for dt := range codecs {
		format.RegisterBlockCodec(dt, format.BlockCodec{
			Decode: func(dst []float32, src []byte) error { return Dequantize(dst, src, dt) },
			Encode: func(dst []byte, src []float32) error { return Quantize(dst, src, dt) },
		})
	}
}
