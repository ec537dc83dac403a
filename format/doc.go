// Package format is lorakit's tensor vocabulary: one DType enum for every
// element type that safetensors or GGUF knows, TensorInfo (row-major shapes,
// outermost first), the streaming Source and Sink interfaces that every file
// format implements, the sentinel errors, atomic output files, and element
// conversion to and from float32.
//
// Concrete formats live in sub-packages (format/safetensors, format/gguf,
// format/llama2c) and register themselves with RegisterFormat, so that
// Open can detect a file's format by its content; import them for their
// side effect, as image decoders are imported:
//
//	import _ "github.com/lorakit/lorakit/format/gguf"
package format
