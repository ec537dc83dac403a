// Package convert moves checkpoints between containers and element types:
// safetensors <-> GGUF with names carried as they are, float casts, and (with
// the family descriptions of package arch) Hugging Face <-> llama.cpp
// naming, layouts, hyperparameters and generated tensors, for models and
// LoRA adapters alike. Every conversion streams: one tensor is read from
// the source (a memory map), transformed and written before the next is
// touched (a stack of experts is the one tensor built from several).
package convert
