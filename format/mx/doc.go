// Package mx decodes MXFP4, the 4-bit format of the OCP Microscaling (MX)
// specification v1.0: blocks of 32 E2M1 elements (1 sign, 2 exponent bits
// with bias 1, 1 mantissa bit: ±{0, 0.5, 1, 1.5, 2, 3, 4, 6}) sharing one
// E8M0 scale (an 8-bit biased exponent: 2^(code-127), code 0xFF NaN), each
// element worth E2M1 · scale (spec section 5.3.3 and 6.3).
//
// Two byte layouts hold it:
//   - ggml's block_mxfp4 (GGUF type MXFP4, ggml-common.h): 17 bytes, the
//     scale byte e then qs[16]; element j is qs[j]'s low nibble and element
//     j+16 its high nibble; ggml multiplies its doubled E2M1 table
//     (kvalues_mxfp4) by 2^(e-128), the same value, and reads e = 0xFF as
//     2^127 where the spec says NaN.
//   - Hugging Face checkpoints (gpt-oss): a tensor X stored as X_blocks
//     (..., G, 16) bytes and X_scales (..., G) bytes; byte j of a block
//     holds element 2j in its low nibble and 2j+1 in its high nibble.
//
// Importing this package registers the ggml layout with package format
// (format.ToFloat32 / FromFloat32 on format.MXFP4); the encoder is ggml's
// reference quantizer (quantize_row_mxfp4_ref), bit for bit.
package mx
