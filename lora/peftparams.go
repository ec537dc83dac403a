package lora

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// peftBaseLayer is the path segment PEFT inserts when it wraps a second
// parameter of a module that one ParamWrapper already wraps.
const peftBaseLayer = ".base_layer"

// resolveParams turns the LoRA pairs PEFT's ParamWrapper saves for
// target_parameters into stacked-expert modules named by the parameter
// ("model.layers.0.mlp.experts.gate_up_proj", Param set).
//
// PEFT's layout (peft/tuners/lora/layer.py, ParamWrapper): for a parameter
// of shape (E, out, in) (transformers' experts, is_transposed False) and
// rank r, lora_A.weight is (r·E, in) with expert e's A_e in rows
// e·r..e·r+r-1, and lora_B.weight is (out, r·E) with B_e[:, k] in column
// k·E+e (B reshaped (out, r, E)); dW_e = (alpha/r)·B_e·A_e. When two
// parameters of one module are targeted, one pair sits under
// ".base_layer"; which parameter each pair adapts is told from the shapes
// (gate_up_proj is (E, 2·ff, hidden), down_proj (E, hidden, ff)).
func resolveParams(a *Adapter, cfg *Config, bRank map[*Module]int) error {
	if len(cfg.TargetParameters) == 0 {
		return nil
	}
	var paths []string
	groups := map[string][]*Module{}
	cands := map[string][]string{}
	for _, m := range a.Modules {
		path := strings.ReplaceAll(m.Name, peftBaseLayer, "")
		ps := targetedParams(path, cfg.TargetParameters)
		if len(ps) == 0 || slices.Equal(ps, []string{"weight"}) {
			continue // an ordinary module (a 2-D weight targeted by parameter is one too)
		}
		if groups[path] == nil {
			paths = append(paths, path)
		}
		groups[path] = append(groups[path], m)
		cands[path] = ps
	}
	for _, path := range paths {
		mods, ps := groups[path], cands[path]
		for _, m := range mods {
			if err := checkHalves(m, bRank[m], "lora_A", "lora_B"); err != nil {
				return err
			}
		}
		names, err := assignParams(path, mods, ps)
		if err != nil {
			return err
		}
		for i, m := range mods {
			if err := unpackParam(m, path+"."+names[i], cfg, bRank); err != nil {
				return err
			}
		}
	}
	return nil
}

// targetedParams lists the parameter names of target_parameters entries
// that match module path as PEFT matches them (the key path.param equals
// the entry or ends with "." + entry).
func targetedParams(path string, targets []string) []string {
	var out []string
	for _, t := range targets {
		p := t[strings.LastIndexByte(t, '.')+1:]
		key := path + "." + p
		if (key == t || strings.HasSuffix(key, "."+t)) && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// assignParams says which parameter each LoRA pair of one module adapts.
func assignParams(path string, mods []*Module, ps []string) ([]string, error) {
	if len(mods) != len(ps) {
		return nil, fmt.Errorf("module %q: %d LoRA pairs, but target_parameters name %d of its parameters (%s): %w",
			path, len(mods), len(ps), strings.Join(ps, ", "), format.ErrFormat)
	}
	if len(mods) == 1 {
		return ps, nil
	}
	if len(mods) == 2 && slices.Contains(ps, "gate_up_proj") && slices.Contains(ps, "down_proj") {
		x, y := mods[0], mods[1]
		xIsGateUp := x.In == y.Out && x.Out == 2*y.In
		yIsGateUp := y.In == x.Out && y.Out == 2*x.In
		switch {
		case xIsGateUp && !yIsGateUp:
			return []string{"gate_up_proj", "down_proj"}, nil
		case yIsGateUp && !xIsGateUp:
			return []string{"down_proj", "gate_up_proj"}, nil
		}
	}
	return nil, fmt.Errorf("module %q: cannot tell which of %s each of its %d LoRA pairs adapts from their shapes: %w",
		path, strings.Join(ps, ", "), len(mods), format.ErrUnsupported)
}

// unpackParam reshapes one ParamWrapper pair into per-expert A_e, B_e.
func unpackParam(m *Module, name string, cfg *Config, bRank map[*Module]int) error {
	r, err := cfg.ModuleRank(name)
	if err != nil {
		return err
	}
	total := m.Rank
	if r <= 0 || total%r != 0 {
		return fmt.Errorf("parameter %q: lora_A has %d rows, not a multiple of the rank %d (r / rank_pattern): %w", name, total, r, format.ErrShape)
	}
	E := total / r
	b := make([]float32, len(m.B)) // (out, r, E) -> (E, out, r)
	for o := range m.Out {
		for k := range r {
			for e := range E {
				b[(e*m.Out+o)*r+k] = m.B[(o*r+k)*E+e]
			}
		}
	}
	delete(bRank, m)
	m.Name, m.Param, m.Experts, m.Rank, m.B = name, true, E, r, b
	bRank[m] = r
	return nil
}
