package convert

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"
	"github.com/lorakit/lorakit/internal/atomicfile"
	"github.com/lorakit/lorakit/tokenizer"
)

// hfFiles are the files an exported Hugging Face directory may hold; --force
// replaces only a directory made of these.
var hfFiles = map[string]bool{
	"config.json": true, "generation_config.json": true, "tokenizer.json": true, "tokenizer_config.json": true,
	safetensors.SingleFile: true, safetensors.IndexFile: true,
}

func isHFFile(name string) bool {
	ok, _ := filepath.Match("model-*-of-*.safetensors", name)
	return ok || hfFiles[name]
}

// HFOptions control WriteHF.
type HFOptions struct {
	// DType, when valid, casts floating-point tensors (quantized ones are
	// always dequantized: safetensors cannot hold ggml blocks; default F32).
	DType format.DType
	// MaxShardBytes splits the weights into shards of at most this size.
	MaxShardBytes int64
	// Vocab overrides the tokenizer found in the source's metadata.
	Vocab *tokenizer.Vocab
	// Force replaces an existing output (never an input).
	Force bool
	// Progress, if set, is called after each tensor is written.
	Progress func(done, total int, name string)
}

// HFView presents a checkpoint with llama.cpp names (a GGUF file, a
// llama2.c checkpoint) under Hugging Face names and layouts, with
// config.json's fields derived from its metadata. Generated tensors
// (rope_freqs, LongRoPE factors) become config.json's rope_scaling.
func HFView(src format.Source) (format.Source, map[string]any, error) {
	archName, _ := src.Metadata().String("general.architecture")
	f, err := arch.Lookup(archName)
	if err != nil {
		return nil, nil, err
	}
	md := src.Metadata()
	hp := f.Hyperparameters(md)
	v := &view{base: src, entries: map[string]viewEntry{}, md: format.Metadata{{Key: "format", Value: "pt"}}}
	factors := map[string][]float32{}
	vocab, tied := int64(0), true
	for _, t := range src.Tensors() {
		if arch.Generated[t.Name] {
			vals, err := readFloats(src, t)
			if err != nil {
				return nil, nil, err
			}
			factors[t.Name] = vals
			continue
		}
		match, ok := f.HF(t.Name)
		if !ok {
			return nil, nil, fmt.Errorf("tensor %q has no Hugging Face %s name: %w", t.Name, f.Name, format.ErrUnsupported)
		}
		if match.Tensor.Stacked() {
			if len(t.Shape) != 3 || t.Shape[0] != int64(hp.Experts) {
				return nil, nil, fmt.Errorf("tensor %q: shape %v, want %d experts (%s.expert_count) of a matrix: %w",
					t.Name, t.Shape, hp.Experts, f.Name, format.ErrShape)
			}
			for e := range hp.Experts {
				s := newEntry(t, match.Tensor.Transform, false, 0)
				s.sliced, s.slice = true, e
				v.add(match.ExpertName(e), s)
			}
			continue
		}
		switch t.Name {
		case "token_embd.weight":
			if len(t.Shape) == 2 {
				vocab = t.Shape[0]
			}
		case "output.weight":
			tied = false
		}
		v.add(match.Name, newEntry(t, match.Tensor.Transform, false, ropeHeads(match.Tensor.Transform, hp)))
	}
	cfg, err := f.HFConfig(md, factors, vocab, tied)
	if err != nil {
		return nil, nil, err
	}
	return v, cfg, nil
}

// readFloats decodes a (small) tensor to float32.
func readFloats(src format.Source, t format.TensorInfo) ([]float32, error) {
	n, err := t.NumElements()
	if err != nil {
		return nil, err
	}
	data, err := src.TensorData(t.Name)
	if err != nil {
		return nil, err
	}
	out := make([]float32, n)
	if err := format.ToFloat32(out, data, t.DType); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	return out, nil
}

// WriteHF writes a checkpoint with llama.cpp names (GGUF, llama2.c) as a
// Hugging Face model directory: config.json, generation_config.json,
// model.safetensors (or shards) and tokenizer.json + tokenizer_config.json
// when a tokenizer is known. The directory appears whole or not at all.
func WriteHF(ctx context.Context, src format.Source, dir string, opt HFOptions) error {
	hf, cfg, err := HFView(src)
	if err != nil {
		return err
	}
	vocab := opt.Vocab
	if vocab == nil {
		if m, ok := src.Metadata().String(tokenizer.KeyModel); ok && m != "" {
			if vocab, err = tokenizer.FromMetadata(src.Metadata()); err != nil {
				return err
			}
		}
	}
	plan := make([]format.TensorInfo, 0, len(hf.Tensors()))
	for _, t := range hf.Tensors() {
		t.DType = CastTarget(t, "safetensors", opt.DType)
		plan = append(plan, t)
	}
	safetensors.SortLikeReference(plan)
	cfg["torch_dtype"] = torchDType(plan)
	return atomicfile.WriteDir(dir, opt.Force, isHFFile, func(tmp string) error {
		if err := writeJSON(filepath.Join(tmp, "config.json"), cfg); err != nil {
			return err
		}
		gen := map[string]any{}
		for _, k := range []string{"bos_token_id", "eos_token_id"} {
			if v, ok := cfg[k]; ok {
				gen[k] = v
			}
		}
		if vocab != nil && len(vocab.EOGIDs()) > 1 {
			gen["eos_token_id"] = vocab.EOGIDs() // every end-of-generation id, EOS first
		}
		if err := writeJSON(filepath.Join(tmp, "generation_config.json"), gen); err != nil {
			return err
		}
		if vocab != nil {
			if err := tokenizer.SaveHF(tmp, vocab, false); err != nil {
				return err
			}
		}
		sink, err := safetensors.CreateSharded(tmp, plan, hf.Metadata(), opt.MaxShardBytes, format.CreateOptions{})
		if err != nil {
			return err
		}
		return writeTensors(ctx, hf, plan, sink, opt.Progress)
	})
}

// torchDType names the dominant floating-point dtype for config.json.
func torchDType(plan []format.TensorInfo) string {
	names := map[format.DType]string{format.F32: "float32", format.F16: "float16", format.BF16: "bfloat16"}
	for _, t := range plan {
		if len(t.Shape) == 2 {
			if n, ok := names[t.DType]; ok {
				return n
			}
		}
	}
	return "float32"
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
