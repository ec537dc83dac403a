package gguf

import (
	"fmt"
	"math"

	"github.com/lorakit/lorakit/format"
)

// llama.cpp's loader reads hyperparameters with typed getters that fail on
// any other type ("key has wrong type"), so the value types matter. These
// helpers store values the way gguf-py's GGUFWriter does.

// SetCount stores n under key as a UINT32, the type llama.cpp expects for
// counts and lengths ({arch}.context_length, .block_count,
// .attention.head_count, general.file_type, ...). It fails, wrapping
// format.ErrFormat, if n does not fit in a uint32.
func SetCount(md *format.Metadata, key string, n int64) error {
	if n < 0 || n > math.MaxUint32 {
		return fmt.Errorf("gguf: key %q: count %d does not fit in UINT32: %w", key, n, format.ErrFormat)
	}
	md.Set(key, uint32(n))
	return nil
}

// SetTokenID stores a token id under key as a UINT32, as llama.cpp reads
// tokenizer.ggml.bos_token_id and the other special ids.
func SetTokenID(md *format.Metadata, key string, id int) error {
	return SetCount(md, key, int64(id))
}

// SetFloat32 stores x under key as a FLOAT32, the type llama.cpp expects
// for epsilons ({arch}.attention.layer_norm_rms_epsilon), RoPE bases and
// adapter.lora.alpha.
func SetFloat32(md *format.Metadata, key string, x float64) {
	md.Set(key, float32(x))
}
