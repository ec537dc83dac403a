// Package quantize turns a whole checkpoint into a quantized GGUF file the
// way llama.cpp's llama-quantize does, so that a user gets the same tensor
// types, the same tensor order, the same metadata and (through the bit-exact
// codecs of format/gguf/quant) the same bytes.
//
// A Preset names the target: a llama-quantize file type (Q4_K_M, Q8_0,
// BF16, ...), parsed case-insensitively by ParsePreset. NewPlan decides,
// tensor by tensor, what llama-quantize would write:
//
//   - which tensors are quantized at all (at least 2 dimensions, a name
//     ending in "weight", no "_norm.weight", not position_embd, ...);
//   - the type of each: the preset's base type, the output tensor (or the
//     token embedding tied to it) raised to Q6_K, and the K-quant mixtures
//     for attn_v, attn_qkv, ffn_down and attn_output, with llama-quantize's
//     layer counters taken in its processing order;
//   - the fallback when a row is not a whole number of blocks (Q2_K and
//     Q3_K to Q4_0, Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0, then F16);
//   - the tensor order of its output (non-block tensors by name, then the
//     blk.N tensors by numeric N and by name within a block);
//   - the metadata: the input's, with general.quantization_version = 2 and
//     general.file_type moved to the end.
//
// Write and File then stream the tensors: each is read from the input's
// memory map, converted row block by row block on all cores, written, and
// its pages handed back to the kernel, so memory stays bounded by the
// largest output tensor, not by the model. Inputs may be GGUF files of any
// dtype (quantized tensors are dequantized, then requantized) or
// safetensors checkpoints (names are carried as they are).
package quantize
