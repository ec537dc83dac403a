// Package quantize turns a whole checkpoint into a quantized GGUF file the
// way llama.cpp's llama-quantize does, so that a user gets the same tensor
// types, the same tensor order, the same metadata and (through the bit-exact
// codecs of format/gguf/quant) the same bytes.
//
// A Preset names the target: a llama-quantize file type (Q4_K_M, Q8_0,
// BF16, IQ2_M, TQ1_0, ...), parsed case-insensitively by ParsePreset.
// NewPlan decides, tensor by tensor, what llama-quantize would write:
//
//   - which tensors are quantized at all (at least 2 dimensions, a name
//     ending in "weight", no "_norm.weight", not position_embd, ...);
//   - the type of each: the preset's base type, the output tensor (or the
//     token embedding tied to it) raised to Q6_K (Q5_K for the lowest IQ
//     presets), and the mixtures of llama_tensor_get_type for attn_v,
//     attn_k, attn_q, attn_output, ffn_down, ffn_gate, ffn_up and the
//     token embedding (the IQ1/IQ2/IQ3 mixes included; some depend on
//     whether an importance matrix is given), with llama-quantize's layer
//     counters taken in its processing order;
//   - llama-quantize's options (Options): --tensor-type patterns,
//     --output-tensor-type, --token-embedding-type, --pure,
//     --leave-output-tensor, --override-kv, --prune-layers, and the
//     importance matrix (--imatrix, --include-weights, --exclude-weights)
//     whose per-column means weight the quantizers and which IQ1_S,
//     IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S and IQ3_XXS tensors (and Q2_K in
//     Q2_K_S) require: without it, or without an entry for such a tensor,
//     the plan fails with ErrImatrixRequired;
//   - the fallback when a row is not a whole number of blocks (the
//     256-value IQ types to IQ4_NL, Q2_K, Q3_K and TQ to Q4_0, Q4_K to
//     Q5_0, Q5_K to Q5_1, Q6_K to Q8_0, then F16);
//   - the tensor order of its output (non-block tensors by name, then the
//     blk.N tensors by numeric N and by name within a block);
//   - the metadata: the input's, with general.quantization_version = 2 and
//     general.file_type moved to the end, then the overrides and, with an
//     importance matrix, quantize.imatrix.file, .dataset, .entries_count
//     and .chunks_count.
//
// Everything llama-quantize refuses is refused while planning, before any
// output exists.
//
// Write and File then stream the tensors: each is read from the input's
// memory map, converted row block by row block on all cores, written, and
// its pages handed back to the kernel, so memory stays bounded by the
// largest output tensor, not by the model. Inputs may be GGUF files of any
// dtype (quantized tensors are dequantized, then requantized) or
// safetensors checkpoints (names are carried as they are).
package quantize
