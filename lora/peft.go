package lora

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"
)

// The files of a PEFT adapter directory.
const (
	peftConfigFile  = "adapter_config.json"
	peftWeightsFile = "adapter_model.safetensors"
	peftPickleFile  = "adapter_model.bin"
	peftPrefix      = "base_model.model."
)

// PEFT's state-dict key suffixes (the adapter name already stripped, as
// save_pretrained writes them).
const (
	sufA         = ".lora_A.weight"
	sufB         = ".lora_B.weight"
	sufBias      = ".lora_B.bias"
	sufEmbA      = ".lora_embedding_A"
	sufEmbB      = ".lora_embedding_B"
	sufMagnitude = ".lora_magnitude_vector"
)

// ReadPEFT reads a PEFT LoRA adapter directory: adapter_config.json and
// adapter_model.safetensors. Ranks and alphas are resolved per module
// (rank_pattern, alpha_pattern); a tensor rank that disagrees with the
// config is an error, as it is when PEFT loads the adapter.
func ReadPEFT(dir string) (*Adapter, error) {
	cfg, err := readConfigFile(filepath.Join(dir, peftConfigFile))
	if err != nil {
		return nil, err
	}
	weights := filepath.Join(dir, peftWeightsFile)
	if _, err := os.Stat(weights); err != nil {
		if _, perr := os.Stat(filepath.Join(dir, peftPickleFile)); perr == nil {
			return nil, fmt.Errorf("lora: %s: adapter_model.bin is a PyTorch pickle, which lorakit does not execute; re-save the adapter with safe_serialization=True (adapter_model.safetensors): %w",
				dir, format.ErrUnsupported)
		}
		return nil, fmt.Errorf("lora: %s: no %s: %w", dir, peftWeightsFile, format.ErrNotFound)
	}
	src, err := openContainer(weights, "safetensors")
	if err != nil {
		return nil, err
	}
	defer src.Close()
	a, err := peftFromSource(src, cfg, weights)
	if err != nil {
		return nil, err
	}
	a.Path = dir
	return a, nil
}

