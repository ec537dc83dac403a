package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/model/gemm"
)

// loraState is the model's LoRA parameters: every part's A and B in one
// buffer, and their gradients in a second with the same layout.
type loraState struct {
	params, grads []float32
	parts         []*loraPart
}

// LoRAConfig describes adapters to add with AddLoRA.
type LoRAConfig struct {
	// Targets name the projections to adapt, in every layer: q, k, v, o,
	// gate, up, down (or their GGUF names attn_q, ..., ffn_down). On a fused
	// attn_qkv (GPT-2, Phi-3), q, k and v are its row blocks, each with its
	// own A and B as in loralib's MergedLinear; "qkv" (attn_qkv) adapts it
	// whole. On Phi-3's fused ffn_up, gate and up are its halves and
	// "gate_up" the whole. In a mixture of experts, gate_exps, up_exps and
	// down_exps (ffn_*_exps; "experts": all three) give every expert its
	// own pair, exported as stacked modules.
	Targets []string
	Rank    int
	Alpha   float64
	// RSLoRA scales by Alpha/√Rank instead of Alpha/Rank.
	RSLoRA bool
	// Dropout is the probability of zeroing an input of the LoRA path
	// during Forward (Loss and inference never drop).
	Dropout float64
	// Seed seeds the initialisation and the dropout masks.
	Seed uint64
}

// targetNames maps the short target names to GGUF module suffixes.
var targetNames = map[string]string{
	"q": "attn_q", "k": "attn_k", "v": "attn_v", "o": "attn_output", "qkv": "attn_qkv",
	"gate": "ffn_gate", "up": "ffn_up", "down": "ffn_down", "router": "ffn_gate_inp",
}

// target resolves a target name to the linear of block l and the output
// rows it covers. On a fused attn_qkv, q, k and v are its row blocks; on
// a fused gate|up (Phi-3's ffn_up), "gate" and "up" are its halves and
// "gate_up" or "ffn_up" the whole.
func (m *Model) target(l int, name string) (lin *linear, off, out int, err error) {
	c := m.Config
	blk := &m.blocks[l]
	suffix := name
	if s, ok := targetNames[name]; ok {
		suffix = s
	}
	if blk.qkv != nil {
		switch suffix {
		case "attn_q":
			return blk.qkv, 0, c.QDim(), nil
		case "attn_k":
			return blk.qkv, c.QDim(), c.KVDim(), nil
		case "attn_v":
			return blk.qkv, c.QDim() + c.KVDim(), c.KVDim(), nil
		}
	}
	if c.Recipe.FusedGateUp {
		switch name {
		case "gate", "ffn_gate":
			return blk.up, 0, c.FF, nil
		case "up":
			return blk.up, c.FF, c.FF, nil
		case "gate_up":
			return blk.up, 0, 2 * c.FF, nil
		}
	}
	if blk.router != nil && (suffix == "ffn_gate" || suffix == "ffn_up" || suffix == "ffn_down" || strings.HasSuffix(suffix, "_exps")) {
		return nil, 0, 0, fmt.Errorf("model: LoRA target %q: the experts of a %s model are adapted as gate_exps, up_exps, down_exps (or experts, all three): %w",
			name, c.Arch, format.ErrUnsupported)
	}
	lin = m.linear(fmt.Sprintf("blk.%d.%s", l, suffix))
	if lin == nil {
		return nil, 0, 0, fmt.Errorf("model: LoRA target %q: no such projection in %s: %w", name, c.Arch, format.ErrNotFound)
	}
	return lin, 0, lin.w.Rows, nil
}

