package model

import (
	"fmt"
	"strings"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
)

// Options choose how Load holds the weights.
type Options struct {
	// KeepQuantized keeps frozen matrices stored in a non-F32 type (Q8_0,
	// Q4_0, Q4_K, F16, BF16, any type format.ToFloat32 decodes) in that
	// type; products dequantize a block of rows at a time. Otherwise every
	// weight is dequantized to float32 on load.
	KeepQuantized bool
	// FullFineTune makes every weight trainable: Params and Grads cover the
	// whole parameter buffer. It implies dequantizing on load and excludes
	// LoRA.
	FullFineTune bool
	// RoundActivations emulates llama.cpp's CPU products with weights kept
	// in a non-F32 type (KeepQuantized): the activations are first rounded
	// through the type's dot-product type (F16, BF16, Q8_0/Q8_1 or Q8_K
	// blocks; actround.go), forward only. Without it such products differ
	// from llama.cpp's by up to ~1e-2 in the logits (Q8_0).
	RoundActivations bool
	// GELUF16Table emulates llama.cpp's CPU GELU (an F16 lookup table,
	// fixtures README quirk 11) in the forward pass, to reproduce its
	// GPT-2 logits more closely. Gradients use the exact derivative.
	GELUF16Table bool
	// LlamaAttention computes the attention of Loss (not Forward, not
	// Session steps) as llama.cpp's CPU flash attention does with an F16
	// KV cache (attention_f16.go), to reproduce llama-imatrix's
	// activations closely.
	LlamaAttention bool
}

// Model is a transformer on the CPU, assembled from its architecture's
// recipe (package arch): GPT-2, Llama (Llama 3.1 RoPE factors, Mixtral
// experts included), Qwen2, Qwen3, Qwen3-MoE, Gemma 2, Gemma 3, Phi-3. Its float32 weights live in one
// parameter buffer; activations are kept per batch shape for the backward
// pass. A Model is not safe for concurrent use, except that Sessions of a
// model whose weights are not changing may run in parallel.
type Model struct {
	Config Config
	opts   Options

	params []float32 // every float32 weight, in load order
	grads  []float32 // full fine-tuning: same layout as params

	wte, wpe, head *Matrix // token and (gpt2) position embeddings, lm head (wte when tied)
	dwte, dwpe     []float32
	dhead          []float32
	normF, normFb  []float32 // final norm gain and (LayerNorm) bias
	dnormF         []float32
	dnormFb        []float32
	ropeFreqs      []float32 // rope_freqs.weight (frozen), or nil
	blocks         []block

	lora loraState
	acts *acts

	md      format.Metadata // the Source's, as loaded
	tensors []weight        // every loaded tensor, in load order (Weights)
}

// block is one transformer layer's weights and its per-layer options.
type block struct {
	norm1, norm1b, norm2, norm2b     []float32 // norm gains and (LayerNorm) biases
	dnorm1, dnorm1b, dnorm2, dnorm2b []float32
	qkv                              *linear   // fused q|k|v, or nil
	q, k, v                          *linear   // separate projections, or nil
	qNorm, kNorm, dqNorm, dkNorm     []float32 // per-head q/k RMSNorm gains (HeadDim)
	postAttn, postFFN                []float32 // post-attention and post-FFN norm gains
	dpostAttn, dpostFFN              []float32
	o, up, gate, down                *linear // gate nil for a plain or fused gate|up MLP
	swa                              bool    // sliding-window layer
	rope                             *ropeTable

	// mixture of experts (instead of gate, up, down)
	router  *linear    // ffn_gate_inp (Experts, C)
	experts []expert   // views of the stacked expert tensors
	stacks  [3]*Matrix // ffn_gate_exps, ffn_up_exps, ffn_down_exps as loaded
}

// expert is one expert's gated MLP: rows of the stacked tensors.
type expert struct{ gate, up, down *linear }

