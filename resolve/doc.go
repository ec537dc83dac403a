// Package resolve is lorakit's one way to find the base weight an adapter
// module updates. Merge, verify, check and the analysis commands all open
// their base with Open and map modules with Base.Adapt, Base.Module and
// Base.Saved:
//
//   - A GGUF (or llama2.c) base has llama.cpp names: adapters are renamed to
//     them through convert's architecture tables (which also apply llama's
//     q/k RoPE row permutation to B and check shapes), and a module
//     "blk.0.attn_q" updates tensor "blk.0.attn_q.weight".
//   - A safetensors file or a directory of safetensors (a Hugging Face model
//     directory, sharded or not, or bare safetensors without config.json)
//     has Hugging Face names: a module updates the tensor named after it
//     plus ".weight", either side allowed to carry a prefix the other lacks
//     ("base_model.model.transformer.h.0.attn.c_attn" ↔
//     "h.0.attn.c_attn.weight") as long as the match is unique and keeps
//     every layer index. llama.cpp LoRA adapters are renamed to Hugging Face
//     names first (inverse RoPE permutation), which needs config.json.
//   - Layout: ΔW = s·B·A is (Out, In); a base weight stored transposed
//     (GPT-2's Conv1D with fan_in_fan_out, embeddings) is (In, Out), which
//     Target.Transposed reports.
//
// Architecture tables are consulted only where a transform is needed; a
// base without a known architecture is still resolved by name.
package resolve
