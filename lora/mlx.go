package lora

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/transpose"
)

// The files of an mlx-lm adapter directory.
const (
	mlxWeightsFile = "adapters.safetensors"
	mlxSufA        = ".lora_a" // (in, r): PEFT's lora_A transposed
	mlxSufB        = ".lora_b" // (r, out): PEFT's lora_B transposed
	mlxSufM        = ".m"      // DoRA magnitude (out)
)

// mlxDefaultScale is mlx-lm's default lora_parameters.scale, used when the
// config gives neither scale nor alpha.
const mlxDefaultScale = 20.0

// mlxConfig is the part of mlx-lm's adapter_config.json lorakit uses.
type mlxConfig struct {
	FineTuneType   string `json:"fine_tune_type"`
	UseDoRA        bool   `json:"use_dora"` // older mlx-lm
	Model          string `json:"model"`
	LoraParameters *struct {
		Rank    *float64 `json:"rank"`
		Alpha   *float64 `json:"alpha"`
		Scale   *float64 `json:"scale"`
		Dropout float64  `json:"dropout"`
	} `json:"lora_parameters"`
}

// ReadMLX reads an mlx-lm LoRA adapter directory: adapters.safetensors with
// keys "<module>.lora_a" (in x r) and "<module>.lora_b" (r x out), stored
// transposed relative to PEFT, and adapter_config.json with
// lora_parameters {rank, scale, alpha, dropout}.
//
// mlx-lm computes y = W x + scale * B A x, so the module's scale is
// lora_parameters.scale (Alpha = scale * rank). This is also what ollama's
// converter writes (adapter.lora.alpha = lora_parameters.alpha, which older
// mlx-lm configs set to scale * rank). A config with alpha but no scale uses
// alpha / rank; one with neither uses mlx-lm's default scale, 20.
func ReadMLX(dir string) (*Adapter, error) {
	cfgPath := filepath.Join(dir, peftConfigFile)
	data, err := readSmallFile(cfgPath)
	if err != nil {
		return nil, err
	}
	var mc mlxConfig
	if err := json.Unmarshal(data, &mc); err != nil {
		return nil, fmt.Errorf("lora: %s: %v: %w", cfgPath, err, format.ErrFormat)
	}
	dora := mc.UseDoRA
	switch mc.FineTuneType {
	case "", "lora":
	case "dora":
		dora = true
	default:
		return nil, fmt.Errorf("lora: %s: fine_tune_type %q is not a LoRA adapter: %w", cfgPath, mc.FineTuneType, format.ErrUnsupported)
	}
	weights := filepath.Join(dir, mlxWeightsFile)
	src, err := openContainer(weights, "safetensors")
	if err != nil {
		return nil, err
	}
	defer src.Close()
	a, err := mlxFromSource(src, weights, dora)
	if err != nil {
		return nil, err
	}
	if err := applyMLXScale(a, &mc, cfgPath); err != nil {
		return nil, err
	}
	a.Path = dir
	return a, nil
}

func mlxFromSource(src format.Source, file string, dora bool) (*Adapter, error) {
	fail := func(err error) (*Adapter, error) { return nil, fmt.Errorf("lora: %s: %w", file, err) }
	a := &Adapter{Kind: KindMLX, Path: file}
	bRank := map[*Module]int{}
	for _, info := range src.Tensors() {
		mod, part := splitMLXKey(info.Name, dora)
		if part == "" {
			t, err := copyTensor(src, info)
			if err != nil {
				return fail(err)
			}
			a.Saved = append(a.Saved, t)
			continue
		}
		m := a.Module(mod)
		if m == nil {
			m = &Module{Name: mod}
			a.Modules = append(a.Modules, m)
		}
		if err := setMLXPart(src, info, m, part, bRank); err != nil {
			return fail(fmt.Errorf("module %q: %w", mod, err))
		}
		if part == mlxSufA && a.DType == format.Invalid {
			a.DType = info.DType
		}
	}
	for _, m := range a.Modules {
		if err := checkHalves(m, bRank[m], "lora_a", "lora_b"); err != nil {
			return fail(err)
		}
		if dora && m.Magnitude == nil {
			return fail(fmt.Errorf("module %q: DoRA adapter without magnitude %q: %w", m.Name, m.Name+mlxSufM, format.ErrFormat))
		}
	}
	return a, nil
}

func splitMLXKey(name string, dora bool) (mod, part string) {
	sufs := []string{mlxSufA, mlxSufB}
	if dora {
		sufs = append(sufs, mlxSufM)
	}
	for _, suf := range sufs {
		if m, ok := strings.CutSuffix(name, suf); ok && m != "" {
			return m, suf
		}
	}
	return name, ""
}

// setMLXPart decodes one MLX tensor into m, transposing to PEFT's layout.
func setMLXPart(src format.Source, info format.TensorInfo, m *Module, part string, bRank map[*Module]int) error {
	if part == mlxSufM {
		if _, err := vector1D(info); err != nil {
			return err
		}
		v, err := readFloats(src, info)
		m.Magnitude = v
		return err
	}
	rows, cols, err := matrix2D(info)
	if err != nil {
		return err
	}
	vals, err := readFloats(src, info)
	if err != nil {
		return err
	}
	if part == mlxSufA { // (in, r) -> A (r, in)
		if m.A != nil {
			return fmt.Errorf("tensor %q given twice: %w", info.Name, format.ErrFormat)
		}
		m.A, m.In, m.Rank = transpose.Of(vals, rows, cols), rows, cols
		return nil
	}
	if m.B != nil { // (r, out) -> B (out, r)
		return fmt.Errorf("tensor %q given twice: %w", info.Name, format.ErrFormat)
	}
	m.B, m.Out, bRank[m] = transpose.Of(vals, rows, cols), cols, rows
	return nil
}

// applyMLXScale sets each module's alpha from lora_parameters and builds the
// adapter's PEFT-style config.
func applyMLXScale(a *Adapter, mc *mlxConfig, cfgPath string) error {
	rank := commonRank(a.Modules)
	dropout := 0.0
	scale := func(r int) float64 { return mlxDefaultScale }
	if lp := mc.LoraParameters; lp != nil {
		dropout = lp.Dropout
		if lp.Rank != nil {
			for _, m := range a.Modules {
				if float64(m.Rank) != *lp.Rank {
					return fmt.Errorf("lora: %s: module %q has rank %d, lora_parameters.rank is %v: %w", cfgPath, m.Name, m.Rank, *lp.Rank, format.ErrShape)
				}
			}
		}
		switch {
		case lp.Scale != nil:
			s := *lp.Scale
			scale = func(int) float64 { return s }
		case lp.Alpha != nil:
			al := *lp.Alpha
			scale = func(r int) float64 { return al / float64(r) }
		}
	}
	for _, m := range a.Modules {
		m.Alpha = scale(m.Rank) * float64(m.Rank)
		if math.IsNaN(m.Alpha) || math.IsInf(m.Alpha, 0) {
			return fmt.Errorf("lora: %s: module %q: scale is not finite: %w", cfgPath, m.Name, format.ErrFormat)
		}
	}
	alpha := scale(rank) * float64(rank)
	a.Config = NewConfig(max(rank, 1), alpha)
	a.Config.LoraDropout = dropout
	a.Config.BaseModel = mc.Model
	a.Config.UseDoRA = len(a.Modules) > 0 && a.Modules[0].Magnitude != nil
	return a.Validate()
}
