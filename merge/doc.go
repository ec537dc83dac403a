// Package merge folds LoRA adapters into base checkpoints for release, and
// builds new adapters from old ones:
//
//   - Merge streams a base (GGUF of any dtype, quantized included; a
//     safetensors file; a Hugging Face directory, sharded or not) one tensor
//     at a time from its memory map and writes W' = W + Σ scale_i·s_i·B_i·A_i
//     (DoRA: W' = m·(W+ΔW)/‖W+ΔW‖ per output row; modules_to_save replace
//     their tensor). The output keeps the base's container, names, metadata,
//     tensor order and each tensor's dtype; quantized tensors are
//     dequantized, merged in float32 and requantized with ggml's reference
//     codecs. A negative scale unmerges. Merge takes paths; its core,
//     NewPlan and Plan.Write, takes any format.Source as the base and
//     streams into any format.Sink created from the plan's tensors and
//     metadata (a file, a buffer, a network stream).
//   - Combine is PEFT's add_weighted_adapter (linear, cat, svd, ties,
//     dare_linear, dare_ties, magnitude_prune) plus "sum", the exact
//     weighted sum of the updates truncated by a low-rank SVD.
//   - Extract is mergekit-extract-lora: a truncated randomized SVD of
//     tuned − base per module, written as a PEFT adapter (ExtractSources
//     takes the two checkpoints already open).
//
// Shapes follow lorakit's convention: an update ΔW = s·B·A is (Out, In),
// nn.Linear orientation; a base tensor stored transposed (GPT-2's Conv1D,
// embeddings) receives ΔWᵀ.
package merge