// AddLoRA attaches freshly initialised LoRA layers to every layer's
// targets, as loralib does: A Kaiming-uniform (a = √5, i.e. U(±1/√in)), B
// zero, so the model's output is unchanged until training moves B. A rank
// above the smaller side of a target (an update that cannot have that
// rank) wraps format.ErrShape; on any error the model is unchanged.
func (m *Model) AddLoRA(cfg LoRAConfig) error {
	if m.opts.FullFineTune {
		return fmt.Errorf("model: LoRA on a fully fine-tuned model: %w", format.ErrUnsupported)
	}
	if cfg.Rank <= 0 || cfg.Rank > maxDim || !(cfg.Dropout >= 0 && cfg.Dropout < 1) || math.IsNaN(cfg.Alpha) || math.IsInf(cfg.Alpha, 0) || len(cfg.Targets) == 0 {
		return fmt.Errorf("model: LoRA rank %d, alpha %v, dropout %v, targets %v: %w", cfg.Rank, cfg.Alpha, cfg.Dropout, cfg.Targets, format.ErrInvalidOption)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x4c6f5241))
	scale := cfg.Alpha / float64(cfg.Rank)
	if cfg.RSLoRA {
		scale = cfg.Alpha / math.Sqrt(float64(cfg.Rank))
	}
	type add struct {
		lin  *linear
		part *loraPart
	}
	var adds []add
	for l := range m.blocks {
		for _, t := range cfg.Targets {
			if lins, ok := m.expertLinearsFor(l, strings.TrimSpace(t)); ok {
				if len(lins) == 0 {
					return fmt.Errorf("model: LoRA target %q: layer %d of this %s model has no experts: %w", t, l, m.Config.Arch, format.ErrNotFound)
				}
				for _, lin := range lins {
					if cfg.Rank > min(lin.w.Rows, lin.w.Cols) {
						return fmt.Errorf("model: LoRA rank %d on %q is larger than an expert (%d x %d): %w", cfg.Rank, t, lin.w.Rows, lin.w.Cols, format.ErrShape)
					}
					if len(lin.parts) > 0 {
						return fmt.Errorf("model: LoRA target %q of layer %d is adapted already: %w", t, l, format.ErrExists)
					}
					adds = append(adds, add{lin, &loraPart{out: lin.w.Rows, in: lin.w.Cols, rank: cfg.Rank,
						scale: float32(scale), alpha: cfg.Alpha, rsLoRA: cfg.RSLoRA}})
				}
				continue
			}
			lin, off, out, err := m.target(l, strings.TrimSpace(t))
			if err != nil {
				return err
			}
			if cfg.Rank > min(out, lin.w.Cols) {
				return fmt.Errorf("model: LoRA rank %d on %q is larger than the layer (%d x %d): %w", cfg.Rank, t, out, lin.w.Cols, format.ErrShape)
			}
			for _, p := range lin.parts {
				if p.off < off+out && off < p.off+p.out {
					return fmt.Errorf("model: LoRA target %q of layer %d is adapted already: %w", t, l, format.ErrExists)
				}
			}
			adds = append(adds, add{lin, &loraPart{off: off, out: out, in: lin.w.Cols, rank: cfg.Rank,
				scale: float32(scale), alpha: cfg.Alpha, rsLoRA: cfg.RSLoRA}})
		}
	}
	for _, a := range adds {
		a.lin.parts = append(a.lin.parts, a.part)
		a.lin.dropout = float32(cfg.Dropout)
		a.lin.src = rand.NewPCG(rng.Uint64(), rng.Uint64())
		a.lin.rng = rand.New(a.lin.src)
	}
	m.layoutLoRA()
	for _, a := range adds {
		bound := 1 / math.Sqrt(float64(a.part.in))
		for i := range a.part.a {
			a.part.a[i] = float32((2*rng.Float64() - 1) * bound)
		}
	}
	return nil
}

// layoutLoRA gives every LoRA part its place in one parameter buffer and
// one gradient buffer, keeping the values parts already had.
func (m *Model) layoutLoRA() {
	var parts []*loraPart
	n := 0
	for i := range m.blocks {
		for _, l := range m.blocks[i].linears() {
			for _, p := range l.parts {
				parts = append(parts, p)
				n += p.rank * (p.in + p.out)
			}
		}
	}
	params, grads := make([]float32, n), make([]float32, n)
	off := 0
	for _, p := range parts {
		na, nb := p.rank*p.in, p.out*p.rank
		copy(params[off:off+na], p.a)
		copy(params[off+na:off+na+nb], p.b)
		p.a, p.da = params[off:off+na:off+na], grads[off:off+na:off+na]
		p.b, p.db = params[off+na:off+na+nb:off+na+nb], grads[off+na:off+na+nb:off+na+nb]
		off += na + nb
	}
	m.lora = loraState{params: params, grads: grads, parts: parts}
}