// linears lists the block's projections in a fixed order.
func (b *block) linears() []*linear {
	var ls []*linear
	for _, l := range []*linear{b.qkv, b.q, b.k, b.v, b.o, b.gate, b.up, b.down, b.router} {
		if l != nil {
			ls = append(ls, l)
		}
	}
	for _, e := range b.experts {
		ls = append(ls, e.gate, e.up, e.down)
	}
	return ls
}

// setExperts makes the experts' projections views of the stacked tensors
// (and of their gradients when fully fine-tuning).
func (b *block) setExperts(name string, which int, w *Matrix, g []float32) {
	b.stacks[which] = w
	n := len(b.experts)
	rows := w.Rows / n
	for e := range b.experts {
		l := &linear{name: name, stacked: true, expert: e, w: w.rowBlock(e*rows, (e+1)*rows)}
		if g != nil {
			l.dw = g[e*rows*w.Cols : (e+1)*rows*w.Cols]
		}
		switch which {
		case 0:
			b.experts[e].gate = l
		case 1:
			b.experts[e].up = l
		default:
			b.experts[e].down = l
		}
	}
}

// linear returns the projection with the given GGUF module name, or nil
// (experts of a stacked tensor are not single projections).
func (m *Model) linear(name string) *linear {
	for i := range m.blocks {
		for _, l := range m.blocks[i].linears() {
			if l.name == name && !l.stacked {
				return l
			}
		}
	}
	return nil
}

// tensorSpec is one tensor Load expects.
type tensorSpec struct {
	name     string
	shape    []int64
	optional bool
	matrix   bool // a 2-D weight that may stay quantized
	frozen   bool // a constant (rope_freqs): kept out of the parameters
	set      func(w *Matrix, grad []float32)
}

