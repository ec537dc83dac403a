package convert

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
)

// expertCount is the base's expert count for a stacked GGUF tensor: its
// outermost dimension where the base has weights, else expert_count.
func (b *baseInfo) expertCount(where, gguf string) (int, error) {
	if s, ok := b.shapes[gguf+".weight"]; ok && len(s) == 3 {
		return int(s[0]), nil
	}
	if b.shapes != nil {
		return 0, fmt.Errorf("%s: the base has no stacked expert tensor %q: %w", where, gguf+".weight", format.ErrNotFound)
	}
	if b.experts > 0 {
		return b.experts, nil
	}
	return 0, fmt.Errorf("%s: %s: the expert count is unknown: give --base (a GGUF or a Hugging Face directory's config.json): %w", where, gguf, format.ErrUnsupported)
}

// stackExpertModules replaces the expert modules of an adapter with Hugging
// Face names by llama.cpp's stacked modules, named as GGUF names them
// ("blk.0.ffn_gate_exps"), each where its first expert was:
//   - one module per expert ("...experts.3.w1", "...experts.3.gate_proj")
//     stack into one module of the base's expert count (experts without an
//     update are zero; see lora.StackExperts); an expert the base does not
//     have is an error;
//   - a target_parameters module on gate_up_proj becomes ffn_gate_exps and
//     ffn_up_exps (B's rows split, A shared), down_proj ffn_down_exps.
//
// Other modules are left as they are.
func stackExpertModules(a *lora.Adapter, b *baseInfo) error {
	type group struct {
		experts []*lora.Module
		at      int
	}
	groups := map[string]*group{}
	var out []*lora.Module
	for _, m := range a.Modules {
		if m.Param {
			mods, err := splitFusedParam(a.Path, m, b)
			if err != nil {
				return err
			}
			out = append(out, mods...)
			continue
		}
		match, ok := b.arch.GGUF(m.Name + ".weight")
		if !ok || !match.Tensor.Stacked() {
			out = append(out, m)
			continue
		}
		name := strings.TrimSuffix(match.Name, ".weight")
		g := groups[name]
		if g == nil {
			E, err := b.expertCount(a.Path, name)
			if err != nil {
				return err
			}
			g = &group{experts: make([]*lora.Module, E), at: len(out)}
			groups[name] = g
			out = append(out, nil) // the stack's place
		}
		if match.Expert >= len(g.experts) {
			return fmt.Errorf("%s: module %q adapts expert %d, but the base has %d experts in %s: %w", a.Path, m.Name, match.Expert, len(g.experts), name, format.ErrShape)
		}
		if g.experts[match.Expert] != nil {
			return fmt.Errorf("%s: modules %q and %q both adapt expert %d of %s: %w", a.Path, g.experts[match.Expert].Name, m.Name, match.Expert, name, format.ErrFormat)
		}
		g.experts[match.Expert] = m
	}
	for name, g := range groups {
		s, err := lora.StackExperts(name, g.experts)
		if err != nil {
			return fmt.Errorf("%s: %w", a.Path, err)
		}
		out[g.at] = s
	}
	a.Modules = out
	return nil
}

// splitFusedParam maps a target_parameters module to llama.cpp's stacked
// modules.
func splitFusedParam(where string, m *lora.Module, b *baseInfo) ([]*lora.Module, error) {
	sub := fusedExperts.FindStringSubmatch(m.Name) // the parameter's own name
	if sub == nil || m.Experts == 0 {
		return nil, fmt.Errorf("%s: parameter %q has no llama.cpp %s name (lorakit maps the stacked experts' gate_up_proj and down_proj): %w", where, m.Name, b.arch.Name, format.ErrUnsupported)
	}
	layer, _ := strconv.Atoi(sub[2])
	if _, _, ok := b.arch.HFName(fmt.Sprintf("blk.%d.ffn_down_exps.weight", layer)); !ok {
		return nil, fmt.Errorf("%s: parameter %q: %s models have no stacked experts: %w", where, m.Name, b.arch.Name, format.ErrUnsupported)
	}
	named := func(gguf string, out int, bRows func(e int) []float32) (*lora.Module, error) {
		name := fmt.Sprintf("blk.%d.%s", layer, gguf)
		E, err := b.expertCount(where, name)
		if err != nil {
			return nil, err
		}
		if E != m.Experts {
			return nil, fmt.Errorf("%s: parameter %q adapts %d experts, but the base has %d in %s: %w", where, m.Name, m.Experts, E, name, format.ErrShape)
		}
		s := *m
		s.Name, s.Param, s.Out = name, false, out
		s.B = make([]float32, 0, E*out*m.Rank)
		for e := range E {
			s.B = append(s.B, bRows(e)...)
		}
		return &s, nil
	}
	perExpert := m.Out * m.Rank
	rows := func(e, lo, hi int) []float32 { return m.B[e*perExpert+lo*m.Rank : e*perExpert+hi*m.Rank] }
	if sub[3] == "down_proj" {
		d, err := named("ffn_down_exps", m.Out, func(e int) []float32 { return rows(e, 0, m.Out) })
		if err != nil {
			return nil, err
		}
		return []*lora.Module{d}, nil
	}
	if m.Out%2 != 0 {
		return nil, fmt.Errorf("%s: parameter %q has %d output rows, not gate and up halves: %w", where, m.Name, m.Out, format.ErrShape)
	}
	ff := m.Out / 2
	gate, err := named("ffn_gate_exps", ff, func(e int) []float32 { return rows(e, 0, ff) })
	if err != nil {
		return nil, err
	}
	up, err := named("ffn_up_exps", ff, func(e int) []float32 { return rows(e, ff, 2*ff) })
	if err != nil {
		return nil, err
	}
	up.A = append([]float32(nil), m.A...) // the halves are independent modules
	return []*lora.Module{gate, up}, nil
}

