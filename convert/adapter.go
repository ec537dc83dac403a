package convert

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"
	"github.com/lorakit/lorakit/lora"
)

// AdapterOptions control Adapter.
type AdapterOptions struct {
	// To is "gguf" (a llama.cpp LoRA adapter) or "peft" (a PEFT directory);
	// empty: .gguf output means gguf, anything else peft.
	To string
	// Base is the base model (a GGUF file, or a Hugging Face directory where
	// config.json alone suffices): it gives the architecture and head counts
	// and, when it has weights, the shapes every module is checked against.
	Base string
	// DType of the written LoRA tensors; Invalid keeps the input's.
	DType format.DType
	// Force replaces an existing output (never an input).
	Force bool
}

// baseInfo is what a base model tells an adapter conversion.
type baseInfo struct {
	arch           *Arch
	heads, kvHeads int
	shapes         map[string][]int64 // GGUF name -> row-major shape (nil: unknown)
	name           string             // for PEFT's base_model_name_or_path
}

// IsAdapter reports whether path holds a LoRA adapter (PEFT or MLX
// directory, llama.cpp LoRA GGUF). A malformed one (an adapter_config.json
// that does not parse, a damaged GGUF) counts as an adapter, so that
// reading it reports the damage instead of converting the directory's
// weights file as if it were a model.
func IsAdapter(path string) bool {
	_, _, err := lora.Detect(path)
	return err == nil || errors.Is(err, format.ErrFormat)
}

// Adapter converts a LoRA adapter between PEFT, llama.cpp's LoRA GGUF and
// (as input) mlx-lm, mapping module names through the architecture table
// and fixing layouts where the formats differ:
//   - llama q/k: llama.cpp's RoPE row permutation is applied to B (rows of
//     dW = B·A are rows of B), inverted on the way back;
//   - GPT-2 Conv1D modules: A and B are in nn.Linear orientation in every
//     format, so dW = s·B·A has llama.cpp's [out, in] orientation as it is;
//     PEFT output marks them fan_in_fan_out;
//   - llama.cpp applies one alpha divided by each tensor's rank: rsLoRA,
//     rank_pattern and alpha_pattern scales are folded into B.
func Adapter(in, out string, opt AdapterOptions) error {
	a, err := lora.Open(in)
	if err != nil {
		return err
	}
	to := opt.To
	if to == "" {
		to = "peft"
		if strings.EqualFold(filepath.Ext(out), ".gguf") {
			to = "gguf"
		}
	}
	base, err := adapterBase(a, opt.Base)
	if err != nil {
		return err
	}
	wopt := lora.WriteOptions{Force: opt.Force, DType: opt.DType}
	if !wopt.DType.Valid() {
		wopt.DType = a.DType
	}
	switch to {
	case "gguf":
		if err := toGGUFNames(a, base); err != nil {
			return err
		}
		return lora.WriteGGUF(a, out, wopt)
	case "peft":
		if err := toHFNames(a, base); err != nil {
			return err
		}
		return lora.WritePEFT(a, out, wopt)
	}
	return fmt.Errorf("%s: adapter output kind %q: %w (use gguf or peft)", out, to, format.ErrUnsupported)
}

// adapterBase works out the architecture (and head counts, shapes) from
// the base model, or else from the adapter itself.
func adapterBase(a *lora.Adapter, basePath string) (*baseInfo, error) {
	if basePath != "" {
		return openBaseInfo(basePath)
	}
	b := &baseInfo{}
	name := a.Arch
	if name == "" {
		name = guessArch(a)
	}
	if name == "" {
		return nil, fmt.Errorf("%s: cannot tell the base architecture from the adapter; give --base: %w", a.Path, format.ErrUnsupported)
	}
	var err error
	if b.arch, err = LookupArch(name); err != nil {
		return nil, fmt.Errorf("%s: %w", a.Path, err)
	}
	// A GGUF adapter written by ollama carries the head counts.
	heads, _ := a.Metadata.Int(name + ".attention.head_count")
	kv, ok := a.Metadata.Int(name + ".attention.head_count_kv")
	if !ok {
		kv = heads
	}
	b.heads, b.kvHeads = int(heads), int(kv)
	if a.Config != nil {
		b.name = a.Config.BaseModel
	}
	return b, nil
}

