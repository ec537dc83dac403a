package convert

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/convert/quantize"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/llama2c"
	"github.com/lorakit/lorakit/tokenizer"
)

// ModelOptions control Model.
type ModelOptions struct {
	// To is the output kind: "gguf", "hf" (a Hugging Face directory) or
	// "safetensors" (one file, names as they are); empty: from the output
	// path (.gguf, .safetensors, otherwise a directory).
	To string
	// DType casts floating-point weights (see CastTarget).
	DType format.DType
	// Preset, when its Base is valid, quantizes GGUF output as
	// llama-quantize would with that preset (Q8_0, Q4_K_M, ...).
	Preset quantize.Preset
	// Tokenizer overrides the tokenizer files found beside the input.
	Tokenizer string
	// MaxShardBytes splits Hugging Face output into shards.
	MaxShardBytes int64
	// Force replaces an existing output (never an input).
	Force bool
	// Split, when enabled, writes GGUF output as a llama-gguf-split set.
	Split format.SplitLimits
	// Progress, if set, is called after each tensor is written.
	Progress func(done, total int, name string)
	// DropPooler leaves BERT's pooler out of GGUF output (lorakit keeps
	// it as cls.pooler.*; llama.cpp's converter drops it).
	DropPooler bool
}

// OutputKind resolves ModelOptions.To for an output path.
func OutputKind(out, to string) string {
	if to != "" {
		return strings.ToLower(to)
	}
	switch strings.ToLower(filepath.Ext(out)) {
	case ".gguf":
		return "gguf"
	case ".safetensors":
		return "safetensors"
	}
	return "hf"
}

// Model converts a model checkpoint (a Hugging Face directory, a GGUF file,
// a safetensors file or a llama2.c checkpoint) to GGUF, a Hugging Face
// directory or a safetensors file, one tensor at a time.
func Model(ctx context.Context, in, out string, opt ModelOptions) error {
	kind := OutputKind(out, opt.To)
	src, err := openModel(in, opt.Tokenizer, kind)
	if err != nil {
		return err
	}
	defer src.Close()
	if opt.Split.Enabled() && kind != "gguf" {
		return fmt.Errorf("%s: only GGUF output is split into llama-gguf-split shards (for Hugging Face shards use --max-shard-size): %w", out, format.ErrUnsupported)
	}
	if opt.Preset.Base.Valid() {
		if kind != "gguf" {
			return fmt.Errorf("%s: quantized types (%s) are written as GGUF only: %w", out, opt.Preset, format.ErrUnsupported)
		}
		_, err := quantize.Write(ctx, src, out, quantize.Options{Preset: opt.Preset, Force: opt.Force, Split: opt.Split, Progress: opt.Progress})
		return err
	}
	switch kind {
	case "hf":
		return WriteHF(ctx, src, out, HFOptions{DType: opt.DType, MaxShardBytes: opt.MaxShardBytes, Force: opt.Force, Progress: opt.Progress})
	case "gguf", "safetensors":
		if kind == "gguf" {
			src = withMetadata(src, withFileType(src, opt.DType))
			if IsHFDir(in) {
				// A GGUF (or other named) input keeps its order; an HF
				// directory gets the order llama.cpp's converter writes.
				src = llamaCppOrder(src)
			}
			if opt.DropPooler {
				src = dropPooler(src)
			}
		}
		return Checkpoint(ctx, src, out, Options{Format: kind, DType: opt.DType, Force: opt.Force, Split: opt.Split, Progress: opt.Progress})
	}
	return fmt.Errorf("%s: output kind %q: %w (use gguf, hf or safetensors)", out, kind, format.ErrUnsupported)
}

// openModel opens in as a Source. For GGUF (and llama2c, HF → GGUF) output
// the Source has llama.cpp names and metadata, tokenizer included.
func openModel(in, tokPath, kind string) (format.Source, error) {
	if kind == "safetensors" && IsHFDir(in) {
		m, err := OpenHF(in, tokPath)
		if err != nil {
			return nil, err
		}
		return m.Weights, nil // names as they are
	}
	src, vocab, err := OpenModel(in, tokPath)
	if err != nil {
		return nil, err
	}
	if _, isLlama2c := src.(*llama2c.Reader); isLlama2c && vocab != nil {
		md := src.Metadata().Clone()
		md = append(md, vocab.Metadata()...)
		return withMetadata(src, md), nil
	}
	return src, nil
}