// unstackExpertModules replaces each stacked module (GGUF names) by one
// module per expert with the Hugging Face names PEFT uses
// ("model.layers.0.block_sparse_moe.experts.3.w1").
func unstackExpertModules(a *lora.Adapter, b *baseInfo) error {
	var out []*lora.Module
	for _, m := range a.Modules {
		if m.Experts == 0 || m.Param {
			out = append(out, m)
			continue
		}
		match, ok := b.arch.HF(m.Name + ".weight")
		if !ok || !match.Tensor.Stacked() {
			return fmt.Errorf("%s: module %q stacks %d experts, but %s has no such stacked expert tensor: %w", a.Path, m.Name, m.Experts, b.arch.Name, format.ErrUnsupported)
		}
		for e := range m.Experts {
			x := m.Expert(e)
			x.A, x.B = append([]float32(nil), x.A...), append([]float32(nil), x.B...)
			x.Name = strings.TrimSuffix(b.arch.PEFTPrefix+match.ExpertName(e), ".weight")
			out = append(out, x)
		}
	}
	a.Modules = out
	return nil
}

// hasExpertModules reports whether a has stacked or parameter modules.
func hasExpertModules(a *lora.Adapter) bool {
	for _, m := range a.Modules {
		if m.Experts > 0 || m.Param {
			return true
		}
	}
	return false
}

// fuseExpertModules replaces the stacked modules of a llama.cpp-named
// adapter by PEFT target_parameters modules on transformers 5's fused
// expert parameters, per layer: ffn_gate_exps and ffn_up_exps become one
// module on mlp.experts.gate_up_proj of rank r_gate + r_up, each expert's
// A the two A stacked and its B block-diagonal (gate rows from the gate
// pair, up rows from the up pair, each pair's scale folded into its B, so
// the module's scale is 1), exactly the two updates; ffn_down_exps
// becomes mlp.experts.down_proj as it is.
func fuseExpertModules(a *lora.Adapter, b *baseInfo) error {
	type pair struct{ gate, up *lora.Module }
	pairs := map[int]*pair{}
	var out []*lora.Module
	at := map[int]int{} // layer -> index in out of its gate_up module
	for _, m := range a.Modules {
		if m.Experts == 0 {
			out = append(out, m)
			continue
		}
		var layer int
		var proj string
		if n, err := fmt.Sscanf(m.Name, "blk.%d.%s", &layer, &proj); n != 2 || err != nil {
			return fmt.Errorf("%s: stacked module %q: %w", a.Path, m.Name, format.ErrUnsupported)
		}
		prefix := fmt.Sprintf("%smodel.layers.%d.mlp.experts.", b.arch.PEFTPrefix, layer)
		switch proj {
		case "ffn_down_exps":
			d := *m
			d.Name, d.Param = prefix+"down_proj", true
			out = append(out, &d)
			continue
		case "ffn_gate_exps", "ffn_up_exps":
		default:
			return fmt.Errorf("%s: stacked module %q has no transformers 5 expert parameter: %w", a.Path, m.Name, format.ErrUnsupported)
		}
		p := pairs[layer]
		if p == nil {
			p = &pair{}
			pairs[layer] = p
			at[layer] = len(out)
			out = append(out, nil)
		}
		if proj == "ffn_gate_exps" {
			p.gate = m
		} else {
			p.up = m
		}
	}
	for layer, p := range pairs {
		g, err := fuseGateUp(fmt.Sprintf("%smodel.layers.%d.mlp.experts.gate_up_proj", b.arch.PEFTPrefix, layer), p.gate, p.up)
		if err != nil {
			return fmt.Errorf("%s: %w", a.Path, err)
		}
		out[at[layer]] = g
	}
	a.Modules = out
	return nil
}

// fuseGateUp builds the gate_up_proj module from the gate and up stacks
// (either may be nil).
func fuseGateUp(name string, gate, up *lora.Module) (*lora.Module, error) {
	parts := []*lora.Module{gate, up}
	var ref *lora.Module
	for _, x := range parts {
		if x != nil {
			if ref != nil && (x.Experts != ref.Experts || x.In != ref.In || x.Out != ref.Out) {
				return nil, fmt.Errorf("%s: gate and up stacks disagree: %d×(%d,%d) and %d×(%d,%d): %w", name, ref.Experts, ref.Out, ref.In, x.Experts, x.Out, x.In, format.ErrShape)
			}
			ref = x
		}
	}
	E, I, H := ref.Experts, ref.Out, ref.In
	R := 0
	for _, x := range parts {
		if x != nil {
			R += x.Rank
		}
	}
	m := &lora.Module{Name: name, Param: true, Experts: E, Rank: R, In: H, Out: 2 * I, Alpha: float64(R),
		A: make([]float32, E*R*H), B: make([]float32, E*2*I*R)}
	k0 := 0 // first rank column of the part
	for half, x := range parts {
		if x == nil {
			continue
		}
		s := x.Scale()
		for e := range E {
			xe := x.Expert(e)
			copy(m.A[(e*R+k0)*H:], xe.A)
			for o := range I {
				row := m.B[(e*2*I+half*I+o)*R:]
				for k := range x.Rank {
					row[k0+k] = float32(s * float64(xe.B[o*x.Rank+k]))
				}
			}
		}
		k0 += x.Rank
	}
	return m, nil
}