// AdapterArch names the base architecture of an adapter: from the file
// (GGUF adapters say it) or guessed from module names and the base model's
// name; "" if unknown.
func AdapterArch(a *lora.Adapter) string {
	if a.Arch != "" {
		return a.Arch
	}
	return guessArch(a)
}

// guessArch names the architecture from module names or the base model's
// name, where that is unambiguous.
func guessArch(a *lora.Adapter) string {
	votes := map[string]bool{}
	for _, m := range a.Modules {
		for _, arch := range []*Arch{gpt2, llama} {
			if _, _, ok := arch.GGUFName(m.Name + ".weight"); ok {
				votes[arch.Name] = true
			}
		}
	}
	if len(votes) == 1 {
		for n := range votes {
			return n
		}
	}
	if a.Config != nil {
		base := strings.ToLower(a.Config.BaseModel)
		for _, n := range []string{"gpt2", "llama", "mistral", "qwen2"} {
			if strings.Contains(base, n) {
				if n == "mistral" {
					return "llama"
				}
				return n
			}
		}
	}
	return ""
}

// openBaseInfo reads a base model's architecture, heads and shapes. A
// Hugging Face directory needs only its config.json; its weights, when
// present, give the shapes (its tokenizer is not read).
func openBaseInfo(path string) (*baseInfo, error) {
	if !IsHFDir(path) {
		s, _, err := OpenModel(path, "")
		if err != nil {
			return nil, err
		}
		defer s.Close()
		return sourceBaseInfo(s, path)
	}
	b := &baseInfo{name: path}
	cfgPath := filepath.Join(path, "config.json")
	raw, err := format.ReadInput(cfgPath, format.ConfigLimit)
	if err != nil {
		return nil, err
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %v: %w", cfgPath, err, format.ErrFormat)
	}
	mt, _ := cfg["model_type"].(string)
	if b.arch, err = ArchForModelType(mt); err != nil {
		return nil, fmt.Errorf("%s: %w", cfgPath, err)
	}
	md, err := b.arch.GGUFMetadata(cfg, cfgPath)
	if err != nil {
		return nil, err
	}
	w, err := safetensors.OpenDir(path)
	switch {
	case errors.Is(err, format.ErrNotFound): // weights are optional
		return b.fill(md, nil), nil
	case err != nil:
		return nil, err
	}
	defer w.Close()
	src, err := (&HFModel{Dir: path, Config: cfg, Arch: b.arch, Weights: w}).GGUFSource()
	if err != nil {
		return nil, err
	}
	return b.fill(md, src), nil
}

// sourceBaseInfo reads a base's architecture, heads and shapes from a
// Source with llama.cpp names and metadata.
func sourceBaseInfo(src format.Source, name string) (*baseInfo, error) {
	b := &baseInfo{name: name}
	md := src.Metadata()
	archName, _ := md.String("general.architecture")
	var err error
	if b.arch, err = LookupArch(archName); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return b.fill(md, src), nil
}

// fill completes b (whose arch is set) from the base's metadata and, when
// src is not nil, its tensor shapes.
func (b *baseInfo) fill(md format.Metadata, src format.Source) *baseInfo {
	heads, _ := md.Int(b.arch.Name + ".attention.head_count")
	kv, ok := md.Int(b.arch.Name + ".attention.head_count_kv")
	if !ok {
		kv = heads
	}
	b.heads, b.kvHeads = int(heads), int(kv)
	if src != nil {
		b.shapes = map[string][]int64{}
		for _, t := range src.Tensors() {
			b.shapes[t.Name] = t.Shape
		}
	}
	return b
}

