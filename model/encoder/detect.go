package encoder

import (
	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
)

// IsEncoder reports whether path is an encoder checkpoint lorakit runs
// with this package: a Hugging Face directory whose config.json
// model_type is BERT's, RoBERTa's or DeBERTa-v2's, or a GGUF of
// architecture "bert".
// Unreadable paths are not encoders (the caller's loader reports why).
func IsEncoder(path string) bool {
	if cfg, ok, err := readHFConfig(path); ok && err == nil {
		mt, _ := cfg.String("model_type")
		if mt == "deberta-v2" {
			return true
		}
		f, err := arch.ForModelType(mt)
		return err == nil && arch.IsEncoder(f)
	}
	src, err := format.Open(path)
	if err != nil {
		return false
	}
	defer src.Close()
	a, _ := src.Metadata().String("general.architecture")
	return arch.IsEncoder(mustFamily(a))
}
