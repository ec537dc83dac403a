// Package format is lorakit's tensor vocabulary: one DType enum for every
// element type that safetensors or GGUF knows, TensorInfo (row-major shapes,
// outermost first), the streaming Source and Sink interfaces that every file
// format implements, the sentinel errors, the record of this process's
// input files (MarkInput, OpenInput, ReadInput: no output may replace one),
// and element conversion to and from float32. Writing outputs atomically
// and memory-mapping inputs are the writers' and readers' business
// (internal/atomicfile, internal/mmap).
//
// Concrete formats live in sub-packages (format/safetensors, format/gguf,
// format/llama2c) and register themselves with RegisterFormat, so that
// Open can detect a file's format by its content; import them for their
// side effect, as image decoders are imported:
//
//	import _ "github.com/lorakit/lorakit/format/gguf"
package format
