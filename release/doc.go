// Package release does the whole job of publishing a fine-tune in one
// atomic directory: merge the adapters into the base (package merge), write
// the merged model as GGUF F16 or BF16 and each requested llama-quantize
// type (NAME-<TYPE>.gguf, split with llama-gguf-split's layout when asked),
// optionally its Hugging Face form, prove every file with package verify,
// and write the model card (README.md with Hugging Face front matter), an
// ollama Modelfile, release.json (what it was made from) and SHA256SUMS.
// Verify re-checks such a directory later.
package release
