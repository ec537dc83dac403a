// Package convert moves checkpoints between containers and element types:
// safetensors <-> GGUF with names carried as they are, float casts, and (with
// the architecture tables) Hugging Face <-> llama.cpp naming. Every
// conversion streams: one tensor is read from the source (a memory map),
// transformed and written before the next is touched.
package convert
