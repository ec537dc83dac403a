// Package lm loads a language model to run: a checkpoint (a GGUF file or
// the first shard of a split set, a llama2.c checkpoint, a Hugging Face
// model directory, or the embedded stories260K), the tokenizer that comes
// with it, and LoRA adapters attached at run time as llama.cpp's
// --lora-scaled does.
//
// Adapters find their base weights through package resolve, the one place
// that maps adapter modules (PEFT, mlx-lm or llama.cpp names) onto base
// tensors, so a module lands on the same tensor at run time as in
// merge.Merge, verify and analyze.
package lm