// specs lists the tensors of the model's recipe, by llama.cpp's GGUF names;
// has tells which tensors the file holds (for layouts the file chooses).
func (m *Model) specs(has func(string) bool) []tensorSpec {
	c := m.Config
	r := c.Recipe
	C, V := int64(c.Embd), int64(c.Vocab)
	var s []tensorSpec
	vec := func(name string, n int64, optional bool, dst, grad *[]float32) {
		s = append(s, tensorSpec{name: name, shape: []int64{n}, optional: optional, set: func(w *Matrix, g []float32) { *dst, *grad = w.F32, g }})
	}
	mat := func(name string, rows, cols int64, optional bool, set func(*Matrix, []float32)) {
		s = append(s, tensorSpec{name: name, shape: []int64{rows, cols}, optional: optional, matrix: true, set: set})
	}
	lin := func(dst **linear, name string, rows, cols int64, bias arch.Presence) {
		l := &linear{name: name}
		*dst = l
		mat(name+".weight", rows, cols, false, func(w *Matrix, g []float32) { l.w, l.dw = w, g })
		if bias != arch.Never {
			vec(name+".bias", rows, bias == arch.MayHave, &l.b, &l.db)
		}
	}
	norm := func(name string, w, b, dw, db *[]float32) {
		vec(name+".weight", C, false, w, dw)
		if r.Norm == arch.LayerNorm {
			vec(name+".bias", C, false, b, db)
		}
	}
	if r.RopeFreqs != arch.Never {
		s = append(s, tensorSpec{name: "rope_freqs.weight", shape: []int64{int64(c.RopeDims / 2)}, optional: r.RopeFreqs == arch.MayHave,
			frozen: true, set: func(w *Matrix, _ []float32) { m.ropeFreqs = w.F32 }})
	}
	mat("token_embd.weight", V, C, false, func(w *Matrix, g []float32) { m.wte, m.dwte = w, g })
	if r.PosEmbd {
		// a lookup table added in float32: never kept quantized
		s = append(s, tensorSpec{name: "position_embd.weight", shape: []int64{int64(c.Context), C},
			set: func(w *Matrix, g []float32) { m.wpe, m.dwpe = w, g }})
	}
	FF, ffw := int64(c.FF), int64(c.ffWidth())
	m.blocks = make([]block, c.Layers)
	for i := range m.blocks {
		b := &m.blocks[i]
		b.swa = c.SWALayers[i]
		p := fmt.Sprintf("blk.%d.", i)
		norm(p+"attn_norm", &b.norm1, &b.norm1b, &b.dnorm1, &b.dnorm1b)
		if r.FusedQKV == arch.MustHave || (r.FusedQKV == arch.MayHave && has(p+"attn_qkv.weight")) {
			lin(&b.qkv, p+"attn_qkv", int64(c.QKVDim()), C, r.QKVBias)
		} else {
			lin(&b.q, p+"attn_q", int64(c.QDim()), C, r.QKVBias)
			lin(&b.k, p+"attn_k", int64(c.KVDim()), C, r.QKVBias)
			lin(&b.v, p+"attn_v", int64(c.KVDim()), C, r.QKVBias)
		}
		if r.QKNorm {
			hd := int64(c.HeadDim)
			vec(p+"attn_q_norm.weight", hd, false, &b.qNorm, &b.dqNorm)
			vec(p+"attn_k_norm.weight", hd, false, &b.kNorm, &b.dkNorm)
		}
		lin(&b.o, p+"attn_output", C, int64(c.QDim()), r.OutBias)
		if r.PostNorms {
			vec(p+"post_attention_norm.weight", C, false, &b.postAttn, &b.dpostAttn)
		}
		norm(p+"ffn_norm", &b.norm2, &b.norm2b, &b.dnorm2, &b.dnorm2b)
		switch {
		case c.Experts > 0:
			E, EF := int64(c.Experts), int64(c.ExpertFF)
			lin(&b.router, p+"ffn_gate_inp", E, C, arch.Never)
			b.experts = make([]expert, c.Experts)
			for which, t := range []struct {
				name       string
				rows, cols int64
			}{{"ffn_gate_exps", EF, C}, {"ffn_up_exps", EF, C}, {"ffn_down_exps", C, EF}} {
				s = append(s, tensorSpec{name: p + t.name + ".weight", shape: []int64{E, t.rows, t.cols}, matrix: true,
					set: func(w *Matrix, g []float32) { b.setExperts(p+t.name, which, w, g) }})
			}
		default:
			if r.MLP == arch.MLPGated && !r.FusedGateUp {
				lin(&b.gate, p+"ffn_gate", FF, C, r.FFNBias)
			}
			lin(&b.up, p+"ffn_up", ffw, C, r.FFNBias)
			lin(&b.down, p+"ffn_down", C, FF, r.FFNBias)
		}
		if r.PostNorms {
			vec(p+"post_ffw_norm.weight", C, false, &b.postFFN, &b.dpostFFN)
		}
	}
	norm("output_norm", &m.normF, &m.normFb, &m.dnormF, &m.dnormFb)
	if r.OutputTied != arch.Never {
		mat("output.weight", V, C, true, func(w *Matrix, g []float32) { m.head, m.dhead = w, g })
	}
	return s
}

// unknownTensor refuses a tensor of the file that the recipe has no place
// for, listing the names it knows (per layer as blk.N.).
func (m *Model) unknownTensor(name string, specs []tensorSpec) error {
	var known []string
	seen := map[string]bool{}
	for _, sp := range specs {
		n := sp.name
		if rest, ok := strings.CutPrefix(n, "blk."); ok {
			if _, after, ok := strings.Cut(rest, "."); ok {
				n = "blk.N." + after
			}
		}
		if !seen[n] {
			seen[n] = true
			known = append(known, n)
		}
	}
	return fmt.Errorf("model: tensor %q has no place in a %s model (it has %s): %w",
		name, m.Config.Arch, strings.Join(known, ", "), format.ErrUnsupported)
}