// OpenModel opens a model checkpoint with llama.cpp names, layouts and
// metadata — a Hugging Face directory (seen through its GGUF view), a GGUF
// file or a llama2.c checkpoint — and finds its tokenizer: tokPath when
// given (tokenizer.json, SentencePiece .model, llama2.c .bin), else the
// Hugging Face tokenizer files, the GGUF metadata, or a tokenizer beside a
// llama2.c checkpoint (tok*.model, tok*.bin). The vocabulary is nil when
// there is none.
func OpenModel(path, tokPath string) (format.Source, *tokenizer.Vocab, error) {
	if IsHFDir(path) {
		m, err := OpenHF(path, tokPath)
		if err != nil {
			return nil, nil, err
		}
		src, err := m.GGUFSource()
		if err != nil {
			m.Close()
			return nil, nil, err
		}
		return src, m.Vocab, nil
	}
	src, err := format.Open(path)
	if err != nil {
		return nil, nil, err
	}
	var v *tokenizer.Vocab
	switch r, isLlama2c := src.(*llama2c.Reader); {
	case isLlama2c:
		if v, err = llama2cTokenizer(path, tokPath, r.Config().Vocab); err == nil && v != nil {
			err = fitVocab(v, r.Config().Vocab, path)
		}
	case tokPath != "":
		v, err = loadTokenizer("", tokPath, 0)
	default:
		if v, err = tokenizer.FromMetadata(src.Metadata()); errors.Is(err, format.ErrNotFound) {
			v, err = nil, nil
		} else if err != nil {
			err = fmt.Errorf("%s: %w", path, err)
		}
	}
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	return src, v, nil
}

// llama2cTokenizer finds the tokenizer of a llama2.c checkpoint: explicit,
// or a tokenizer.model / tok*.model / tokenizer.bin / tok*.bin beside it.
func llama2cTokenizer(in, explicit string, n int) (*tokenizer.Vocab, error) {
	if explicit != "" {
		return loadTokenizer("", explicit, n)
	}
	dir := filepath.Dir(in)
	for _, pattern := range []string{"tokenizer.model", "tok*.model", "tokenizer.bin", "tok*.bin"} {
		matches, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, p := range matches {
			if p != in {
				return loadTokenizer("", p, n)
			}
		}
	}
	return nil, nil
}

// withFileType returns src's metadata with general.file_type set for a
// float cast (llama.cpp's LLAMA_FTYPE: 0 F32, 1 F16, 32 BF16).
func withFileType(src format.Source, dt format.DType) format.Metadata {
	md := src.Metadata().Clone()
	if ft, ok := fileTypes[dt]; ok {
		if _, has := md.Get("general.architecture"); has {
			md.Set("general.file_type", ft)
		}
	}
	return md
}

// llamaCppOrder lists a model's tensors in llama.cpp's converter order
// when its architecture is known (see sortGGUF).
func llamaCppOrder(src format.Source) format.Source {
	name, _ := src.Metadata().String("general.architecture")
	f, err := arch.Lookup(name)
	if err != nil {
		return src
	}
	infos := append([]format.TensorInfo(nil), src.Tensors()...)
	sortGGUF(f, infos, f.Hyperparameters(src.Metadata()).Experts)
	return orderedSource{Source: src, infos: infos}
}

// orderedSource lists a Source's tensors in another order.
type orderedSource struct {
	format.Source
	infos []format.TensorInfo
}

func (o orderedSource) Tensors() []format.TensorInfo { return o.infos }
func (o orderedSource) Release(name string)          { format.Release(o.Source, name) }
func (o orderedSource) Prefetch(name string)         { format.Prefetch(o.Source, name) }

// metaSource overrides a Source's metadata.
type metaSource struct {
	format.Source
	md format.Metadata
}

func (m metaSource) Metadata() format.Metadata { return m.md }
func (m metaSource) Release(name string)       { format.Release(m.Source, name) }
func (m metaSource) Prefetch(name string)      { format.Prefetch(m.Source, name) }

func withMetadata(src format.Source, md format.Metadata) format.Source {
	return metaSource{Source: src, md: md}
}
