// Package quant implements ggml's block codecs bit for bit: the
// dequantizers of the legacy (Q4_0 … Q8_1), K-quant (Q2_K … Q8_K), IQ
// (IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ4_NL, IQ4_XS)
// and ternary (TQ1_0, TQ2_0) block types; their quantizers without an
// importance matrix (Quantize, QuantizeRows: ggml's quantize_row_*_ref
// family, or for the IQ types their search run unweighted, as ggml's
// quantize_<type> with a NULL matrix); and with one (QuantizeRowsWeighted:
// ggml's quantize_<type>(…, imatrix), as llama-quantize --imatrix calls
// it). IQ1_S, IQ2_XXS and IQ2_XS exist only with importance weights.
//
// The IQ types place groups of 4 or 8 magnitudes on lattice grids. The
// grids (iqgrids.go, iqdeqgrids.go) are ggml's data, copied from
// ggml-quants.c and ggml-common.h; the neighbour lists ggml derives from
// them are rebuilt here on first use (grid.go), and the searches are this
// package's, checked against straightforward ports of ggml's loops and
// against ggml's own outputs (testdata/weighted).
//
// Bit-exactness rests on three rules that every file here follows:
//
//   - Arithmetic is float32, in the operation order of ggml-quants.c, and
//     never fused: every product that feeds a sum is wrapped in an explicit
//     float32(...) conversion, which the Go specification says prevents
//     fusion on every GOARCH (libggml-base is built without FMA).
//   - Rounding is ggml's: nearest_int (round half to even through the
//     1.5·2²³ trick, K-quants and IQ4_NL), roundf (half away from zero,
//     Q8_0/Q8_1) and C's truncating float-to-int casts (legacy types), all
//     emulated with their x86-64 behaviour even for out-of-range values.
//   - Scales are stored as IEEE binary16 rounded to nearest even, as
//     GGML_FP32_TO_FP16 does (Q8_K keeps a float32 scale).
//
// On x86-64 CPUs with AVX2 the scale searches of the K-quants and IQ4_NL
// evaluate eight candidate scales at once, one per SIMD lane (lanes.go,
// lanes_amd64.s); each lane performs the scalar operations in the scalar
// order (separate multiplies and adds, ggml's nearest_int bit trick), so
// the bytes are the same. Elsewhere, or with the purego build tag, the
// pure-Go searches run.
//
// Layouts (bytes per block / values per block):
//
//	Q4_0 18/32  Q4_1 20/32  Q5_0 22/32  Q5_1 24/32  Q8_0 34/32  Q8_1 36/32
//	Q2_K 84/256 Q3_K 110/256 Q4_K 144/256 Q5_K 176/256 Q6_K 210/256
//	Q8_K 292/256 IQ4_NL 18/32 IQ4_XS 136/256 IQ3_S 110/256 IQ3_XXS 98/256
//	IQ2_S 82/256 IQ2_XS 74/256 IQ2_XXS 66/256 IQ1_M 56/256 IQ1_S 50/256
//	TQ2_0 66/256 TQ1_0 54/256
//
// Quantize refuses NaN and ±Inf inputs with an error wrapping ErrNonFinite
// (itself wrapping format.ErrFormat) instead of writing a block that would
// decode to garbage. Types without a codec give an error wrapping
// format.ErrUnsupported. The package registers every codec with
// format.RegisterBlockCodec in its init, so importing it (even as _) makes
// format.ToFloat32 and format.FromFloat32 work for block types.
package quant
