package convert

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lorakit/lorakit/arch"
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
	// Arch names the base's architecture (a GGUF architecture name) when
	// there is no Base and the adapter cannot tell; it is checked against
	// what the adapter says.
	Arch string
	// DType of the written LoRA tensors; Invalid keeps the input's.
	DType format.DType
	// TargetParameters writes expert LoRA for PEFT as target_parameters on
	// transformers 5's fused 3-D expert parameters (mlp.experts.gate_up_proj,
	// down_proj) instead of one module per expert.
	TargetParameters bool
	// Force replaces an existing output (never an input).
	Force bool
}

// baseInfo is what a base model tells an adapter conversion.
type baseInfo struct {
	arch           *arch.Family
	heads, kvHeads int
	experts        int                // expert_count (0: none or unknown)
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
	to := lora.Kind(opt.To)
	if to == "" {
		to = lora.KindFor(out)
	}
	base, err := adapterBase(a, opt.Base, opt.Arch)
	if err != nil {
		return err
	}
	wopt := lora.WriteOptions{Force: opt.Force, DType: opt.DType}
	if !wopt.DType.Valid() {
		wopt.DType = a.DType
	}
	switch to {
	case lora.KindGGUF:
		if err := toGGUFNames(a, base); err != nil {
			return err
		}
		return lora.Write(a, out, to, wopt)
	case lora.KindPEFT:
		if opt.TargetParameters {
			if a.Kind != lora.KindGGUF {
				if err := toGGUFNames(a, base); err != nil {
					return err
				}
				a.Kind = lora.KindGGUF
			}
			if err := fuseExpertModules(a, base); err != nil {
				return err
			}
		}
		if err := toHFNames(a, base); err != nil {
			return err
		}
		return lora.Write(a, out, to, wopt)
	}
	return fmt.Errorf("%s: adapter output kind %q: %w (use gguf or peft)", out, to, format.ErrUnsupported)
}

// adapterBase works out the architecture (and head counts, shapes) from
// the base model, else the architecture named by archName, else the
// adapter itself (lora.Adapter.Family).
func adapterBase(a *lora.Adapter, basePath, archName string) (*baseInfo, error) {
	if basePath != "" {
		b, err := openBaseInfo(basePath)
		if err != nil {
			return nil, err
		}
		if archName != "" && archName != b.arch.Name {
			return nil, fmt.Errorf("--arch %s, but the base %s is %s: %w", archName, basePath, b.arch.Name, format.ErrInvalidOption)
		}
		return b, nil
	}
	b := &baseInfo{}
	var err error
	switch {
	case archName != "":
		if b.arch, err = arch.Lookup(archName); err != nil {
			return nil, fmt.Errorf("--arch: %w", err)
		}
		if a.Arch != "" && a.Arch != archName {
			return nil, fmt.Errorf("%s: the adapter is for %s, not --arch %s: %w", a.Path, a.Arch, archName, format.ErrInvalidOption)
		}
	default:
		if b.arch, err = a.Family(); err != nil {
			return nil, err
		}
	}
	// A GGUF adapter written by ollama carries the head counts.
	hp := b.arch.Hyperparameters(a.Metadata)
	b.heads, b.kvHeads = hp.Heads, hp.KVHeads
	if a.Config != nil {
		b.name = a.Config.BaseModel
	}
	return b, nil
}

// AdapterArch names the base architecture of an adapter (see
// lora.Adapter.Family); the error says why it cannot be told.
func AdapterArch(a *lora.Adapter) (string, error) {
	f, err := a.Family()
	if err != nil {
		return "", err
	}
	return f.Name, nil
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
	cfg, f, multimodal, err := readHFConfig(path)
	if err != nil {
		return nil, err
	}
	b.arch = f
	md, err := f.GGUFMetadata(cfg, filepath.Join(path, "config.json"))
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
	pw, err := dequantizePrequantized(w, cfg, path)
	if err == nil {
		pw, err = unfuseExperts(pw, f, hiddenSize(cfg), path)
	}
	if err != nil {
		return nil, err
	}
	src, err := (&HFModel{Dir: path, Config: cfg, Arch: f, Multimodal: multimodal, Weights: pw}).GGUFSource()
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
	if b.arch, err = arch.Lookup(archName); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return b.fill(md, src), nil
}

