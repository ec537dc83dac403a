// Package arch describes model families as data: for each architecture the
// names of its tensors both ways (Hugging Face <-> llama.cpp's GGUF), the
// transform each tensor needs between the two (transpose, RoPE row
// permutation, Gemma's norm offset, expert stacking), the config.json
// fields and the GGUF hyperparameter keys they become (typed as llama.cpp
// types them), RoPE scaling and the tensors llama.cpp's converter generates
// from it (rope_freqs, LongRoPE factors), and how a LoRA adapter's family
// is identified from its module names and base model.
//
// Conversion, adapter conversion, merging and the transformer read the same
// description: adding a family is a new table (llama.go, qwen.go,
// gemma.go, phi3.go, gpt2.go) plus only the kernels that are genuinely new.
// The package imports only format and the standard library.
//
// Multimodal checkpoints (Gemma 3 and Mistral 3 ForConditionalGeneration)
// convert as their text tower only: the language_model prefixes are
// stripped, the vision tower and projector are left out.
package arch