// peftFromSource groups a PEFT state dict into modules.
func peftFromSource(src format.Source, cfg *Config, file string) (*Adapter, error) {
	a := &Adapter{Config: cfg, Kind: KindPEFT, Path: file}
	bRank := map[*Module]int{} // lora_B's column count, checked against lora_A's rank
	fail := func(err error) (*Adapter, error) { return nil, fmt.Errorf("lora: %s: %w", file, err) }
	for _, info := range src.Tensors() {
		name := strings.TrimPrefix(info.Name, peftPrefix)
		mod, part := splitPEFTKey(name)
		if part == "" {
			t, err := copyTensor(src, info)
			if err != nil {
				return fail(err)
			}
			t.Name = name
			a.Saved = append(a.Saved, t)
			continue
		}
		m := a.Module(mod)
		if m == nil {
			m = &Module{Name: mod, RSLoRA: cfg.UseRSLoRA}
			a.Modules = append(a.Modules, m)
		}
		if a.DType == format.Invalid && (part == sufA || part == sufEmbA) {
			a.DType = info.DType
		}
		if err := setPEFTPart(src, info, m, part, bRank); err != nil {
			return fail(fmt.Errorf("module %q: %w", mod, err))
		}
	}
	if err := resolveParams(a, cfg, bRank); err != nil {
		return fail(err)
	}
	for _, m := range a.Modules {
		if err := finishPEFTModule(m, cfg, bRank[m]); err != nil {
			return fail(err)
		}
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a, nil
}

// splitPEFTKey splits "x.y.lora_A.weight" into ("x.y", ".lora_A.weight"); part
// is "" for a key that is no LoRA tensor.
func splitPEFTKey(name string) (mod, part string) {
	for _, suf := range []string{sufA, sufB, sufBias, sufEmbA, sufEmbB, sufMagnitude} {
		if m, ok := strings.CutSuffix(name, suf); ok && m != "" {
			return m, suf
		}
	}
	return name, ""
}

// setPEFTPart decodes one LoRA tensor into m.
func setPEFTPart(src format.Source, info format.TensorInfo, m *Module, part string, bRank map[*Module]int) error {
	var (
		rows, cols int
		err        error
	)
	switch part {
	case sufMagnitude, sufBias:
		rows, err = vector1D(info)
	default:
		rows, cols, err = matrix2D(info)
	}
	if err != nil {
		return err
	}
	vals, err := readFloats(src, info)
	if err != nil {
		return err
	}
	dup := func(have []float32) error {
		if have != nil {
			return fmt.Errorf("tensor %q given twice: %w", info.Name, format.ErrFormat)
		}
		return nil
	}
	switch part {
	case sufA, sufEmbA: // (r, in) / (r, num_embeddings)
		if err := dup(m.A); err != nil {
			return err
		}
		m.A, m.Rank, m.In, m.Embedding = vals, rows, cols, part == sufEmbA
	case sufB, sufEmbB: // (out, r) / (dim, r)
		if err := dup(m.B); err != nil {
			return err
		}
		m.B, m.Out = vals, rows
		bRank[m] = cols
	case sufMagnitude:
		if err := dup(m.Magnitude); err != nil {
			return err
		}
		m.Magnitude = vals
	case sufBias:
		if err := dup(m.Bias); err != nil {
			return err
		}
		m.Bias = vals
	}
	return nil
}

// finishPEFTModule checks that both halves are present and agree, and
// resolves rank and alpha from the config.
func finishPEFTModule(m *Module, cfg *Config, bRank int) error {
	if err := checkHalves(m, bRank, "lora_A", "lora_B"); err != nil {
		return err
	}
	r, err := cfg.ModuleRank(m.Name)
	if err != nil {
		return err
	}
	if r != m.Rank {
		return fmt.Errorf("module %q: tensors have rank %d, the config gives %d (r / rank_pattern): %w", m.Name, m.Rank, r, format.ErrShape)
	}
	if m.Alpha, err = cfg.ModuleAlpha(m.Name); err != nil {
		return err
	}
	if cfg.UseDoRA && m.Magnitude == nil && !m.Embedding {
		return fmt.Errorf("module %q: use_dora is set but lora_magnitude_vector is missing: %w", m.Name, format.ErrFormat)
	}
	m.FanInFanOut = cfg.FanInFanOut && !m.Embedding
	return nil
}

// readConfigFile reads and parses an adapter_config.json.
func readConfigFile(path string) (*Config, error) {
	data, err := readSmallFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("lora: %s: %w", path, err)
	}
	return cfg, nil
}

// readSmallFile reads a JSON file of at most maxConfigBytes and records it
// as an input: no output of this run may replace it.
func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("lora: %s: %w: %w", path, format.ErrNotFound, err)
		}
		return nil, fmt.Errorf("lora: %w", err)
	}
	format.MarkInput(path)
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("lora: %s: %w", path, err)
	}
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("lora: %s: larger than %d bytes: %w", path, maxConfigBytes, format.ErrFormat)
	}
	return data, nil
}

// openContainer opens path with the format registry and checks its kind.
func openContainer(path, want string) (format.Source, error) {
	src, err := format.Open(path)
	if err != nil {
		return nil, fmt.Errorf("lora: %w", err)
	}
	if src.Format() != want {
		src.Close()
		return nil, fmt.Errorf("lora: %s: a %s file, want %s: %w", path, src.Format(), want, format.ErrFormat)
	}
	return src, nil
}

// WritePEFT writes the adapter as a PEFT directory (adapter_config.json and
// adapter_model.safetensors with PEFT's key names and {"format": "pt"}
// metadata) that PEFT loads unchanged. The directory appears atomically;
// an existing one is replaced only with opts.Force. The adapter's Config is
// copied and synced to its modules (see SyncConfig); a is not modified.
func WritePEFT(a *Adapter, dir string, opts WriteOptions) error {
	dt, err := outDType(opts.DType)
	if err != nil {
		return err
	}
	if dt.IsBlock() || !dt.InSafetensors() {
		return fmt.Errorf("lora: %s: safetensors cannot hold %v: %w", dir, dt, format.ErrUnsupported)
	}
	if err := a.Validate(); err != nil {
		return err
	}
	for _, m := range a.Modules {
		if m.Experts > 0 && !m.Param {
			return fmt.Errorf("lora: %s: module %q stacks %d experts, which PEFT holds as one module per expert or as a target_parameters parameter: rename it for a Hugging Face base first (convert.ToHFNames): %w",
				dir, m.Name, m.Experts, format.ErrUnsupported)
		}
	}
	b := *a
	if a.Config != nil {
		b.Config = a.Config.Clone()
	}
	if err := b.SyncConfig(); err != nil {
		return err
	}
	if b.Config.PeftType == "" {
		b.Config.PeftType = "LORA"
	}
	cfgJSON, err := b.Config.Marshal()
	if err != nil {
		return fmt.Errorf("lora: %s: %w", dir, err)
	}
	ts := peftTensors(&b, dt)
	sortLikeSafetensors(ts)
	return writeDirAtomic(dir, opts.Force, func(tmp string) error {
		if err := os.WriteFile(filepath.Join(tmp, peftConfigFile), cfgJSON, 0o644); err != nil {
			return fmt.Errorf("lora: %s: %w", dir, err)
		}
		md := format.Metadata{{Key: "format", Value: "pt"}}
		if err := writeTensors("safetensors", filepath.Join(tmp, peftWeightsFile), ts, md, false); err != nil {
			return fmt.Errorf("lora: %s: %w", dir, err)
		}
		return nil
	})
}

