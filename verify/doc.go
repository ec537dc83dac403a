// Package verify proves a release right: it re-derives every tensor of a
// merged or quantized model (GGUF, split GGUF, safetensors, Hugging Face
// directory; any dtype) from its base and adapters with merge's own
// kernels and lorakit's ggml-exact codecs, one tensor at a time, and says
// for each whether it is bit-exact, equal within the dtype's rounding
// (with the bound and its reason), or different — and which tensors an
// adapter should have changed but did not. The tokenizer, chat template
// and architecture must be carried from the base.
//
// Quantized release tensors are requantized and compared byte for byte;
// where bytes differ, each block must be as close to the exact merged
// values as lorakit's own quantization of them (a quantization of values
// within float32 rounding of them). Float tensors may differ from
// lorakit's by the final rounding to their dtype plus a few float32 ulps
// of the tensor's largest value (another summation order of B·A).
package verify
