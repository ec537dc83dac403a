package gguf

// Opening a GGUF file makes its block types decodable: the ggml codecs
// register themselves with format.ToFloat32 / format.FromFloat32.
import _ "github.com/lorakit/lorakit/format/gguf/quant"