// Load builds a model from any Source with llama.cpp's GGUF tensor names
// and metadata: a GGUF file (format/gguf), a llama2.c checkpoint
// (format/llama2c) or a Hugging Face directory through
// convert.OpenHF(dir, "").GGUFSource(). Every weight is copied out of src,
// which the caller may close afterwards. Missing tensors wrap
// format.ErrNotFound, wrong shapes format.ErrShape, an unknown architecture
// or element type format.ErrUnsupported.
func Load(src format.Source, opts Options) (*Model, error) {
	cfg, err := configFrom(src)
	if err != nil {
		return nil, err
	}
	if opts.FullFineTune {
		opts.KeepQuantized = false
	}
	if cfg.Layers > len(src.Tensors()) { // before anything is sized by the count
		return nil, fmt.Errorf("model: block_count %d, but the file has %d tensors: %w", cfg.Layers, len(src.Tensors()), format.ErrFormat)
	}
	m := &Model{Config: cfg, opts: opts, md: src.Metadata().Clone()}
	has := func(name string) bool { _, ok := format.TensorIndex(src.Tensors(), name); return ok }
	specs := m.specs(has)
	wanted := make(map[string]bool, len(specs))
	for _, sp := range specs {
		wanted[sp.name] = true
	}
	for _, t := range src.Tensors() {
		if !wanted[t.Name] {
			return nil, m.unknownTensor(t.Name, specs)
		}
	}
	type planned struct {
		spec  tensorSpec
		info  format.TensorInfo
		quant bool
		off   int
	}
	var plan []planned
	total := 0
	for _, sp := range specs {
		info, ok := format.TensorIndex(src.Tensors(), sp.name)
		if !ok {
			if sp.optional {
				continue
			}
			return nil, fmt.Errorf("model: tensor %q: %w", sp.name, format.ErrNotFound)
		}
		if !format.SameShape(info.Shape, sp.shape) {
			return nil, fmt.Errorf("model: tensor %q has shape %v, want %v: %w", sp.name, info.Shape, sp.shape, format.ErrShape)
		}
		if !format.CanDecode(info.DType) || !(info.DType.IsFloat() || info.DType.IsBlock()) {
			return nil, fmt.Errorf("model: tensor %q: element type %v: %w", sp.name, info.DType, format.ErrUnsupported)
		}
		p := planned{spec: sp, info: info, off: total}
		p.quant = sp.matrix && opts.KeepQuantized && info.DType != format.F32
		if !p.quant && !sp.frozen {
			n, _ := info.NumElements()
			total += int(n)
		}
		plan = append(plan, p)
	}
	m.params = make([]float32, total)
	if opts.FullFineTune {
		m.grads = make([]float32, total)
	}
	for _, p := range plan {
		data, err := src.TensorData(p.info.Name)
		if err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
		rows, cols := p.info.Rows()
		w := &Matrix{Rows: int(rows), Cols: int(cols), DType: format.F32}
		var g []float32
		if p.quant {
			rb, err := p.info.DType.RowBytes(cols)
			if err != nil || int64(len(data)) != rb*rows {
				return nil, fmt.Errorf("model: tensor %q: %d bytes for %v rows of %d: %w", p.info.Name, len(data), p.info.DType, cols, format.ErrFormat)
			}
			w.DType, w.raw, w.rowBytes = p.info.DType, append([]byte(nil), data...), int(rb)
			if opts.RoundActivations {
				w.actRound = actRoundingFor(p.info.DType)
			}
		} else {
			n := int(rows * cols)
			if p.spec.frozen {
				w.F32 = make([]float32, n)
			} else {
				w.F32 = m.params[p.off : p.off+n : p.off+n]
			}
			if err := format.ToFloat32(w.F32, data, p.info.DType); err != nil {
				return nil, fmt.Errorf("model: tensor %q: %w", p.info.Name, err)
			}
			if m.grads != nil && !p.spec.frozen {
				g = m.grads[p.off : p.off+n : p.off+n]
			}
		}
		p.spec.set(w, g)
		m.tensors = append(m.tensors, weight{name: p.info.Name, shape: p.info.Shape, w: w})
	}
	if m.head == nil { // tied lm head
		m.head, m.dhead = m.wte, m.dwte
	}
	if err := m.buildRope(); err != nil {
		return nil, err
	}
	return m, nil
}

// Options returns the options the model was loaded with.
func (m *Model) Options() Options { return m.opts }
