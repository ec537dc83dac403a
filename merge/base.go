package merge

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"

	// Block codecs for quantized bases.
	_ "github.com/lorakit/lorakit/format/gguf"
	_ "github.com/lorakit/lorakit/format/gguf/quant"
)

// Container kinds of a base.
const (
	kindGGUF        = "gguf"
	kindSafetensors = "safetensors" // one file
	kindHFDir       = "hf"          // a directory (config.json, weights, maybe shards)
)

// base is an opened base checkpoint.
type base struct {
	path string
	kind string
	src  format.Source
	// arch is the architecture table when known (GGUF general.architecture,
	// config.json model_type), nil otherwise.
	arch *arch.Family
	// shard names the file holding a tensor (sharded HF directories).
	shard func(name string) (string, bool)
}

// openBase opens a GGUF file, a safetensors file or a Hugging Face
// directory as a merge base.
func openBase(path string) (*base, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", path, wrapNotExist(err))
	}
	b := &base{path: path}
	if st.IsDir() {
		b.kind = kindHFDir
		if b.src, err = safetensors.OpenDir(path); err != nil {
			return nil, err
		}
		if sh, ok := b.src.(*safetensors.Sharded); ok {
			b.shard = sh.Shard
		}
		if raw, err := format.ReadInput(filepath.Join(path, "config.json"), format.ConfigLimit); err == nil {
			var cfg struct {
				ModelType string `json:"model_type"`
			}
			if json.Unmarshal(raw, &cfg) == nil {
				b.arch, _ = arch.ForModelType(cfg.ModelType)
			}
		}
		return b, nil
	}
	if b.src, err = format.Open(path); err != nil {
		return nil, err
	}
	switch b.src.Format() {
	case kindGGUF:
		b.kind = kindGGUF
		name, _ := b.src.Metadata().String("general.architecture")
		if t, _ := b.src.Metadata().String("general.type"); t == "adapter" {
			b.src.Close()
			return nil, fmt.Errorf("base %s is a LoRA adapter, not a model: %w", path, format.ErrFormat)
		}
		b.arch, _ = arch.Lookup(name)
	case kindSafetensors:
		b.kind = kindSafetensors
	default:
		f := b.src.Format()
		b.src.Close()
		return nil, fmt.Errorf("base %s: %s checkpoints cannot be written back; convert it to GGUF or safetensors first: %w", path, f, format.ErrUnsupported)
	}
	return b, nil
}

// wrapNotExist makes a missing file wrap format.ErrNotFound.
func wrapNotExist(err error) error {
	if os.IsNotExist(err) {
		return fmt.Errorf("%v: %w", err, format.ErrNotFound)
	}
	return err
}