// fill completes b (whose arch is set) from the base's metadata and, when
// src is not nil, its tensor shapes.
func (b *baseInfo) fill(md format.Metadata, src format.Source) *baseInfo {
	hp := b.arch.Hyperparameters(md)
	b.heads, b.kvHeads, b.experts = hp.Heads, hp.KVHeads, hp.Experts
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
	b, err := adapterBase(a, basePath, "")
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
	b, err := adapterBase(a, basePath, "")
	if err != nil {
		return err
	}
	return toHFNames(a, b)
}

// ropeHeads returns the head count a RoPE transform needs.
func (b *baseInfo) ropeHeads(t arch.Transform, module string) (int, error) {
	h := b.heads
	if t == arch.RopeK {
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
	if a.Kind != lora.KindGGUF {
		if err := stackExpertModules(a, b); err != nil {
			return err
		}
	}
	for _, m := range a.Modules {
		if a.Kind != lora.KindGGUF && m.Experts == 0 {
			name, tn, ok := b.arch.GGUFName(m.Name + ".weight")
			if !ok && arch.VisionTensor(m.Name+".weight") {
				return fmt.Errorf("%s: module %q is in the vision tower: lorakit converts the text tower of multimodal models only; "+
					"merge the adapter with lorakit merge into the Hugging Face checkpoint instead: %w", a.Path, m.Name, format.ErrUnsupported)
			}
			if !ok {
				return fmt.Errorf("%s: module %q has no llama.cpp %s name: %w", a.Path, m.Name, b.arch.Name, format.ErrUnsupported)
			}
			if tn.Transform == arch.NormPlusOne {
				return fmt.Errorf("%s: module %q is a norm, which a LoRA adapter cannot adapt: %w", a.Path, m.Name, format.ErrUnsupported)
			}
			if tn.Transform == arch.RopeQ || tn.Transform == arch.RopeK {
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
	if b.heads > 0 && b.arch.Name == arch.Llama.Name {
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
		if !hasExpertModules(a) {
			return nil
		}
		// target_parameters modules: through llama.cpp's stacks to one
		// module per expert
		if err := stackExpertModules(a, b); err != nil {
			return err
		}
		if a.Config != nil {
			a.Config = a.Config.Clone()
			a.Config.TargetParameters = nil
		}
		if err := unstackExpertModules(a, b); err != nil {
			return err
		}
		return a.SyncConfig()
	}
	for _, m := range a.Modules {
		if m.Param {
			continue // named for Hugging Face already (fuseExpertModules)
		}
		if m.Experts > 0 {
			if err := b.checkShape(a.Path, m); err != nil {
				return err
			}
			continue
		}
		if err := b.checkShape(a.Path, m); err != nil {
			return err
		}
		name, tn, ok := b.arch.HFName(m.Name + ".weight")
		if !ok {
			return fmt.Errorf("%s: module %q has no Hugging Face %s name: %w", a.Path, m.Name, b.arch.Name, format.ErrUnsupported)
		}
		switch tn.Transform {
		case arch.RopeQ, arch.RopeK:
			h, err := b.ropeHeads(tn.Transform, m.Name)
			if err != nil {
				return fmt.Errorf("%s: %w", a.Path, err)
			}
			if err := permuteB(m, h, false); err != nil {
				return fmt.Errorf("%s: module %q: %w", a.Path, m.Name, err)
			}
		case arch.Transpose:
			m.FanInFanOut = true // PEFT wraps GPT-2's Conv1D
		}
		m.Name = strings.TrimSuffix(b.arch.PEFTPrefix+name, ".weight")
	}
	if err := unstackExpertModules(a, b); err != nil {
		return err
	}
	if a.Config != nil { // targets synced to llama.cpp's names name nothing in PEFT
		a.Config = a.Config.Clone()
		a.Config.TargetModules = lora.Targets{}
	}
	if a.Config != nil && b.name != "" && a.Config.BaseModel == "" {
		a.Config.BaseModel = b.name
	}
	return a.SyncConfig()
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
	switch {
	case m.Embedding:
		want = []int64{int64(m.In), int64(m.Out)}
	case m.Experts > 0:
		want = []int64{int64(m.Experts), int64(m.Out), int64(m.In)}
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