// Params returns the trainable parameters as one flat slice: every LoRA A
// and B, or, when fully fine-tuning, every weight. An optimizer updates it
// in place.
func (m *Model) Params() []float32 {
	if m.opts.FullFineTune {
		return m.params
	}
	return m.lora.params
}

// Grads returns the gradients of Params, in the same layout.
func (m *Model) Grads() []float32 {
	if m.opts.FullFineTune {
		return m.grads
	}
	return m.lora.grads
}

// ZeroGrad clears Grads. Call it before Forward (see Forward).
func (m *Model) ZeroGrad() { clear(m.Grads()) }

// ApplyAdapter attaches a LoRA adapter with llama.cpp's GGUF module names
// ("blk.0.attn_q"; lm.Open names adapters of any layout for the model
// through package resolve, as merge does) at run time, its update
// multiplied by scale, as llama.cpp's runtime LoRA does; stacked-expert
// modules (blk.N.ffn_up_exps) go through ApplyExpertLoRA. Its parts become
// trainable like AddLoRA's.
func (m *Model) ApplyAdapter(a *lora.Adapter, scale float64) error {
	if m.opts.FullFineTune {
		return fmt.Errorf("model: LoRA on a fully fine-tuned model: %w", format.ErrUnsupported)
	}
	if err := a.Validate(); err != nil {
		return err
	}
	type add struct {
		lin *linear
		mod *lora.Module
	}
	var adds []add
	var experts []*lora.Module
	for _, mod := range a.Modules {
		if mod.Experts > 0 {
			as, bs := expertPairs(mod)
			if _, err := m.expertTargets(mod.Name, as, bs, mod.Rank); err != nil {
				return err
			}
			experts = append(experts, mod)
			continue
		}
		lin := m.linear(mod.Name)
		switch {
		case lin == nil:
			return fmt.Errorf("model: adapter module %q: no such projection in this %s model: %w", mod.Name, m.Config.Arch, format.ErrNotFound)
		case mod.Transposed() || mod.Magnitude != nil || mod.Bias != nil:
			return fmt.Errorf("model: adapter module %q: transposed, DoRA or biased LoRA: %w", mod.Name, format.ErrUnsupported)
		case mod.Out != lin.w.Rows || mod.In != lin.w.Cols:
			return fmt.Errorf("model: adapter module %q is (%d,%d), the weight is (%d,%d): %w", mod.Name, mod.Out, mod.In, lin.w.Rows, lin.w.Cols, format.ErrShape)
		case len(lin.parts) > 0:
			return fmt.Errorf("model: adapter module %q: projection adapted already: %w", mod.Name, format.ErrExists)
		}
		adds = append(adds, add{lin, mod})
	}
	for _, ad := range adds {
		mod := ad.mod
		p := &loraPart{off: 0, out: mod.Out, in: mod.In, rank: mod.Rank, alpha: mod.Alpha, rsLoRA: mod.RSLoRA,
			scale: float32(mod.Scale() * scale), a: mod.A, b: mod.B}
		ad.lin.parts = append(ad.lin.parts, p)
	}
	m.layoutLoRA()
	for _, mod := range experts { // checked above: cannot fail
		as, bs := expertPairs(mod)
		if err := m.ApplyExpertLoRA(mod.Name, as, bs, mod.Rank, mod.Scale()*scale); err != nil {
			return err
		}
	}
	return nil
}

// expertPairs splits a stacked module into its experts' A and B.
func expertPairs(mod *lora.Module) (as, bs [][]float32) {
	as, bs = make([][]float32, mod.Experts), make([][]float32, mod.Experts)
	for e := range mod.Experts {
		x := mod.Expert(e)
		as[e], bs[e] = x.A, x.B
	}
	return as, bs
}