// ToGGUFNamesFor is ToGGUFNames for a base already open as a Source with
// llama.cpp names and metadata (a loaded GGUF, an embedded checkpoint).
func ToGGUFNamesFor(a *lora.Adapter, base format.Source) error {
	b, err := sourceBaseInfo(base, a.Path)
	if err != nil {
		return err
	}
	return toGGUFNames(a, b)
}

// ToGGUFNames renames a's modules to llama.cpp's names for the base model
// at basePath (a GGUF, llama2.c or HF checkpoint, or an HF directory with
// only config.json), permuting llama q/k B rows, checking every module's
// shape against the base where it has weights, and folding all scales into
// one alpha. A GGUF adapter keeps its names and is only checked.
func ToGGUFNames(a *lora.Adapter, basePath string) error {
	b, err := adapterBase(a, basePath)
	if err != nil {
		return err
	}
	return toGGUFNames(a, b)
}

// ToHFNames renames a llama.cpp LoRA adapter's modules to the Hugging Face
// module paths PEFT uses for the base at basePath (or the adapter's own
// architecture when basePath is ""), inverting llama.cpp's q/k permutation
// and marking GPT-2 Conv1D modules fan_in_fan_out. PEFT and MLX adapters,
// whose names are already Hugging Face's, are left as they are.
func ToHFNames(a *lora.Adapter, basePath string) error {
	b, err := adapterBase(a, basePath)
	if err != nil {
		return err
	}
	return toHFNames(a, b)
}

// ropeHeads returns the head count a RoPE transform needs.
func (b *baseInfo) ropeHeads(t Transform, module string) (int, error) {
	h := b.heads
	if t == RopeK {
		h = b.kvHeads
	}
	if h <= 0 {
		return 0, fmt.Errorf("module %q needs llama.cpp's RoPE row permutation, which needs the head count: give --base: %w", module, format.ErrUnsupported)
	}
	return h, nil
}

// toGGUFNames renames an adapter's modules to llama.cpp's names (identity
// for a GGUF adapter), permutes q/k B rows, checks shapes against the base
// and folds all scales into one alpha.
func toGGUFNames(a *lora.Adapter, b *baseInfo) error {
	for _, m := range a.Modules {
		if a.Kind != lora.KindGGUF {
			name, tn, ok := b.arch.GGUFName(m.Name + ".weight")
			if !ok {
				return fmt.Errorf("%s: module %q has no llama.cpp %s name: %w", a.Path, m.Name, b.arch.Name, format.ErrUnsupported)
			}
			if tn.Transform == RopeQ || tn.Transform == RopeK {
				h, err := b.ropeHeads(tn.Transform, m.Name)
				if err != nil {
					return fmt.Errorf("%s: %w", a.Path, err)
				}
				if err := permuteB(m, h, true); err != nil {
					return fmt.Errorf("%s: module %q: %w", a.Path, m.Name, err)
				}
			}
			m.Name = strings.TrimSuffix(name, ".weight")
			m.FanInFanOut = false // llama.cpp's weights are all [out, in]
		}
		if err := b.checkShape(a.Path, m); err != nil {
			return err
		}
	}
	a.Arch = b.arch.Name
	if b.heads > 0 && b.arch.Name == "llama" {
		a.Metadata.Set("llama.attention.head_count", uint32(b.heads))
		a.Metadata.Set("llama.attention.head_count_kv", uint32(b.kvHeads))
	}
	alpha := 0.0
	if a.Config != nil {
		alpha = a.Config.LoraAlpha
	}
	if alpha == 0 && len(a.Modules) > 0 {
		alpha = a.Modules[0].Alpha
	}
	if alpha == 0 && len(a.Modules) > 0 {
		// PEFT's lora_alpha 0 is scale 0, but a GGUF alpha of 0 means "none"
		// (scale 1) to llama.cpp: fold into alpha = rank, B carrying the 0.
		alpha = float64(a.Modules[0].Rank)
	}
	return a.FoldScale(alpha)
}

