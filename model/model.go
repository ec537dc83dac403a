package model

import (
	"fmt"

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

// Model is a GPT-2 or Llama transformer on the CPU. Its float32 weights
// live in one parameter buffer; activations are kept per batch shape for
// the backward pass. A Model is not safe for concurrent use, except that
// Sessions of a model whose weights are not changing may run in parallel.
type Model struct {
	Config Config
	opts   Options

	params []float32 // every float32 weight, in load order
	grads  []float32 // full fine-tuning: same layout as params

	wte, wpe, head *Matrix // token and (gpt2) position embeddings, lm head (wte when tied)
	dwte, dwpe     []float32
	dhead          []float32
	normF, normFb  []float32 // final norm gain and (gpt2) bias
	dnormF         []float32
	dnormFb        []float32
	blocks         []block
	rope           *ropeTable

	lora loraState
	acts *acts

	md      format.Metadata // the Source's, as loaded
	tensors []weight        // every loaded tensor, in load order (Weights)
}

// block is one transformer layer's weights.
type block struct {
	norm1, norm1b, norm2, norm2b     []float32 // norm gains and (gpt2) biases
	dnorm1, dnorm1b, dnorm2, dnorm2b []float32
	qkv                              *linear // gpt2: fused q|k|v
	q, k, v                          *linear // llama
	o, up, gate, down                *linear // gate: llama only
}

// linears lists the block's projections in a fixed order.
func (b *block) linears() []*linear {
	var ls []*linear
	for _, l := range []*linear{b.qkv, b.q, b.k, b.v, b.o, b.gate, b.up, b.down} {
		if l != nil {
			ls = append(ls, l)
		}
	}
	return ls
}

// linear returns the projection with the given GGUF module name, or nil.
func (m *Model) linear(name string) *linear {
	for i := range m.blocks {
		for _, l := range m.blocks[i].linears() {
			if l.name == name {
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
	set      func(w *Matrix, grad []float32)
}

// specs lists the tensors of c's architecture, by llama.cpp's GGUF names.
func (m *Model) specs() []tensorSpec {
	c := m.Config
	C, V := int64(c.Embd), int64(c.Vocab)
	var s []tensorSpec
	vec := func(name string, n int64, optional bool, dst, grad *[]float32) {
		s = append(s, tensorSpec{name: name, shape: []int64{n}, optional: optional, set: func(w *Matrix, g []float32) { *dst, *grad = w.F32, g }})
	}
	mat := func(name string, rows, cols int64, optional bool, set func(*Matrix, []float32)) {
		s = append(s, tensorSpec{name: name, shape: []int64{rows, cols}, optional: optional, matrix: true, set: set})
	}
	lin := func(dst **linear, name string, rows, cols int64) {
		l := &linear{name: name}
		*dst = l
		mat(name+".weight", rows, cols, false, func(w *Matrix, g []float32) { l.w, l.dw = w, g })
		vec(name+".bias", rows, c.Arch == ArchLlama, &l.b, &l.db)
	}
	mat("token_embd.weight", V, C, false, func(w *Matrix, g []float32) { m.wte, m.dwte = w, g })
	if c.Arch == ArchGPT2 {
		// a lookup table added in float32: never kept quantized
		s = append(s, tensorSpec{name: "position_embd.weight", shape: []int64{int64(c.Context), C},
			set: func(w *Matrix, g []float32) { m.wpe, m.dwpe = w, g }})
	}
	m.blocks = make([]block, c.Layers)
	for i := range m.blocks {
		b := &m.blocks[i]
		p := fmt.Sprintf("blk.%d.", i)
		vec(p+"attn_norm.weight", C, false, &b.norm1, &b.dnorm1)
		if c.Arch == ArchGPT2 {
			vec(p+"attn_norm.bias", C, false, &b.norm1b, &b.dnorm1b)
			lin(&b.qkv, p+"attn_qkv", int64(c.QKVDim()), C)
		} else {
			lin(&b.q, p+"attn_q", int64(c.QDim()), C)
			lin(&b.k, p+"attn_k", int64(c.KVDim()), C)
			lin(&b.v, p+"attn_v", int64(c.KVDim()), C)
		}
		lin(&b.o, p+"attn_output", C, int64(c.QDim()))
		vec(p+"ffn_norm.weight", C, false, &b.norm2, &b.dnorm2)
		if c.Arch == ArchGPT2 {
			vec(p+"ffn_norm.bias", C, false, &b.norm2b, &b.dnorm2b)
		} else {
			lin(&b.gate, p+"ffn_gate", int64(c.FF), C)
		}
		lin(&b.up, p+"ffn_up", int64(c.FF), C)
		lin(&b.down, p+"ffn_down", C, int64(c.FF))
	}
	vec("output_norm.weight", C, false, &m.normF, &m.dnormF)
	if c.Arch == ArchGPT2 {
		vec("output_norm.bias", C, false, &m.normFb, &m.dnormFb)
	}
	mat("output.weight", V, C, true, func(w *Matrix, g []float32) { m.head, m.dhead = w, g })
	return s
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
	m := &Model{Config: cfg, opts: opts, md: src.Metadata().Clone()}
	specs := m.specs()
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
		if !p.quant {
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
		} else {
			n := int(rows * cols)
			w.F32 = m.params[p.off : p.off+n : p.off+n]
			if err := format.ToFloat32(w.F32, data, p.info.DType); err != nil {
				return nil, fmt.Errorf("model: tensor %q: %w", p.info.Name, err)
			}
			if m.grads != nil {
				g = m.grads[p.off : p.off+n : p.off+n]
			}
		}
		p.spec.set(w, g)
		m.tensors = append(m.tensors, weight{name: p.info.Name, shape: p.info.Shape, w: w})
	}
	if m.head == nil { // tied lm head
		m.head, m.dhead = m.wte, m.dwte
	}
	if cfg.Arch == ArchLlama {
		m.rope = newRopeTable(cfg.Context, cfg.RopeDims, cfg.RopeBase)
	}
	return m, nil
}

// Options returns the options the model was loaded with.
func (m *Model) Options() Options { return m.opts }
