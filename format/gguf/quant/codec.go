package quant

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/lorakit/lorakit/format"
)

// ErrNonFinite is wrapped by Quantize's error for a NaN or ±Inf input. It
// wraps format.ErrFormat: such a tensor is malformed for quantization, and
// ggml's quantizers would silently turn it into garbage blocks.
var ErrNonFinite = fmt.Errorf("non-finite value: %w", format.ErrFormat)

// ErrScaleOverflow is wrapped by Quantize's error when a block's values are
// so large that its binary16 scale (or min) would be ±Inf or NaN, so that
// the block would decode to Inf or NaN. It wraps format.ErrUnsupported: the
// values are valid but the type cannot represent them (Q8_0 holds |x| up to
// about 8.3e6, Q4_0 up to 5.2e5; K-quants less, see the type's layout).
var ErrScaleOverflow = fmt.Errorf("values too large for the block's f16 scale: %w", format.ErrUnsupported)

// codec is one block type's pair of kernels. Both work on whole blocks; the
// lengths are checked by the callers.
type codec struct {
	// quantize encodes src into dst and returns the index of the first
	// non-finite value of src, or -1 (dst is then unspecified).
	quantize func(dst []byte, src []float32) int
	// weighted encodes one row src (whole blocks) into dst with the
	// per-column importance values qw (len(src) of them, or nil), as
	// ggml's quantize_<type> does; nil where this package has no weighted
	// quantizer for the type. Input is finite (checked by the caller).
	weighted func(dst []byte, src, qw []float32)
	// dequantize decodes src into dst.
	dequantize func(dst []float32, src []byte)
	// scales are the byte offsets of the block's f16 scales and mins;
	// f32Scale marks Q8_K's float32 scale at offset 0.
	scales   []int
	f32Scale bool
	// spreadScale marks IQ1_M's f16 scale, spread over the top nibbles of
	// the four u16 at offset 48.
	spreadScale bool
	// needsWeights marks types ggml only quantizes with importance weights
	// (IQ2_XXS, IQ2_XS, IQ1_S): quantize is unset.
	needsWeights bool
	// blockSize and blockBytes are the type's (set by perBlock).
	blockSize, blockBytes int
	// bounded marks types whose float32 scale searches overflow (x² and
	// weighted sums) for |x| >= hugeValue and can then produce finite but
	// meaningless blocks; such values are far beyond what their f16 scales
	// can represent anyway, so they are refused up front.
	bounded bool
}

// hugeValue is far above the largest magnitude any f16-scaled block type
// can represent (Q6_K reaches 65504·127·32 ≈ 2.7e8) and far below the
// magnitudes where the scale searches overflow float32 (about 1e15).
const hugeValue = 1e12

// codecs holds every block type this package knows.
var codecs = map[format.DType]codec{
	format.Q4_0:    withWeights(legacy(format.Q4_0, quantizeQ4_0, dequantizeQ4_0, 0), nil, legacyRowW(q40W)),
	format.Q4_1:    withWeights(legacy(format.Q4_1, quantizeQ4_1, dequantizeQ4_1, 0, 2), nil, legacyRowW(q41W)),
	format.Q5_0:    withWeights(legacy(format.Q5_0, quantizeQ5_0, dequantizeQ5_0, 0), nil, legacyRowW(q50W)),
	format.Q5_1:    withWeights(legacy(format.Q5_1, quantizeQ5_1, dequantizeQ5_1, 0, 2), nil, legacyRowW(q51W)),
	format.Q8_0:    ignoresWeights(codec{quantize: quantizeQ8_0, dequantize: dequantizeQ8_0, scales: []int{0}}),
	format.Q8_1:    perBlock(format.Q8_1, quantizeQ8_1, dequantizeQ8_1, 0, 2),
	format.Q2_K:    bounded(withWeights(perBlock(format.Q2_K, quantizeQ2_K, dequantizeQ2_K, 80, 82), quantizeQ2_KW, nil)),
	format.Q3_K:    bounded(withWeights(perBlock(format.Q3_K, quantizeQ3_K, dequantizeQ3_K, 108), quantizeQ3_KW, nil)),
	format.Q4_K:    bounded(withWeights(inPairs(perBlock(format.Q4_K, nil, dequantizeQ4_K, 0, 2), quantizeQ4_K), quantizeQ4_KW, nil)),
	format.Q5_K:    bounded(withWeights(inPairs(perBlock(format.Q5_K, nil, dequantizeQ5_K, 0, 2), quantizeQ5_K), quantizeQ5_KW, nil)),
	format.Q6_K:    bounded(withWeights(perBlock(format.Q6_K, quantizeQ6_K, dequantizeQ6_K, 208), quantizeQ6_KW, nil)),
	format.Q8_K:    f32Scaled(perBlock(format.Q8_K, quantizeQ8_K, dequantizeQ8_K)),
	format.IQ4_NL:  bounded(weightedOnly(format.IQ4_NL, quantizeIQ4_NLW, dequantizeIQ4_NL, 0)),
	format.IQ4_XS:  bounded(weightedOnly(format.IQ4_XS, quantizeIQ4_XSW, dequantizeIQ4_XS, 0)),
	format.IQ3_XXS: bounded(weightedOnly(format.IQ3_XXS, quantizeIQ3_XXSW, dequantizeIQ3_XXS, 0)),
	format.IQ3_S:   bounded(weightedOnly(format.IQ3_S, quantizeIQ3_SW, dequantizeIQ3_S, 0)),
	format.IQ2_XXS: weightsRequired(format.IQ2_XXS, quantizeIQ2_XXSW, dequantizeIQ2_XXS, 0),
	format.IQ2_XS:  weightsRequired(format.IQ2_XS, quantizeIQ2_XSW, dequantizeIQ2_XS, 0),
	format.IQ2_S:   bounded(weightedOnly(format.IQ2_S, quantizeIQ2_SW, dequantizeIQ2_S, 0)),
	format.IQ1_S:   weightsRequired(format.IQ1_S, quantizeIQ1_SW, dequantizeIQ1_S, 0),
	format.IQ1_M:   spread(bounded(weightedOnly(format.IQ1_M, quantizeIQ1_MW, dequantizeIQ1_M))),
	format.TQ1_0:   ignoresWeights(perBlock(format.TQ1_0, quantizeTQ1_0, dequantizeTQ1_0, 52)),
	format.TQ2_0:   ignoresWeights(perBlock(format.TQ2_0, quantizeTQ2_0, dequantizeTQ2_0, 64)),
}