// toHFNames renames an adapter's modules to the Hugging Face module paths
// PEFT uses (identity for PEFT and MLX adapters, whose names are HF's),
// inverting llama.cpp's q/k permutation.
func toHFNames(a *lora.Adapter, b *baseInfo) error {
	if a.Kind != lora.KindGGUF {
		return nil
	}
	for _, m := range a.Modules {
		if err := b.checkShape(a.Path, m); err != nil {
			return err
		}
		name, tn, ok := b.arch.HFName(m.Name + ".weight")
		if !ok {
			return fmt.Errorf("%s: module %q has no Hugging Face %s name: %w", a.Path, m.Name, b.arch.Name, format.ErrUnsupported)
		}
		switch tn.Transform {
		case RopeQ, RopeK:
			h, err := b.ropeHeads(tn.Transform, m.Name)
			if err != nil {
				return fmt.Errorf("%s: %w", a.Path, err)
			}
			if err := permuteB(m, h, false); err != nil {
				return fmt.Errorf("%s: module %q: %w", a.Path, m.Name, err)
			}
		case Transpose:
			m.FanInFanOut = true // PEFT wraps GPT-2's Conv1D
		}
		m.Name = strings.TrimSuffix(b.arch.peftPrefix()+name, ".weight")
	}
	if a.Config != nil && b.name != "" && a.Config.BaseModel == "" {
		a.Config.BaseModel = b.name
	}
	return a.SyncConfig()
}

// peftPrefix is the module path prefix PEFT sees in front of the HF names
// of the table (GPT2LMHeadModel holds the body as "transformer").
func (a *Arch) peftPrefix() string {
	if len(a.HFPrefixes) > 0 {
		return a.HFPrefixes[0]
	}
	return ""
}

// checkShape compares a module's dW shape with its base tensor (by GGUF
// name, before renaming for PEFT output: both sides are [out, in]).
func (b *baseInfo) checkShape(where string, m *lora.Module) error {
	if b.shapes == nil {
		return nil
	}
	shape, ok := b.shapes[m.Name+".weight"]
	if !ok {
		return fmt.Errorf("%s: module %q: the base has no tensor %q: %w", where, m.Name, m.Name+".weight", format.ErrNotFound)
	}
	want := []int64{int64(m.Out), int64(m.In)}
	if m.Embedding {
		want = []int64{int64(m.In), int64(m.Out)}
	}
	if !format.SameShape(shape, want) {
		return fmt.Errorf("%s: module %q: update is %v but the base tensor is %v: %w", where, m.Name, want, shape, format.ErrShape)
	}
	return nil
}

// permuteB reorders the output rows of a module with llama.cpp's RoPE
// permutation for heads heads: the rows of B (Out x Rank), and the DoRA
// magnitude and lora_B bias, which have one entry per output row.
func permuteB(m *lora.Module, heads int, toGGUF bool) error {
	if err := permuteRows(m.B, m.Out, heads, toGGUF); err != nil {
		return err
	}
	for _, v := range [][]float32{m.Magnitude, m.Bias} {
		if v != nil {
			if err := permuteRows(v, m.Out, heads, toGGUF); err != nil {
				return err
			}
		}
	}
	return nil
}

// permuteRows applies ropeRows in place to vals, rows rows of float32.
func permuteRows(vals []float32, rows, heads int, toGGUF bool) error {
	raw := make([]byte, 4*len(vals))
	for i, v := range vals {
		putF32(raw[4*i:], v)
	}
	out, err := ropeRows(raw, rows, len(raw)/rows, heads, toGGUF)
	if err != nil {
		return err
	}
	for i := range vals {
		vals[i] = getF32(out[4*i:])
	}
	return nil
}
