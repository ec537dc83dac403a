package resolve

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"

	// Readers and block codecs of every base lorakit takes.
	_ "github.com/lorakit/lorakit/format/gguf"
	_ "github.com/lorakit/lorakit/format/gguf/quant"
	_ "github.com/lorakit/lorakit/format/llama2c"
)

// Container kinds of a base.
const (
	KindGGUF        = "gguf"        // a GGUF file or split set
	KindSafetensors = "safetensors" // one safetensors file
	KindHFDir       = "hf"          // a directory: config.json (optional), weights, maybe shards
	KindLlama2c     = "llama2c"     // a llama2.c checkpoint (llama.cpp names; read only)
)

// Base is an opened base checkpoint and the index that maps adapter
// modules onto its tensors.
type Base struct {
	// Path is the file or directory opened.
	Path string
	// Kind is one of the Kind constants.
	Kind string
	// Src streams the base's tensors.
	Src format.Source
	// Arch is the architecture table when known (GGUF
	// general.architecture, config.json model_type), nil otherwise.
	Arch *arch.Family
	// Shard names the file holding a tensor (sharded HF directories only).
	Shard func(name string) (string, bool)

	infos  map[string]format.TensorInfo
	suffix map[string][]string // dotted name suffix -> tensors ending so
	view   bool                // a Hugging Face directory seen with llama.cpp names
}

// OpenGGUFView opens a base as Open does, but a Hugging Face model
// directory through its llama.cpp-named view (convert.OpenModel: GGUF
// names, layouts and metadata, tokenizer included), so that it compares
// with GGUF files. Other bases open as with Open.
func OpenGGUFView(path string) (*Base, error) {
	if !convert.IsHFDir(path) {
		return Open(path)
	}
	src, _, err := convert.OpenModel(path, "")
	if err != nil {
		return nil, err
	}
	b := View(path, src)
	b.Kind = KindHFDir
	return b, nil
}

// Open opens a GGUF file (or the first shard of a split set), a llama2.c
// checkpoint, a safetensors file, or a directory of safetensors as a base.
func Open(path string) (*Base, error) {
	st, err := os.Stat(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("base %s: %w: %w", path, format.ErrNotFound, err)
		}
		return nil, fmt.Errorf("base %s: %w", path, err)
	}
	b := &Base{Path: path}
	if st.IsDir() {
		b.Kind = KindHFDir
		if b.Src, err = safetensors.OpenDir(path); err != nil {
			return nil, err
		}
		if sh, ok := b.Src.(*safetensors.Sharded); ok {
			b.Shard = sh.Shard
		}
		if raw, err := os.ReadFile(filepath.Join(path, "config.json")); err == nil {
			var cfg struct {
				ModelType string `json:"model_type"`
			}
			if json.Unmarshal(raw, &cfg) == nil {
				b.Arch, _ = arch.ForModelType(cfg.ModelType)
			}
		}
		b.index()
		return b, nil
	}
	src, err := format.Open(path)
	if err != nil {
		return nil, err
	}
	if b, err = FromSource(path, src); err != nil {
		src.Close()
		return nil, err
	}
	return b, nil
}

// FromSource returns a Base over src, a GGUF, llama2.c or safetensors
// checkpoint already open, named as its container names its tensors
// (llama.cpp names for GGUF and llama2.c, Hugging Face names for
// safetensors). path is the file src was read from, or "" when there is
// none (then a llama.cpp LoRA adapter is renamed to Hugging Face names from
// its own architecture, as with no config.json). An adapter GGUF and
// containers that are not bases are refused (src is left open); closing
// the Base closes src.
func FromSource(path string, src format.Source) (*Base, error) {
	b := &Base{Path: path, Src: src}
	switch b.Kind = src.Format(); b.Kind {
	case KindGGUF, KindLlama2c:
		if t, _ := src.Metadata().String("general.type"); t == "adapter" {
			return nil, fmt.Errorf("base %s is a LoRA adapter, not a model: %w", b.Name(), format.ErrFormat)
		}
		name, _ := src.Metadata().String("general.architecture")
		b.Arch, _ = arch.Lookup(name)
	case KindSafetensors:
	default:
		return nil, fmt.Errorf("base %s: %s checkpoints are not bases lorakit merges into: %w", b.Name(), b.Kind, format.ErrUnsupported)
	}
	b.index()
	return b, nil
}

// Name is how messages refer to the base: its path, or its container kind
// when it has no path.
func (b *Base) Name() string {
	if b.Path != "" {
		return b.Path
	}
	return "(" + b.Kind + " source)"
}

// Close closes the base's files.
func (b *Base) Close() error { return b.Src.Close() }

// GGUFNames reports whether the base names its tensors as llama.cpp does.
func (b *Base) GGUFNames() bool { return b.view || b.Kind == KindGGUF || b.Kind == KindLlama2c }

// Info returns the base tensor named name.
func (b *Base) Info(name string) (format.TensorInfo, bool) {
	t, ok := b.infos[name]
	return t, ok
}

func (b *Base) index() {
	b.infos = make(map[string]format.TensorInfo, len(b.Src.Tensors()))
	for _, t := range b.Src.Tensors() {
		b.infos[t.Name] = t
	}
}

// View returns a Base over src, a checkpoint already open with llama.cpp
// names and metadata (convert.OpenModel's view of any checkpoint, the
// embedded stories260K), so that adapters run on a loaded model resolve as
// they do in merge. path names it in errors; Kind is src.Format(); closing
// the Base closes src.
func View(path string, src format.Source) *Base {
	b := &Base{Path: path, Kind: src.Format(), Src: src, view: true}
	name, _ := src.Metadata().String("general.architecture")
	b.Arch, _ = arch.Lookup(name)
	b.index()
	return b
}