// withWeights sets c.weighted, ggml's quantize_<type> with importance
// weights, from either a one-block quantizer enc (x and qw one block's
// values and importance) or a row quantizer row.
func withWeights(c codec, enc func(b []byte, x, qw []float32), row func(dst []byte, src, qw []float32)) codec {
	if row == nil {
		bs, bb := c.blockSize, c.blockBytes
		row = func(dst []byte, src, qw []float32) {
			for i := range len(src) / bs {
				var w []float32
				if qw != nil {
					w = qw[bs*i : bs*i+bs]
				}
				enc(dst[bb*i:bb*i+bb], src[bs*i:bs*i+bs], w)
			}
		}
	}
	c.weighted = row
	return c
}

// weightedOnly is the codec of a type whose only quantizer is a weighted
// search that also runs without weights (qw nil), as the IQ types': enc
// quantizes one block.
func weightedOnly(dt format.DType, enc func(b []byte, x, qw []float32), dec func(y []float32, b []byte), scales ...int) codec {
	c := perBlock(dt, func(b []byte, x []float32) { enc(b, x, nil) }, dec, scales...)
	return withWeights(c, enc, nil)
}

// weightsRequired is the codec of a type that ggml only quantizes with
// importance weights: enc quantizes one block with them.
func weightsRequired(dt format.DType, enc func(b []byte, x, qw []float32), dec func(y []float32, b []byte), scales ...int) codec {
	c := bounded(withWeights(perBlock(dt, nil, dec, scales...), enc, nil))
	c.quantize, c.needsWeights = nil, true
	return c
}

// ignoresWeights marks c as a type whose ggml quantizer ignores importance
// weights: the weighted quantizer is c's own.
func ignoresWeights(c codec) codec {
	c.weighted = func(dst []byte, src, _ []float32) { c.quantize(dst, src) }
	return c
}

// inPairs sets c.quantize from enc, a quantizer of one or two blocks at
// a time (b and x those blocks' bytes and values), whose searches run two
// blocks side by side: the blocks go to it in pairs, after perBlock's
// check for non-finite input.
func inPairs(c codec, enc func(b []byte, x []float32)) codec {
	bs, bb := c.blockSize, c.blockBytes
	c.quantize = func(dst []byte, src []float32) int {
		if i := firstNonFinite(src); i >= 0 {
			return i
		}
		n := len(src) / bs
		for i := 0; i < n; i += 2 {
			k := min(2, n-i)
			enc(dst[bb*i:bb*(i+k)], src[bs*i:bs*(i+k)])
		}
		return -1
	}
	return c
}

// perBlock lifts one-block kernels of type dt to whole-slice kernels that
// refuse non-finite input before encoding; scales are the offsets of the
// block's f16 scales. enc may be nil when the caller sets quantize itself.
func perBlock(dt format.DType, enc func(b []byte, x []float32), dec func(y []float32, b []byte), scales ...int) codec {
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
		scales:    scales,
		blockSize: bs, blockBytes: bb,
	}
}