// MergeLoRA adds every LoRA update into its base weight, W += s·B·A, and
// removes the LoRA layers: the merged model computes the same outputs with
// no extra latency. Kept-quantized weights that receive an update are
// dequantized to float32 first.
func (m *Model) MergeLoRA() {
	for i := range m.blocks {
		b := &m.blocks[i]
		// a kept-quantized stack is dequantized whole: the experts are views of it
		for which, st := range b.stacks {
			adapted := func(e expert) bool { return len(e.linear(which).parts) > 0 }
			if st != nil && st.F32 == nil && slices.ContainsFunc(b.experts, adapted) {
				b.dequantizeStack(which)
			}
		}
		for _, l := range b.linears() {
			if len(l.parts) == 0 {
				continue
			}
			l.w.Dequantize()
			for _, p := range l.parts {
				// W[off:off+out, :] (out,in) += s · B (out,r) · A (r,in)
				gemm.Sgemm(false, false, p.out, p.in, p.rank, p.scale, p.b, p.rank, p.a, p.in, 1, l.w.F32[p.off*p.in:], p.in)
			}
			l.parts, l.dropout, l.src, l.rng = nil, 0, nil, nil
		}
	}
	m.layoutLoRA()
}

// Adapter returns the model's LoRA layers as an adapter with llama.cpp's
// GGUF module names ("blk.0.attn_q", Arch set), values copied. Callers
// rename and write it with package convert and lora (convert.Adapter,
// lora.WriteGGUF, lora.WritePEFT). A GPT-2 attn_qkv with separate q/k/v
// parts becomes one module blk.N.attn_qkv of rank Σr whose A stacks the
// parts' A and whose B is block-diagonal, zero in the rows of parts that
// were not adapted: the update loralib's MergedLinear merges. Its alpha is
// chosen so the module's scale is the first part's; other parts' scales
// are folded into their rows of B. Expert parts (ApplyExpertLoRA) become
// stacked modules (Experts set) named by their expert tensor.
func (m *Model) Adapter() *lora.Adapter {
	ad := &lora.Adapter{Kind: lora.KindGGUF, Arch: m.Config.Arch, DType: format.F32}
	dropout := 0.0
	for i := range m.blocks {
		for _, l := range m.blocks[i].linears() {
			if len(l.parts) == 0 || l.stacked {
				continue
			}
			dropout = max(dropout, float64(l.dropout))
			in, out := l.w.Cols, l.w.Rows
			if len(l.parts) == 1 && l.parts[0].off == 0 && l.parts[0].out == out {
				p := l.parts[0]
				ad.Modules = append(ad.Modules, &lora.Module{Name: l.name, Rank: p.rank, In: in, Out: out,
					A: append([]float32(nil), p.a...), B: append([]float32(nil), p.b...), Alpha: p.alpha, RSLoRA: p.rsLoRA})
				if float64(p.scale) != (&lora.Module{Rank: p.rank, Alpha: p.alpha, RSLoRA: p.rsLoRA}).Scale() {
					// a runtime adapter with a user scale: fold it into alpha
					mod := ad.Modules[len(ad.Modules)-1]
					mod.Alpha, mod.RSLoRA = float64(p.scale)*float64(p.rank), false
				}
				continue
			}
			R := 0
			for _, p := range l.parts {
				R += p.rank
			}
			s0 := float64(l.parts[0].scale)
			mod := &lora.Module{Name: l.name, Rank: R, In: in, Out: out, A: make([]float32, R*in), B: make([]float32, out*R), Alpha: s0 * float64(R)}
			k := 0
			for _, p := range l.parts {
				copy(mod.A[k*in:], p.a)
				f := float32(float64(p.scale) / s0)
				for r := range p.out {
					for j := range p.rank {
						mod.B[(p.off+r)*R+k+j] = p.b[r*p.rank+j] * f
					}
				}
				k += p.rank
			}
			ad.Modules = append(ad.Modules, mod)
		}
		ad.Modules = append(ad.Modules, m.blocks[i].expertModules()...)
	}
	if err := ad.SyncConfig(); err == nil {
		ad.Config.LoraDropout = dropout
	}
	return ad
}
