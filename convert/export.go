package convert

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"
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
// config.json's fields derived from its metadata.
func HFView(src format.Source) (format.Source, map[string]any, error) {
	archName, _ := src.Metadata().String("general.architecture")
	a, err := LookupArch(archName)
	if err != nil {
		return nil, nil, err
	}
	md := src.Metadata()
	heads, _ := md.Int(a.Name + ".attention.head_count")
	kvHeads, ok := md.Int(a.Name + ".attention.head_count_kv")
	if !ok {
		kvHeads = heads
	}
	v := &view{base: src, entries: map[string]viewEntry{}, md: format.Metadata{{Key: "format", Value: "pt"}}}
	for _, t := range src.Tensors() {
		if t.Name == "rope_freqs.weight" {
			continue // llama.cpp's precomputed rope scaling; HF computes it from config.json
		}
		name, tn, ok := a.HFName(t.Name)
		if !ok {
			return nil, nil, fmt.Errorf("tensor %q has no Hugging Face %s name: %w", t.Name, a.Name, format.ErrUnsupported)
		}
		e := viewEntry{from: t, transform: tn.Transform, toGGUF: false, heads: int(heads)}
		if tn.Transform == RopeK {
			e.heads = int(kvHeads)
		}
		v.entries[name] = e
		v.infos = append(v.infos, e.info(name))
	}
	cfg, err := hfConfig(a, md, v.infos)
	if err != nil {
		return nil, nil, err
	}
	return v, cfg, nil
}

// hfConfig builds config.json from GGUF metadata.
func hfConfig(a *Arch, md format.Metadata, infos []format.TensorInfo) (map[string]any, error) {
	cfg := map[string]any{"architectures": []string{a.HFClass}, "model_type": a.HFModelType}
	for k, v := range a.Extra {
		cfg[k] = v
	}
	for _, p := range a.Params {
		if _, done := cfg[p.JSON]; done {
			continue
		}
		switch v, _ := md.Get(a.Name + "." + p.Key); x := v.(type) {
		case float32:
			cfg[p.JSON] = json.Number(strconv.FormatFloat(float64(x), 'g', -1, 32))
		case nil:
			if p.Default == nil {
				return nil, fmt.Errorf("metadata lacks %s.%s: %w", a.Name, p.Key, format.ErrFormat)
			}
		default:
			n, _ := md.Int(a.Name + "." + p.Key)
			cfg[p.JSON] = n
		}
	}
	if emb, ok := format.TensorIndex(infos, hfEmbedding(a)); ok && len(emb.Shape) == 2 {
		if _, ok := cfg["vocab_size"]; !ok {
			cfg["vocab_size"] = emb.Shape[0]
		}
	}
	_, hasHead := format.TensorIndex(infos, "lm_head.weight")
	cfg["tie_word_embeddings"] = !hasHead
	for key, field := range map[string]string{"tokenizer.ggml.bos_token_id": "bos_token_id", "tokenizer.ggml.eos_token_id": "eos_token_id"} {
		if id, ok := md.Int(key); ok {
			cfg[field] = id
		}
	}
	return cfg, nil
}

// hfEmbedding is the HF name of the token embedding.
func hfEmbedding(a *Arch) string {
	name, _, _ := a.HFName("token_embd.weight")
	return name
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
	return format.WriteDirAtomic(dir, opt.Force, isHFFile, func(tmp string) error {
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