// legacy is perBlock for the 32-value legacy types, whose one-block
// quantizers also take the bits of the block's max|x|: each block is
// checked for non-finite values as it is encoded (as quantizeQ8_0 does),
// which saves perBlock's separate pass over src.
func legacy(dt format.DType, enc func(b []byte, x *[32]float32, amax uint32), dec func(y []float32, b []byte), scales ...int) codec {
	c := perBlock(dt, nil, dec, scales...)
	bb := dt.BlockBytes()
	c.quantize = func(dst []byte, src []float32) int {
		for i := range len(src) / 32 {
			x := (*[32]float32)(src[32*i:])
			amax, ok := absMaxBits(x)
			if !ok {
				return 32*i + firstNonFinite(x[:])
			}
			enc(dst[bb*i:bb*i+bb], x, amax)
		}
		return -1
	}
	return c
}

// f32Scaled marks c as having a float32 scale at offset 0 (Q8_K).
func f32Scaled(c codec) codec {
	c.f32Scale = true
	return c
}

// spread marks c as having IQ1_M's spread f16 scale.
func spread(c codec) codec {
	c.spreadScale = true
	return c
}

// bounded marks c as refusing values of magnitude hugeValue or more.
func bounded(c codec) codec {
	c.bounded = true
	return c
}

// overflowBlock returns the index of the first block of dst whose stored
// scale is ±Inf or NaN, or -1.
func (c codec) overflowBlock(dst []byte, bb int) int {
	for i := 0; i+bb <= len(dst); i += bb {
		if c.f32Scale {
			if !finite(math.Float32frombits(binary.LittleEndian.Uint32(dst[i:]))) {
				return i / bb
			}
			continue
		}
		if c.spreadScale {
			var h uint16
			for k := range 4 {
				h |= binary.LittleEndian.Uint16(dst[i+48+2*k:]) >> 12 << (4 * k)
			}
			if h&0x7c00 == 0x7c00 {
				return i / bb
			}
		}
		for _, off := range c.scales {
			if binary.LittleEndian.Uint16(dst[i+off:])&0x7c00 == 0x7c00 {
				return i / bb
			}
		}
	}
	return -1
}

// encode runs the quantizer and the overflow check on whole blocks of dt;
// base is the index of src[0] in the caller's input, for the message.
func (c codec) encode(dst []byte, src []float32, dt format.DType, base int) error {
	bs := dt.BlockSize()
	b := -1
	if c.bounded {
		for i, v := range src {
			if abs(v) >= hugeValue && finite(v) {
				b = i / bs
				break
			}
		}
	}
	if b < 0 {
		if i := c.quantize(dst, src); i >= 0 {
			return fmt.Errorf("quant: %v: value %d is %v: %w", dt, base+i, src[i], ErrNonFinite)
		}
		b = c.overflowBlock(dst, dt.BlockBytes())
	}
	if b >= 0 {
		x := src[b*bs : b*bs+bs]
		var amax float32
		for _, v := range x {
			amax = max(amax, abs(v))
		}
		return fmt.Errorf("quant: %v: block of values %d..%d reaches |x| = %g: %w", dt, base+b*bs, base+b*bs+bs-1, amax, ErrScaleOverflow)
	}
	return nil
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

// CanQuantize reports whether Quantize can encode dt (without importance
// weights; CanQuantizeWeighted tells whether QuantizeRowsWeighted can).
func CanQuantize(dt format.DType) bool { c, ok := codecs[dt]; return ok && !c.needsWeights }

// CanQuantizeWeighted reports whether QuantizeRowsWeighted can encode dt
// with importance weights.
func CanQuantizeWeighted(dt format.DType) bool { c, ok := codecs[dt]; return ok && c.weighted != nil }

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

// quantizer returns dt's codec for quantizing without importance weights,
// or an ErrUnsupported error naming it.
func quantizer(dt format.DType) (codec, error) {
	c, err := lookup(dt, "quantizer")
	if err == nil && c.needsWeights {
		err = fmt.Errorf("quant: %v is only made with importance weights (an imatrix), as in ggml: %w", dt, format.ErrUnsupported)
	}
	return c, err
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
// quantize_<type> does without an importance matrix (its reference
// quantizers quantize_row_*_ref; for IQ4_NL, IQ4_XS, IQ3_XXS, IQ3_S, IQ2_S
// and IQ1_M the unweighted search). len(src) must be a whole number of blocks and len(dst) their size in
// bytes, else the error wraps format.ErrShape. A NaN or ±Inf in src gives an
// error wrapping ErrNonFinite (and format.ErrFormat) that names its index; a
// block whose scale would overflow binary16 gives ErrScaleOverflow (and
// format.ErrUnsupported); dst is then unspecified. A type without a
// quantizer gives format.ErrUnsupported, as do IQ1_S, IQ2_XXS and IQ2_XS,
// which ggml only makes with importance weights (QuantizeRowsWeighted).
func Quantize(dst []byte, src []float32, dt format.DType) error {
	c, err := quantizer(dt)
	if err != nil {
		return err
	}
	if err := checkLengths(len(src), len(dst), dt); err != nil {
		return err
	}
	return c.encode(dst, src, dt, 0)
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