// peftTensors lists the state dict PEFT saves: per module lora_A, lora_B
// (and bias, magnitude), then the saved full tensors.
func peftTensors(a *Adapter, dt format.DType) []outTensor {
	var ts []outTensor
	add := func(name string, shape []int64, vals []float32) {
		ts = append(ts, outTensor{info: format.TensorInfo{Name: peftPrefix + name, DType: dt, Shape: shape}, vals: vals})
	}
	wrapped := map[string]int{} // ParamWrapper module path -> pairs written
	for _, m := range a.Modules {
		r, in, out := int64(m.Rank), int64(m.In), int64(m.Out)
		if m.Param {
			path := m.Name[:max(0, strings.LastIndexByte(m.Name, '.'))]
			key := path + strings.Repeat(peftBaseLayer, paramsOn(a, path)-1-wrapped[path])
			wrapped[path]++
			e := int64(m.Experts)
			add(key+sufA, []int64{r * e, in}, m.A)
			add(key+sufB, []int64{out, r * e}, packParamB(m))
			continue
		}
		if m.Embedding {
			add(m.Name+sufEmbA, []int64{r, in}, m.A)
			add(m.Name+sufEmbB, []int64{out, r}, m.B)
		} else {
			add(m.Name+sufA, []int64{r, in}, m.A)
			add(m.Name+sufB, []int64{out, r}, m.B)
		}
		if m.Bias != nil {
			add(m.Name+sufBias, []int64{out}, m.Bias)
		}
		if m.Magnitude != nil {
			add(m.Name+sufMagnitude, []int64{out}, m.Magnitude)
		}
	}
	for _, t := range a.Saved {
		ts = append(ts, outTensor{info: format.TensorInfo{Name: peftPrefix + t.Name, DType: t.DType, Shape: t.Shape}, raw: t.Data})
	}
	return ts
}

// sortLikeSafetensors orders the tensors as Python's safetensors save_file
// lays them out (by dtype alignment, then name), so that a PEFT directory
// lorakit writes is byte-identical to the one PEFT would save.
func sortLikeSafetensors(ts []outTensor) {
	infos := make([]format.TensorInfo, len(ts))
	byName := make(map[string]outTensor, len(ts))
	for i, t := range ts {
		infos[i] = t.info
		byName[t.info.Name] = t
	}
	safetensors.SortLikeReference(infos)
	for i, info := range infos {
		ts[i] = byName[info.Name]
	}
}

// paramsOn counts the parameter modules of a on module path.
func paramsOn(a *Adapter, path string) int {
	n := 0
	for _, m := range a.Modules {
		if m.Param && strings.HasPrefix(m.Name, path+".") && !strings.Contains(m.Name[len(path)+1:], ".") {
			n++
		}
	}
	return n
}

// packParamB lays a stacked module's B (E, out, r) out as PEFT's
// ParamWrapper lora_B (out, r·E), B_e[:, k] in column k·E+e.
func packParamB(m *Module) []float32 {
	E, r := max(1, m.Experts), m.Rank
	b := make([]float32, len(m.B))
	for e := range E {
		for o := range m.Out {
			for k := range r {
				b[(o*r+k)*E+e] = m.B[(e*m.Out+o)*r+k]
			}
		}
	}
	return b
}
