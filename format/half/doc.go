// Package half converts between float32 and the 16- and 8-bit floating-point
// formats that checkpoints store: IEEE binary16 (F16), bfloat16 (BF16) and
// the OCP 8-bit formats F8_E4M3 (the "fn" variant) and F8_E5M2.
//
// The slice functions (F32ToF16, F16ToF32, F32ToBF16, BF16ToF32, and the F8
// ones) convert len(src) elements into dst, which must be at least as long
// (they panic if it is shorter, where copy would convert a prefix). The
// scalar helpers (F16, F16Float32, BF16, BF16Float32, F8E4M3, ...) give the
// same bits one value at a time.
//
// # Rounding and special values
//
// Every conversion from float32 rounds to nearest, ties to even, and keeps
// the sign of zeros, infinities and NaNs. In detail:
//
//   - F16 follows IEEE 754 exactly, bit for bit as the x86 F16C instructions
//     and github.com/x448/float16 do: overflow gives ±Inf, subnormals are
//     produced and read (never flushed), a NaN stays a NaN with its sign and
//     the top 10 bits of its payload and is made quiet (signalling NaNs
//     become quiet in both directions).
//   - BF16 rounds as ggml's ggml_compute_fp32_to_bf16 (and gguf-py, which
//     writes GGUF BF16 files): float32 subnormals round to bf16 subnormals
//     (not flushed, unlike the VCVTNEPS2BF16 instruction, whose result this
//     package corrects), and a NaN keeps its sign and top 7 payload bits
//     with the quiet bit set: bits = (x>>16) | 0x40. PyTorch's NaN bits
//     depend on the code path (its scalar c10 code writes 0x7FC0 for every
//     NaN, its AVX-512 integer code 0xFFFF); all of these decode to NaN.
//   - F8_E4M3 (bias 7, no infinities, NaN = S.1111.111, largest 448) and
//     F8_E5M2 (bias 15, IEEE-like, largest 57344) encode as PyTorch's
//     x.to(torch.float8_e4m3fn) and x.to(torch.float8_e5m2) do, since
//     safetensors F8 files come from it. Nothing saturates: for E4M3 every
//     value whose magnitude rounds above 448 (|x| > 464), ±Inf and NaN
//     become NaN (0x7F or 0xFF); for E5M2 values that round above 57344
//     (|x| >= 61440) become ±Inf and NaN becomes 0x7F or 0xFF.
//   - Decoding is exact. NaNs decode to quiet float32 NaNs with their sign
//     and payload: E4M3's S.1111.111 to S|0x7FF00000 as PyTorch does;
//     E5M2 is the top byte of an F16 and decodes as one.
//
// # Speed
//
// On amd64 the bulk F16 conversions use the F16C instructions, BF16
// encoding uses AVX-512 BF16 (VCVTNEPS2BF16, with a fix-up for float32
// subnormals) or AVX2 integer rounding, and BF16 decoding uses AVX2
// shifts, each chosen at run time from CPUID. Other CPUs and
// architectures, and builds with the purego tag, use portable bit
// manipulation in plain Go. Both paths give identical bits.
package half
