package convert

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

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
	Force         bool
	Progress      func(done, total int, name string)
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
	if opt.Preset.Base.Valid() {
		if kind != "gguf" {
			return fmt.Errorf("%s: quantized types (%s) are written as GGUF only: %w", out, opt.Preset, format.ErrUnsupported)
		}
		_, err := quantize.Write(ctx, src, out, quantize.Options{Preset: opt.Preset, Force: opt.Force, Progress: opt.Progress})
		return err
	}
	switch kind {
	case "hf":
		return WriteHF(ctx, src, out, HFOptions{DType: opt.DType, MaxShardBytes: opt.MaxShardBytes, Force: opt.Force, Progress: opt.Progress})
	case "gguf", "safetensors":
		if kind == "gguf" {
			src = llamaCppOrder(withMetadata(src, withFileType(src, opt.DType)))
		}
		return Checkpoint(ctx, src, out, Options{Format: kind, DType: opt.DType, Force: opt.Force, Progress: opt.Progress})
	}
	return fmt.Errorf("%s: output kind %q: %w (use gguf, hf or safetensors)", out, kind, format.ErrUnsupported)
}

// openModel opens in as a Source. For GGUF (and llama2c, HF → GGUF) output
// the Source has llama.cpp names and metadata, tokenizer included.
func openModel(in, tokPath, kind string) (format.Source, error) {
	if st, err := os.Stat(in); err == nil && st.IsDir() && IsHFDir(in) {
		m, err := OpenHF(in, tokPath)
		if err != nil {
			return nil, err
		}
		if kind == "safetensors" {
			return m.Weights, nil
		}
		src, err := m.GGUFSource()
		if err != nil {
			m.Close()
			return nil, err
		}
		return src, nil
	}
	src, err := format.Open(in)
	if err != nil {
		return nil, err
	}
	if r, ok := src.(*llama2c.Reader); ok {
		vocab, err := llama2cTokenizer(in, tokPath, r.Config().Vocab)
		if err != nil {
			src.Close()
			return nil, err
		}
		if vocab != nil {
			if err := fitVocab(vocab, r.Config().Vocab, in); err != nil {
				src.Close()
				return nil, err
			}
			md := src.Metadata().Clone()
			md = append(md, vocab.Metadata()...)
			return withMetadata(src, md), nil
		}
	}
	return src, nil
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
	ftypes := map[format.DType]uint32{format.F32: 0, format.F16: 1, format.BF16: 32}
	if ft, ok := ftypes[dt]; ok {
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
	a, err := LookupArch(name)
	if err != nil {
		return src
	}
	infos := append([]format.TensorInfo(nil), src.Tensors()...)
	sortGGUF(a, infos)
	return orderedSource{Source: src, infos: infos}
}

// orderedSource lists a Source's tensors in another order.
type orderedSource struct {
	format.Source
	infos []format.TensorInfo
}

func (o orderedSource) Tensors() []format.TensorInfo { return o.infos }
func (o orderedSource) Release(name string)          { format.Release(o.Source, name) }

// metaSource overrides a Source's metadata.
type metaSource struct {
	format.Source
	md format.Metadata
}

func (m metaSource) Metadata() format.Metadata { return m.md }
func (m metaSource) Release(name string)       { format.Release(m.Source, name) }

func withMetadata(src format.Source, md format.Metadata) format.Source {
	return metaSource{Source: src, md: md}
}
